package mjcf

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/reference"
)

func TestProbe(t *testing.T) {
	env := os.Getenv("PROBE")
	if env == "" {
		t.Skip()
	}
	paths := strings.Fields(env)
	vs, err := reference.MuJoCo3Batch(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		r := Check(p, validate.Options{})
		mark := "AGREE"
		if vs[i].Accepted != (len(r.Errors) == 0) {
			mark = "DIFF "
		}
		t.Logf("%s %s mujoco=%v %q", mark, p, vs[i].Accepted, vs[i].First())
		for _, e := range r.Errors {
			t.Logf("      gizmo: %s", e)
		}
	}
}
