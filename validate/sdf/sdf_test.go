package sdf

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/antimlabs/gizmo/formats/procgen"
	"github.com/antimlabs/gizmo/validate"
)

func TestCheck(t *testing.T) {
	good := string(procgen.Generate("ast_sdf", "arm", "A 6-DOF arm").SDF())
	for _, tc := range []struct {
		name  string
		body  string
		files []string // beside the model
		rule  string   // the first error's rule; "" for a valid file
		line  int
	}{
		{"procgen arm with its meshes", good, []string{"meshes/base_link.stl", "meshes/link1.stl", "meshes/link4.stl"}, "", 0},
		{"procgen arm without its meshes", good, nil, "sdf-mesh-missing", 0},
		{"broken xml", "<sdf version=\"1.9\">\n<model name=\"m\">\n</sdf>\n", nil, "sdf-xml", 3},
		{"other root", "<robot name=\"r\"/>", nil, "sdf-root", 1},
		{"nothing to load", "<sdf version=\"1.9\"><foo/></sdf>", nil, "sdf-empty", 0},
		{"empty mesh uri", "<sdf version=\"1.9\">\n<model name=\"m\"><link name=\"l\"><visual name=\"v\"><geometry><mesh><uri></uri></mesh></geometry></visual></link></model></sdf>", nil, "sdf-mesh-uri", 0},
		{"model:// uri", "<sdf version=\"1.9\"><model name=\"m\"><link name=\"l\"><visual name=\"v\"><geometry><mesh><uri>model://x/y.dae</uri></mesh></geometry></visual></link></model></sdf>", nil, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "model.sdf")
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.files {
				os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
				os.WriteFile(filepath.Join(dir, f), []byte("solid x\nendsolid x\n"), 0o644)
			}
			r := Check(p, validate.Options{})
			if tc.rule == "" {
				if !r.Valid || len(r.Errors) > 0 {
					t.Fatalf("want valid, got %+v", r.Errors)
				}
				return
			}
			if r.Valid || len(r.Errors) == 0 || r.Errors[0].Rule != tc.rule {
				t.Fatalf("want %s, got valid=%v %+v", tc.rule, r.Valid, r.Errors)
			}
			if tc.line > 0 && r.Errors[0].Line != tc.line {
				t.Errorf("line %d, want %d", r.Errors[0].Line, tc.line)
			}
			if r.Errors[0].File != p {
				t.Errorf("file %q", r.Errors[0].File)
			}
		})
	}
}
