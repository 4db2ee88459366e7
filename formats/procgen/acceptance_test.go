package procgen

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
)

// acceptanceRobots are the robots the reference parsers must accept: every
// kind from several ids, and arms of several DOF counts.
func acceptanceRobots() []*Robot {
	ids := sampleIDs
	if testing.Short() {
		ids = ids[:2]
	}
	var out []*Robot
	for _, id := range ids {
		for _, s := range samplePrompts {
			out = append(out, Generate(id, s.name, s.prompt))
		}
	}
	return out
}

// unzipTo extracts an export into dir.
func unzipTo(t *testing.T, body []byte, dir string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// exportTo writes r's export in format f under dir/<kind>-<id>/<short>/ and
// returns the model file's path.
func exportTo(t *testing.T, r *Robot, f formats.Format, dir string) string {
	t.Helper()
	body, name, err := r.Export(f)
	if err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(dir, fmt.Sprintf("%s-%s-%s", r.Kind(), r.ID(), r.Slug()), f.Short())
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	switch f {
	case formats.IsaacURDF:
		unzipTo(t, body, d)
		return filepath.Join(d, r.Slug()+".urdf")
	case formats.MuJoCo:
		unzipTo(t, body, d)
		return filepath.Join(d, r.Slug()+".xml")
	}
	p := filepath.Join(d, name)
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return c
}

// TestAcceptCheckURDF: every URDF export parses in urdfdom's check_urdf
// with no Error line, and the tree it prints has our root and link count.
func TestAcceptCheckURDF(t *testing.T) {
	reftest.Require(t, reference.ToolCheckURDF)
	dir := t.TempDir()
	for _, r := range acceptanceRobots() {
		p := exportTo(t, r, formats.IsaacURDF, dir)
		v, err := reference.CheckURDF(testCtx(t), p)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Accepted || !strings.Contains(v.Output, "Successfully Parsed XML") {
			t.Errorf("%s %s (%s): check_urdf rejected it: %q\n%s", r.Kind(), r.ID(), p, v.Messages, v.Output)
			continue
		}
		if !strings.Contains(v.Output, "root Link: "+r.Links[0].Name+" ") {
			t.Errorf("%s %s: check_urdf's root is not %s:\n%s", r.Kind(), r.ID(), r.Links[0].Name, v.Output)
		}
		// check_urdf prints one line per link: "child(<n>):  <name>"
		// for every non-root link.
		if got := len(regexp.MustCompile(`child\(\d+\):`).FindAllString(v.Output, -1)); got != len(r.Links)-1 {
			t.Errorf("%s %s: check_urdf lists %d child links, want %d", r.Kind(), r.ID(), got, len(r.Links)-1)
		}
	}
}

// TestAcceptMuJoCo222: every MJCF export compiles in MuJoCo 2.2.2, but
// the modular ones, which use MuJoCo 3's <attach> and <replicate>.
func TestAcceptMuJoCo222(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo222)
	dir := t.TempDir()
	for _, r := range acceptanceRobots() {
		if r.Modular() {
			continue // composed with <attach> and <replicate>: MuJoCo 3 only
		}
		p := exportTo(t, r, formats.MuJoCo, dir)
		v, err := reference.MuJoCo222(testCtx(t), p)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Accepted {
			t.Errorf("%s %s (%s): mujoco-compile 2.2.2 rejected it: %q", r.Kind(), r.ID(), p, v.Messages)
		}
	}
}

