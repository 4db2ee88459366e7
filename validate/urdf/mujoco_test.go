package urdf

import (
	"context"
	"testing"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/validate"
)

// TestMuJoCoTarget checks --target mujoco against MuJoCo 3.3.8 reading the
// corpus URDFs: every file MuJoCo refuses gets at least one error. The other
// direction is not asked: the target adds MuJoCo's checks to urdfdom's, so
// files urdfdom refuses stay errors even where MuJoCo is lenient.
func TestMuJoCoTarget(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo3)
	files := corpusURDFs(t)
	vs, err := reference.MuJoCo3Batch(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	refused, caught := 0, 0
	for i, f := range files {
		if vs[i].Accepted {
			continue
		}
		refused++
		r := Check(f, validate.Options{Target: validate.TargetMuJoCo})
		if len(r.Errors) == 0 {
			t.Errorf("%s: MuJoCo refuses it (%s), gizmo --target mujoco reports no error", f, vs[i].First())
			continue
		}
		caught++
	}
	t.Logf("MuJoCo 3.3.8 refuses %d of %d corpus URDFs; gizmo --target mujoco reports errors on %d of them", refused, len(files), caught)
}
