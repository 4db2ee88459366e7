package layout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/formats"
)

// TestURDFMeshURIs: package://, file://, absolute and relative mesh URIs
// all become paths relative to the placed URDF, under meshes/; a URI naming
// a file the export lacks is an error naming the URDF's line.
func TestURDFMeshURIs(t *testing.T) {
	tree := t.TempDir()
	files := map[string]string{
		"robot/package.xml":        "<package><name>my_robot</name></package>",
		"robot/meshes/a.stl":       "solid a\nendsolid a\n",
		"robot/meshes/sub/b.stl":   "solid b\nendsolid b\n",
		"robot/meshes/c.obj":       "mtllib c.mtl\nv 0 0 0\n",
		"robot/meshes/c.mtl":       "newmtl m\nmap_Kd tex/c.png\n",
		"robot/meshes/tex/c.png":   "png",
		"robot/textures/skin.png":  "png",
		"robot/urdf/other.stl":     "solid o\nendsolid o\n",
		"robot/urdf/robot.urdf":    "",
		"robot/meshes/unused.stl":  "solid u\nendsolid u\n",
		"robot/meshes/d with .stl": "solid d\nendsolid d\n",
	}
	files["robot/urdf/robot.urdf"] = `<robot name="r">
  <material name="skin"><texture filename="package://my_robot/textures/skin.png"/></material>
  <link name="l1"><visual><geometry><mesh filename="package://my_robot/meshes/a.stl"/></geometry></visual></link>
  <link name="l2"><visual><geometry><mesh filename="file:///home/someone/ws/src/robot/meshes/sub/b.stl"/></geometry></visual></link>
  <link name="l3"><collision><geometry><mesh filename="/opt/ros/share/my_robot/meshes/c.obj"/></geometry></collision></link>
  <link name="l4"><visual><geometry><mesh filename="other.stl"/></geometry></visual></link>
  <link name="l5"><visual><geometry><mesh filename="../meshes/d with .stl"/></geometry></visual></link>
</robot>
`
	for p, c := range files {
		fp := filepath.Join(tree, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(fp), 0o755)
		if err := os.WriteFile(fp, []byte(c), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	tg := Target{Dir: dir, Layout: Isaac}
	placed, err := tg.Place(Asset{ID: "a", Name: "R", Slug: "r", Sources: []Source{{Format: formats.IsaacURDF, Hash: "h", Tree: tree, Model: "robot/urdf/robot.urdf"}}})
	if err != nil {
		t.Fatal(err)
	}
	urdf := filepath.Join(dir, "r", placed.Models[0].Path)
	doc := etree.NewDocument()
	if err := doc.ReadFromFile(urdf); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, el := range doc.FindElements("//*[@filename]") {
		fn := el.SelectAttrValue("filename", "")
		if !strings.HasPrefix(fn, "meshes/") || strings.Contains(fn, "://") || strings.Contains(fn, "..") {
			t.Errorf("URI %q not rewritten", fn)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(urdf), fn)); err != nil {
			t.Errorf("%q does not resolve: %v", fn, err)
		}
		n++
	}
	if n != 6 {
		t.Errorf("%d URIs, want 6", n)
	}
	// The OBJ's material library and its map came along; the unused mesh did not.
	have := map[string]bool{}
	for _, f := range placed.Files {
		have[f.Path] = true
	}
	for _, want := range []string{"urdf/meshes/meshes/c.mtl", "urdf/meshes/meshes/tex/c.png"} {
		if !have[want] {
			t.Errorf("%s not placed (have %v)", want, placed.Files)
		}
	}
	for p := range have {
		if strings.Contains(p, "unused") {
			t.Errorf("unreferenced %s placed", p)
		}
	}

	// A mesh the export lacks: the error names the file and line.
	bad := strings.Replace(files["robot/urdf/robot.urdf"], "other.stl", "missing.stl", 1)
	os.Chmod(filepath.Join(tree, "robot/urdf/robot.urdf"), 0o644)
	os.WriteFile(filepath.Join(tree, "robot/urdf/robot.urdf"), []byte(bad), 0o444)
	_, err = tg.Place(Asset{ID: "a", Name: "R", Slug: "r", Sources: []Source{{Format: formats.IsaacURDF, Hash: "h2", Tree: tree, Model: "robot/urdf/robot.urdf"}}})
	if err == nil || !strings.Contains(err.Error(), "robot/urdf/robot.urdf:6:") || !strings.Contains(err.Error(), "missing.stl") {
		t.Errorf("missing mesh: %v", err)
	}
	// The failed placement left the placed version alone.
	if p := tg.Check(placed, true); len(p) != 0 {
		t.Errorf("a failed placement disturbed the placed version: %v", p)
	}
}
