package usd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		content    string
		files      []string // created next to the layer
		format     formats.Kind
		errLines   []int // lines of the errors, in order
		notChecked int
		warnings   int
	}{
		{
			name:    "all assets present",
			content: "#usda 1.0\n(\n  subLayers = [@./sub.usda@]\n)\ndef Xform \"r\" (\n  references = @meshes/arm.usd@</arm>\n)\n{\n  asset tex = @@@textures/a@b.png@@@\n}\n",
			files:   []string{"sub.usda", "meshes/arm.usd", "textures/a@b.png"},
			format:  formats.KindUSDA,
		},
		{
			name:     "missing reference and texture",
			content:  "#usda 1.0\ndef Xform \"r\" (\n  references = @missing.usd@\n)\n{\n  asset tex = @tex/none.png@\n}\n",
			format:   formats.KindUSDA,
			errLines: []int{3, 6},
		},
		{
			name:    "asset-like text in comments and strings is ignored",
			content: "#usda 1.0\n# see @nope.usd@\ndef Xform \"r\" {\n  string doc = \"mail me @ home @ noon\"\n  string long = \"\"\"\n  @also_not.usd@\n  \"\"\"\n}\n",
			format:  formats.KindUSDA,
		},
		{
			name:       "remote and templated paths are not checked",
			content:    "#usda 1.0\ndef \"r\" (references = [@omniverse://server/a.usd@, @`\"${ROOT}/b.usd\"`@]) {}\n",
			format:     formats.KindUSDA,
			notChecked: 2,
		},
		{
			name:    "udim tiles and package paths",
			content: "#usda 1.0\ndef \"r\" { asset t = @tex/skin.<UDIM>.png@\n asset p = @pkg.usdz[inner.png]@ }\n",
			files:   []string{"tex/skin.1001.png", "pkg.usdz"},
			format:  formats.KindUSDA,
		},
		{
			name:     "udim without tiles",
			content:  "#usda 1.0\ndef \"r\" { asset t = @tex/none.<UDIM>.png@ }\n",
			format:   formats.KindUSDA,
			errLines: []int{2},
		},
		{
			name:     "unterminated asset path",
			content:  "#usda 1.0\ndef \"r\" { asset t = @open.png\n}\n",
			format:   formats.KindUSDA,
			errLines: []int{2},
		},
		{
			name:     "unterminated triple asset path",
			content:  "#usda 1.0\ndef \"r\" { asset t = @@@open.png\n}\n",
			format:   formats.KindUSDA,
			errLines: []int{2},
		},
		{
			name:     "other version warns",
			content:  "#usda 2.0\n",
			format:   formats.KindUSDA,
			warnings: 1,
		},
		{
			name:       "binary crate",
			content:    "PXR-USDC\x00\x00\x00\x08rest of crate @missing.usd@",
			format:     formats.KindUSDC,
			notChecked: 1,
		},
		{
			name:     "not usd",
			content:  "<mujoco/>",
			errLines: []int{1},
		},
		{
			name:     "empty file",
			content:  "",
			errLines: []int{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				write(t, dir, f, "x")
			}
			p := write(t, dir, "model.usda", tt.content)
			r := Check(p, validate.Options{})
			if r.Format != tt.format {
				t.Errorf("format %q, want %q", r.Format, tt.format)
			}
			var lines []int
			for _, e := range r.Errors {
				lines = append(lines, e.Line)
				if e.File != p {
					t.Errorf("problem names file %q, want %q", e.File, p)
				}
			}
			if len(lines) != len(tt.errLines) {
				t.Fatalf("errors %v, want on lines %v", r.Errors, tt.errLines)
			}
			for i := range lines {
				if lines[i] != tt.errLines[i] {
					t.Errorf("error %d on line %d, want %d: %v", i, lines[i], tt.errLines[i], r.Errors[i])
				}
			}
			if len(r.NotChecked) != tt.notChecked {
				t.Errorf("not checked %q, want %d entries", r.NotChecked, tt.notChecked)
			}
			if len(r.Warnings) != tt.warnings {
				t.Errorf("warnings %v, want %d", r.Warnings, tt.warnings)
			}
			if r.Valid != (len(tt.errLines) == 0) {
				t.Errorf("valid = %v with errors %v", r.Valid, r.Errors)
			}
		})
	}
}

func TestStrictPromotesWarnings(t *testing.T) {
	p := write(t, t.TempDir(), "a.usda", "#usda 2.0\n")
	r := Check(p, validate.Options{Strict: true})
	if r.Valid || len(r.Errors) != 1 || len(r.Warnings) != 0 {
		t.Fatalf("strict report %+v, want the version warning as an error", r)
	}
}

func TestMissingFile(t *testing.T) {
	r := Check(filepath.Join(t.TempDir(), "none.usda"), validate.Options{})
	if r.Valid || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "cannot read") {
		t.Fatalf("report %+v, want one read error", r)
	}
}

func FuzzCheckBytes(f *testing.F) {
	f.Add([]byte("#usda 1.0\ndef \"r\" (references = @a.usd@) {}\n"))
	f.Add([]byte("#usda 1.0\n@@@x\\@@@y@@@@ \"\"\"s\"\"\" 'q' # c\n"))
	f.Add([]byte("PXR-USDC"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		r := CheckBytes(filepath.Join(dir, "f.usda"), data, validate.Options{})
		if r.Valid != (len(r.Errors) == 0) {
			t.Fatalf("Valid %v with %d errors", r.Valid, len(r.Errors))
		}
	})
}
