package validate_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/check"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenText pins the human output of gizmo validate (validate.WriteText
// over check.Path) for the URDF conformance variants: every rule's
// message, position and rule id. Run with -update to rewrite, then rerun to
// check it is stable.
func TestGoldenText(t *testing.T) {
	tests := []struct {
		golden string
		opts   validate.Options
	}{
		{"urdf_variants.golden", validate.Options{}},
		{"urdf_variants_strict.golden", validate.Options{Strict: true}},
		{"urdf_variants_mujoco.golden", validate.Options{Target: validate.TargetMuJoCo}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			reports, err := check.Path(context.Background(), filepath.Join("urdf", "testdata", "conformance"), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := validate.WriteText(&buf, reports, false); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (run go test -update and review the diff):\n%s", path, buf.String())
			}
		})
	}
}

func TestSummary(t *testing.T) {
	e := validate.Problem{Severity: validate.Error, Rule: "r", Message: "m", File: "f"}
	w := e
	w.Severity = validate.Warning
	tests := []struct {
		reports []validate.Report
		want    string
	}{
		{nil, "0 files: no errors, 0 warnings"},
		{[]validate.Report{{Warnings: []validate.Problem{w}}}, "1 file: no errors, 1 warning"},
		{[]validate.Report{{Errors: []validate.Problem{e, e}}, {Warnings: []validate.Problem{w}}, {}}, "3 files: 1 with errors (2 errors), 1 warning"},
	}
	for _, tt := range tests {
		if got := validate.Summarize(tt.reports).String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
