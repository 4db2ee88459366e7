package layout

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/mjcf"
)

// TestPlaceMuJoCoAttach places a model that attaches models (MuJoCo 3's
// <model> assets and <attach>), one of them attaching a third from its own
// folder with its own meshdir, and a modular procedural robot: the models
// land beside the main file, their paths and compiler folders rewritten,
// and the placed scene validates and loads in MuJoCo 3.3.8.
func TestPlaceMuJoCoAttach(t *testing.T) {
	src := t.TempDir()
	stl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "meshes", "tetra.stl"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"robot.xml": `<mujoco model="robot">
  <asset><model name="mid" file="parts/mid.xml"/></asset>
  <worldbody>
    <body name="base"><geom type="box" size=".1 .1 .1"/>
      <attach model="mid" body="mid" prefix="m_"/>
    </body>
  </worldbody>
  <sensor><actuatorpos actuator="m_l_motor"/></sensor>
</mujoco>
`,
		"parts/mid.xml": `<mujoco model="mid">
  <compiler meshdir="meshes"/>
  <asset><mesh file="tetra.stl"/><model name="leaf" file="leaf/leaf.xml"/></asset>
  <worldbody>
    <body name="mid"><joint name="j"/><geom type="mesh" mesh="tetra"/>
      <attach model="leaf" body="leaf" prefix="l_"/>
    </body>
  </worldbody>
</mujoco>
`,
		"parts/leaf/leaf.xml": `<mujoco model="leaf">
  <worldbody><body name="leaf"><joint name="k"/><geom size=".05"/></body></worldbody>
  <actuator><motor name="motor" joint="k"/></actuator>
</mujoco>
`,
	}
	for name, text := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(src, "parts", "meshes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "parts", "meshes", "tetra.stl"), stl, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := mjcf.Check(filepath.Join(src, "robot.xml"), validate.Options{}); len(r.Errors) > 0 {
		t.Fatalf("the source model has errors: %v", r.Errors)
	}

	dir := t.TempDir()
	tg := Target{Dir: dir, Layout: MuJoCo}
	var scenes []string
	for _, a := range []Asset{
		{ID: "attach", Name: "Attach", Slug: "attach", Sources: []Source{{Format: formats.MuJoCo, Hash: "h", Tree: src, Model: "robot.xml"}}},
		{ID: "ast_mod", Name: "Rover", Slug: "rover", Sources: []Source{procgenSource(t, "ast_mod", "Rover", "a modular mobile base", formats.MuJoCo)}},
	} {
		placed, err := tg.Place(a)
		if err != nil {
			t.Fatal(err)
		}
		folder := filepath.Join(dir, placed.Slug)
		scene := filepath.Join(folder, placed.Models[0].Scene)
		scenes = append(scenes, scene)
		r := mjcf.Check(scene, validate.Options{})
		if len(r.Errors)+len(r.Warnings) > 0 {
			t.Errorf("%s: placed scene: errors %v, warnings %v", a.Slug, r.Errors, r.Warnings)
		}
		inc, err := mjcf.Includes(scene, validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range inc {
			if filepath.Dir(f) != folder {
				t.Errorf("%s: %s is not beside the model", a.Slug, f)
			}
		}
	}
	mid, err := os.ReadFile(filepath.Join(dir, "attach", "mid.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`meshdir="assets"`, `file="leaf.xml"`} {
		if !strings.Contains(string(mid), want) {
			t.Errorf("placed mid.xml lacks %s:\n%s", want, mid)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "attach", "assets", "tetra.stl")); err != nil {
		t.Error(err)
	}
	if reftest.Have(t, reference.ToolMuJoCo3) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		vs, err := reference.MuJoCo3Batch(ctx, scenes)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vs {
			if !v.Accepted {
				t.Errorf("MuJoCo 3 rejects the placed %s: %s", scenes[i], v.First())
			}
		}
	}
}
