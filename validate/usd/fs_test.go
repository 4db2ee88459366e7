package usd

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/validate"
)

// TestCheckThroughOverlay checks a layer and its assets from a zip shown by
// archive.Overlay (its folder not on disk) and after extracting it: the
// reports must be the same, except that tile patterns, which need a folder
// listing, are not checked through an FS.
func TestCheckThroughOverlay(t *testing.T) {
	layer := "#usda 1.0\n(\n  subLayers = [@./sub.usda@]\n)\ndef Xform \"r\" (\n  references = @meshes/arm.usd@</arm>\n)\n{\n  asset tex = @textures/missing.png@\n}\n"
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"assets present and missing", map[string]string{"robot.usda": layer, "sub.usda": "#usda 1.0\n", "meshes/arm.usd": "x"}},
		{"asset is a folder", map[string]string{"robot.usda": layer, "sub.usda/x": "x", "meshes/arm.usd": "x"}},
		{"layer missing", map[string]string{"other.usda": layer}},
		{"not a layer", map[string]string{"robot.usda": "hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for name, body := range tt.files {
				w, err := zw.Create(name)
				if err != nil {
					t.Fatal(err)
				}
				w.Write([]byte(body))
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			z := buf.Bytes()
			root := filepath.Join(t.TempDir(), "tree")
			if _, err := archive.Extract(bytes.NewReader(z), int64(len(z)), "usd.zip", root, archive.DefaultLimits); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, "robot.usda")
			want, _ := json.Marshal(Check(path, validate.Options{}))
			if err := os.RemoveAll(root); err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(Check(path, validate.Options{FS: archive.NewOverlay(root, zr)}))
			if string(got) != string(want) {
				t.Errorf("through the overlay:\n%s\nafter extraction:\n%s", got, want)
			}
		})
	}
}

// TestTilePatternThroughFS: a <UDIM> pattern is not checked through an FS.
func TestTilePatternThroughFS(t *testing.T) {
	root := filepath.Join(t.TempDir(), "tree")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("robot.usda")
	w.Write([]byte("#usda 1.0\ndef Xform \"r\"\n{\n  asset tex = @tex.<UDIM>.png@\n}\n"))
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	r := Check(filepath.Join(root, "robot.usda"), validate.Options{FS: archive.NewOverlay(root, zr)})
	if len(r.Errors) != 0 || len(r.NotChecked) != 1 || !strings.Contains(r.NotChecked[0], "tile pattern") {
		t.Errorf("want the tile pattern listed as not checked, got %+v", r)
	}
}
