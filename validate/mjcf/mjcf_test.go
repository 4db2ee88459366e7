package mjcf

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/validate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGoldenProblems renders every problem of every variant like the
// compiler-style output of gizmo validate and compares it with
// testdata/golden/variants.txt (go test -run TestGoldenProblems -update
// rewrites it). It pins messages, rule ids, files and line:col.
func TestGoldenProblems(t *testing.T) {
	variants, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, p := range variants {
		r := Check(p, validate.Options{})
		fmt.Fprintf(&b, "== %s valid=%v\n", filepath.Base(p), r.Valid)
		for _, e := range append(r.Errors, r.Warnings...) {
			fmt.Fprintf(&b, "%s\n", e)
		}
		for _, n := range r.NotChecked {
			fmt.Fprintf(&b, "not checked: %s\n", n)
		}
	}
	golden := filepath.Join("testdata", "golden", "variants.txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		got, wantLines := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(got) && i < len(wantLines); i++ {
			if got[i] != wantLines[i] {
				t.Fatalf("output differs from %s at line %d:\n got: %s\nwant: %s\n(rerun with -update if the change is intended)", golden, i+1, got[i], wantLines[i])
			}
		}
		t.Fatalf("output differs from %s in length: %d lines, want %d", golden, len(got), len(wantLines))
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestProblemLocations checks that problems point at the right file, line,
// column and element, including inside included files.
func TestProblemLocations(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"robot.xml":     "<mujoco>\n  <include file=\"parts/arm.xml\"/>\n  <worldbody>\n    <body name=\"b\">\n      <joint name=\"j\" type=\"rotary\"/>\n      <geom size=\".1\"/>\n    </body>\n  </worldbody>\n</mujoco>\n",
		"parts/arm.xml": "<mujoco>\n  <asset>\n    <mesh name=\"m\" file=\"missing.stl\"/>\n  </asset>\n</mujoco>\n",
	})
	r := Check(filepath.Join(dir, "robot.xml"), validate.Options{})
	want := []struct {
		file      string
		line, col int
		rule      string
		element   string
	}{
		{"robot.xml", 5, 7, "mjcf-keyword", "/mujoco/worldbody/body[@name='b']/joint[@name='j']"},
		{"parts/arm.xml", 3, 5, "mjcf-file", "/mujoco/asset/mesh[@name='m']"},
	}
	if len(r.Errors) != len(want) {
		t.Fatalf("errors %v, want %d", r.Errors, len(want))
	}
	for i, w := range want {
		e := r.Errors[i]
		if e.File != filepath.Join(dir, w.file) || e.Line != w.line || e.Col != w.col || e.Rule != w.rule || e.Element != w.element {
			t.Errorf("error %d = %s (element %s), want %s:%d:%d [%s] at %s", i, e, e.Element, w.file, w.line, w.col, w.rule, w.element)
		}
	}
}

func TestIncludes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"scene.xml":        `<mujoco><include file="robot.xml"/><worldbody><body><include file="sub/extra.xml"/></body></worldbody></mujoco>`,
		"robot.xml":        `<mujoco><include file="sub/defaults.xml"/><worldbody><geom size=".1"/></worldbody></mujoco>`,
		"sub/defaults.xml": `<mujoco><default><geom rgba="1 0 0 1"/></default></mujoco>`,
		"sub/extra.xml":    `<fragment><include file="more.xml"/></fragment>`,
		"sub/more.xml":     `<fragment><geom size=".2"/></fragment>`,
		"cycle_a.xml":      `<mujoco><include file="cycle_b.xml"/></mujoco>`,
		"cycle_b.xml":      `<mujoco><include file="cycle_a.xml"/></mujoco>`,
	})
	got, err := Includes(filepath.Join(dir, "scene.xml"), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"robot.xml", "sub/defaults.xml", "sub/extra.xml", "sub/more.xml"}
	if len(got) != len(want) {
		t.Fatalf("Includes = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != filepath.Join(dir, want[i]) {
			t.Errorf("include %d = %s, want %s", i, got[i], filepath.Join(dir, want[i]))
		}
	}
	if _, err := Includes(filepath.Join(dir, "cycle_a.xml"), validate.Options{}); err == nil || !strings.Contains(err.Error(), "already included") {
		t.Errorf("cyclic include: err = %v, want 'already included'", err)
	}
	if _, err := Includes(filepath.Join(dir, "nosuch.xml"), validate.Options{}); err == nil {
		t.Error("missing model: no error")
	}
	// The nested include resolves against the including file's folder.
	if r := Check(filepath.Join(dir, "scene.xml"), validate.Options{}); !r.Valid {
		t.Errorf("scene.xml: %v", r.Errors)
	}
}

