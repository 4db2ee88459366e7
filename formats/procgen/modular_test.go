package procgen

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/mjcf"
)

// TestModularValidates runs gizmo's MJCF checker over modular exports: no
// error or warning, the wheel module in the model's file closure, and the
// kinematic tree it expands (attached wheels, replicated casters) naming
// every link and moving joint of the model. TestAcceptMuJoCo3 loads the
// same exports in MuJoCo 3.3.8.
func TestModularValidates(t *testing.T) {
	dir := t.TempDir()
	for _, id := range sampleIDs {
		r := Generate(id, "Modular rover", "a modular mobile base with lidar")
		if !r.Modular() || r.Kind() != KindMobileBase {
			t.Fatalf("%s: kind %s, modular %v", id, r.Kind(), r.Modular())
		}
		p := exportTo(t, r, formats.MuJoCo, dir)
		rep := mjcf.Check(p, validate.Options{})
		if len(rep.Errors)+len(rep.Warnings) > 0 || len(rep.NotChecked) > 0 {
			t.Errorf("%s: errors %v, warnings %v, not checked %v", id, rep.Errors, rep.Warnings, rep.NotChecked)
		}
		inc, err := mjcf.Includes(p, validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(filepath.Dir(p), wheelModule); !slices.Contains(inc, want) {
			t.Errorf("%s: includes %v, want %s among them", id, inc, want)
		}
		tree, err := mjcf.Tree(p)
		if err != nil {
			t.Fatal(err)
		}
		links := map[string]string{} // link -> its joint's name ("" when fixed)
		var walk func(n *validate.TreeNode)
		walk = func(n *validate.TreeNode) {
			j := ""
			if n.Joint != nil && n.Joint.Type != "free" {
				j = n.Joint.Name
			}
			links[n.Name] = j
			for _, c := range n.Children {
				walk(c)
			}
		}
		walk(tree)
		if len(links) != len(r.Links)+1 {
			t.Errorf("%s: tree has %d bodies, model %d links (+ world): %v", id, len(links), len(r.Links), links)
		}
		for _, j := range r.Joints {
			want := ""
			if j.Type != Fixed {
				want = j.Name
			}
			if got, ok := links[j.Child]; !ok || got != want {
				t.Errorf("%s: link %s has joint %q in the tree (present %v), model %q", id, j.Child, got, ok, want)
			}
		}
	}
}
