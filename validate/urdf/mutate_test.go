package urdf

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/validate"
)

// tricky are attribute values that probe urdfdom's number and vector
// parsing.
var tricky = []string{"", " ", "1", " 1", "1 ", "+1", "-1", "0", ".5", "5.", "1e3", "1e999", "1e-400", "abc", "1,2,3",
	"1 2", "1 2 3", " 1  2 3 ", "1\t2 3", "1 2 3 4", "${x}", "nan", "inf", "0x1", "1.0", "1.1", "2", "x.y", "01.00",
	"revolute", "fixed", "continuous", "prismatic", "planar", "floating", "ball", "a", "b", "nosuch", "0 0 0", "1 0 0 1"}

var trickyTags = []string{"box", "sphere", "cylinder", "mesh", "capsule", "origin", "limit", "inertia", "mass", "material", "color", "link", "joint", "parent", "child", "axis", "mimic", "dynamics", "safety_controller", "calibration", "texture", "geometry", "visual", "collision", "inertial"}

var trickyKeys = []string{"name", "link", "xyz", "rpy", "size", "radius", "length", "filename", "scale", "value", "ixx", "ixy", "ixz", "iyy", "iyz", "izz",
	"effort", "velocity", "lower", "upper", "rgba", "joint", "type", "damping", "friction", "k_velocity", "k_position", "rising", "multiplier", "version"}

// mutate applies one random edit to doc.
func mutate(rng *rand.Rand, doc *etree.Document) string {
	var all []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		all = append(all, e)
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(doc.Root())
	e := all[rng.Intn(len(all))]
	switch op := rng.Intn(8); {
	case op >= 6:
		c := e.CreateElement(trickyTags[rng.Intn(len(trickyTags))])
		for k := rng.Intn(3); k > 0; k-- {
			c.CreateAttr(trickyKeys[rng.Intn(len(trickyKeys))], tricky[rng.Intn(len(tricky))])
		}
		return fmt.Sprintf("add <%s %v> to %s", c.Tag, c.Attr, e.Tag)
	case op == 0 && len(e.Attr) > 0:
		a := e.Attr[rng.Intn(len(e.Attr))]
		e.RemoveAttr(a.Key)
		return fmt.Sprintf("drop %s/@%s", e.Tag, a.Key)
	case op <= 2 && len(e.Attr) > 0:
		a := &e.Attr[rng.Intn(len(e.Attr))]
		a.Value = tricky[rng.Intn(len(tricky))]
		return fmt.Sprintf("set %s/@%s=%q", e.Tag, a.Key, a.Value)
	case op == 3 && e.Parent() != nil && e != doc.Root():
		e.Parent().RemoveChild(e)
		return "remove " + e.Tag
	case op == 4 && e != doc.Root():
		old := e.Tag
		e.Tag = trickyTags[rng.Intn(len(trickyTags))]
		return fmt.Sprintf("rename %s to %s", old, e.Tag)
	default:
		if e != doc.Root() && e.Parent() != nil {
			c := e.Copy()
			e.Parent().InsertChildAt(e.Index(), c)
			return "duplicate " + e.Tag
		}
		e.CreateAttr("version", tricky[rng.Intn(len(tricky))])
		return "set version"
	}
}

// TestMutationsAgainstCheckURDF is a differential test: random edits of
// the conformance variants and small corpus files, each judged by
// check_urdf and by gizmo; on every mutant the verdicts must agree (missing
// meshes aside, as in the conformance test).
func TestMutationsAgainstCheckURDF(t *testing.T) {
	reftest.Require(t, reference.ToolCheckURDF)
	n := 400
	if testing.Short() {
		n = 60
	}
	var seeds []string
	variants, _ := filepath.Glob(filepath.Join("testdata", "conformance", "*.urdf"))
	for _, v := range variants {
		if _, known := knownDifferences[filepath.ToSlash(v)]; !known {
			seeds = append(seeds, v)
		}
	}
	for _, f := range corpusURDFs(t) {
		if fi, err := os.Stat(f); err == nil && fi.Size() < 20000 {
			seeds = append(seeds, f)
		}
	}
	seed := int64(1)
	if s := os.Getenv("GIZMO_MUTATION_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	rng := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	tried, hung := 0, 0
	for i := 0; i < n; i++ {
		src := seeds[rng.Intn(len(seeds))]
		doc := etree.NewDocument()
		if err := doc.ReadFromFile(src); err != nil || doc.Root() == nil {
			continue
		}
		var edits []string
		for k := 0; k <= rng.Intn(3); k++ {
			edits = append(edits, mutate(rng, doc))
		}
		data, err := doc.WriteToBytes()
		if err != nil {
			continue
		}
		p := filepath.Join(dir, fmt.Sprintf("m%03d.urdf", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		v, err := reference.CheckURDF(ctx, p)
		cancel()
		r := CheckBytes(p, data, dir, validate.Options{})
		if err != nil && ctx.Err() != nil {
			// check_urdf prints the tree recursively and never ends on a
			// cycle that its parser accepted: gizmo must warn about it.
			if !hasRule(r.Warnings, "urdf-tree-cycle") {
				t.Errorf("%s from %s %v: check_urdf hangs, gizmo reports no cycle: %v\n%s", p, src, edits, r.Warnings, data)
			}
			hung++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		tried++
		var hard []validate.Problem
		for _, e := range r.Errors {
			if _, ok := deliberate[e.Rule]; !ok {
				hard = append(hard, e)
			}
		}
		switch {
		case v.Accepted && len(hard) > 0:
			t.Errorf("%s from %s %v: check_urdf accepts, gizmo: %v\n%s", p, src, edits, hard, data)
		case !v.Accepted && len(r.Errors) == 0:
			t.Errorf("%s from %s %v: check_urdf rejects (%s), gizmo reports no error\n%s", p, src, edits, v.First(), data)
		}
	}
	t.Logf("%d mutants judged (%d more on which check_urdf hung)", tried, hung)
	// A mutant is not judged when its source does not parse or it cannot be
	// written back; a harness that judges few of them tests little.
	if judged := tried + hung; judged*10 < n*9 {
		t.Errorf("only %d of %d mutants judged: want at least 90%%", judged, n)
	}
	if hung*10 > n {
		t.Errorf("check_urdf hung on %d of %d mutants: want at most 10%%", hung, n)
	}
}