func TestTree(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"arm.xml": `<mujoco>
  <default><default class="elbow"><joint range="-90 90" axis="0 1 0"/></default></default>
  <worldbody>
    <body name="base">
      <freejoint name="root"/>
      <geom size=".1"/>
      <frame pos="0 0 1">
        <body name="upper">
          <joint name="shoulder" range="-1 1" limited="false"/>
          <joint name="twist" type="ball"/>
          <geom size=".1"/>
          <body name="lower" childclass="elbow">
            <joint name="elbow"/>
            <geom size=".1"/>
          </body>
        </body>
      </frame>
    </body>
  </worldbody>
</mujoco>`,
	})
	root, err := Tree(filepath.Join(dir, "arm.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	root.Walk(func(n *validate.TreeNode, depth int) {
		s := strings.Repeat("  ", depth) + n.Name
		if n.Joint != nil {
			s += " " + n.Joint.Name + ":" + n.Joint.Type
		}
		for _, j := range n.Extra {
			s += " +" + j.Name + ":" + j.Type
		}
		lines = append(lines, s)
	})
	want := []string{"world", "  base root:free", "    upper shoulder:hinge +twist:ball", "      lower elbow:hinge"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tree:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	upper := root.Children[0].Children[0]
	if upper.Joint.Lower != nil {
		t.Errorf("shoulder is limited=false but has limits %v", *upper.Joint.Lower)
	}
	elbow := upper.Children[0].Joint
	if elbow.Lower == nil || math.Abs(*elbow.Lower+math.Pi/2) > 1e-12 || math.Abs(*elbow.Upper-math.Pi/2) > 1e-12 {
		t.Errorf("elbow limits %v %v, want ±pi/2 (degrees from the class, converted)", elbow.Lower, elbow.Upper)
	}
	if len(elbow.Axis) != 3 || elbow.Axis[1] != 1 {
		t.Errorf("elbow axis %v, want the class's 0 1 0", elbow.Axis)
	}
	if upper.Line != 8 {
		t.Errorf("upper on line %d, want 8", upper.Line)
	}
	if _, err := Tree(filepath.Join(dir, "nosuch.xml")); err == nil {
		t.Error("Tree of a missing file: no error")
	}
}

func TestTreeCorpus(t *testing.T) {
	corpus := corpusDir(t)
	root, err := Tree(filepath.Join(corpus, "mjcf", "kinova_gen3", "scene.xml"))
	if err != nil {
		t.Fatal(err)
	}
	bodies, joints := 0, 0
	root.Walk(func(n *validate.TreeNode, depth int) {
		bodies++
		if n.Joint != nil {
			joints += 1 + len(n.Extra)
		}
	})
	// MuJoCo 3.3.8 (MANIFEST.md): nbody=9 (with the world), njnt=7.
	if bodies != 9 || joints != 7 {
		t.Errorf("kinova gen3: %d bodies, %d joints; want 9 and 7", bodies, joints)
	}
}

func TestStrictAndNotChecked(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"m.xml": `<mujoco><worldbody><body><joint range="1 -1"/><geom size=".1"/></body><composite type="cable" count="4 1 1" size="1" curve="s 0 0"><geom type="capsule" size=".01"/></composite></worldbody><keyframe><key qpos="0"/></keyframe></mujoco>`,
	})
	p := filepath.Join(dir, "m.xml")
	r := Check(p, validate.Options{})
	if !r.Valid || len(r.Warnings) == 0 {
		t.Fatalf("want valid with a warning (inverted auto range), got %+v", r)
	}
	if len(r.NotChecked) == 0 {
		t.Errorf("composite model: keyframe sizes should be listed as not checked")
	}
	s := Check(p, validate.Options{Strict: true})
	if s.Valid || len(s.Errors) != len(r.Warnings) {
		t.Errorf("strict: %+v", s)
	}
}

func TestNotMJCF(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"robot.urdf": `<robot name="r"><link name="a"/></robot>`,
		"bad.xml":    `<mujoco><worldbody>`,
		"empty.xml":  ``,
	})
	for name, rule := range map[string]string{"robot.urdf": "mjcf-root", "bad.xml": "mjcf-xml", "empty.xml": "mjcf-xml", "missing.xml": "mjcf-read"} {
		r := Check(filepath.Join(dir, name), validate.Options{})
		if r.Valid || len(r.Errors) != 1 || r.Errors[0].Rule != rule {
			t.Errorf("%s: %v, want one %s error", name, r.Errors, rule)
		}
	}
}