// TestAcceptMuJoCo3: every MJCF export loads in MuJoCo 3.x, with one body
// per link (plus the world), one joint per moving joint (plus the free
// joint of a floating base) and one mesh per distinct STL: the MJCF says
// the same kinematics as the model. Then each model, placed on a floor by a
// scene.xml that includes it (as MuJoCo Menagerie lays models out), runs
// for two simulated seconds with zero controls without a MuJoCo warning
// and with a finite state.
func TestAcceptMuJoCo3(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo3)
	dir := t.TempDir()
	robots := acceptanceRobots()
	var paths, scenes []string
	for _, r := range robots {
		p := exportTo(t, r, formats.MuJoCo, dir)
		paths = append(paths, p)
		scene := filepath.Join(filepath.Dir(p), "scene.xml")
		err := os.WriteFile(scene, []byte(`<mujoco model="scene">
  <include file="`+filepath.Base(p)+`"/>
  <worldbody>
    <light pos="0 0 3" dir="0 0 -1"/>
    <geom name="floor" type="plane" size="0 0 0.05"/>
  </worldbody>
</mujoco>
`), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		scenes = append(scenes, scene)
	}
	// One Node process for all: loading the scene loads the model.
	vs, err := reference.MuJoCo3Simulate(testCtx(t), scenes, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range robots {
		v := vs[i]
		if v.Model == nil {
			t.Errorf("%s %s (%s): MuJoCo %s rejected it: %q", r.Kind(), r.ID(), paths[i], v.Version, v.Messages)
			continue
		}
		if !v.Accepted {
			t.Errorf("%s %s (%s): on a floor for 2 s: %q", r.Kind(), r.ID(), scenes[i], v.Messages)
		}
		njnt := r.DOF()
		if r.Floating {
			njnt++
		}
		meshes := map[string]bool{}
		for _, l := range r.meshes() {
			meshes[l.Geom.Mesh] = true
		}
		if r.Modular() {
			// Each attach of the wheel module copies its mesh, prefixed.
			delete(meshes, "wheel")
			for _, w := range modularWheels {
				meshes[w] = true
			}
		}
		// The scene adds the floor geom.
		want := reference.ModelSizes{NBody: len(r.Links) + 1, NJnt: njnt, NGeom: len(r.Links) + 1, NMesh: len(meshes)}
		if *v.Model != want {
			t.Errorf("%s %s: MuJoCo model sizes %+v, want %+v", r.Kind(), r.ID(), *v.Model, want)
		}
	}
}

// TestUSDStructure checks the USD text without a USD library: the header,
// balanced braces, one rigid body per link, one joint per joint (plus the
// world anchor of a fixed base), and every relationship target defined.
func TestUSDStructure(t *testing.T) {
	defRe := regexp.MustCompile(`(?m)^\s*def (\w+) "(\w+)"`)
	relRe := regexp.MustCompile(`rel physics:body[01] = <(/[\w/]+)>`)
	for _, r := range acceptanceRobots() {
		body, _, err := r.Export(formats.IsaacUSD)
		if err != nil {
			t.Fatal(err)
		}
		s := string(body)
		if !strings.HasPrefix(s, "#usda 1.0\n") {
			t.Fatalf("%s: no #usda 1.0 header", r.Kind())
		}
		if strings.Count(s, "{") != strings.Count(s, "}") || strings.Count(s, "(") != strings.Count(s, ")") {
			t.Errorf("%s %s: unbalanced braces or parentheses", r.Kind(), r.ID())
		}
		root := usdPrimName(r.Slug())
		if !strings.Contains(s, `defaultPrim = "`+root+`"`) {
			t.Errorf("%s %s: defaultPrim is not %s", r.Kind(), r.ID(), root)
		}
		// Paths of every def, from the indentation (4 spaces a level).
		defined := map[string]bool{}
		var stack []string
		counts := map[string]int{}
		for _, line := range strings.Split(s, "\n") {
			m := defRe.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			depth := (len(line) - len(strings.TrimLeft(line, " "))) / 4
			stack = append(stack[:depth], m[2])
			defined["/"+strings.Join(stack, "/")] = true
			counts[m[1]]++
		}
		if got := strings.Count(s, `"PhysicsRigidBodyAPI", "PhysicsMassAPI"`); got != len(r.Links) {
			t.Errorf("%s %s: %d rigid bodies, want %d", r.Kind(), r.ID(), got, len(r.Links))
		}
		joints := counts["PhysicsRevoluteJoint"] + counts["PhysicsPrismaticJoint"] + counts["PhysicsFixedJoint"]
		want := len(r.Joints)
		if !r.Floating {
			want++
		}
		if joints != want {
			t.Errorf("%s %s: %d joints, want %d", r.Kind(), r.ID(), joints, want)
		}
		for _, m := range relRe.FindAllStringSubmatch(s, -1) {
			if !defined[m[1]] {
				t.Errorf("%s %s: joint target %s is not defined", r.Kind(), r.ID(), m[1])
			}
		}
	}
}
