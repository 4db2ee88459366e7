package reference_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/internal/testcorpus"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return c
}

// parseMJ reads a MuJoCo verdict cell (see testcorpus.ParseMuJoCo).
func parseMJ(cell string) (ok bool, sizes string, msg string) {
	return testcorpus.ParseMuJoCo(cell)
}

// TestCheckURDFCorpus runs check_urdf on every URDF MANIFEST.md gives a
// check_urdf verdict for and compares: parsed or rejected, and the first
// Error/Warning line.
func TestCheckURDFCorpus(t *testing.T) {
	reftest.Require(t, reference.ToolCheckURDF)
	root := corpusRoot(t)
	n := 0
	for _, r := range readManifest(t, root) {
		if r.checkURDF == "" {
			continue
		}
		n++
		t.Run(r.file, func(t *testing.T) {
			v, err := reference.CheckURDF(ctx(t), filepath.Join(root, r.file))
			if err != nil {
				t.Fatal(err)
			}
			if v.Tool != reference.ToolCheckURDF {
				t.Errorf("Tool = %q", v.Tool)
			}
			parts := strings.Split(r.checkURDF, " | ")
			wantParsed := strings.HasPrefix(parts[0], "PARSED")
			if got := strings.Contains(v.Output, "Successfully Parsed XML"); got != wantParsed {
				t.Errorf("parsed = %v, MANIFEST says %s\n%s", got, parts[0], v.Output)
			}
			var first string
			for _, p := range parts[1:] {
				if m, ok := strings.CutPrefix(p, "first msg: "); ok {
					first = m
				}
			}
			if first == "" {
				if v.Accepted != wantParsed {
					t.Errorf("Accepted = %v, want %v (no message recorded)\n%s", v.Accepted, wantParsed, v.Output)
				}
				return
			}
			got := stripLevel(v.First())
			first = stripLevel(first)
			if !sameMessage(got, first) {
				t.Errorf("first message %q, MANIFEST says %q", got, first)
			}
			if strings.Contains(v.First(), "Error") && v.Accepted {
				t.Errorf("accepted although urdfdom logged %q", v.First())
			}
		})
	}
	if n < 40 {
		t.Errorf("only %d check_urdf verdicts in MANIFEST.md", n)
	}
}

// TestMuJoCo222Corpus compiles every file MANIFEST.md gives a MuJoCo 2.2.2
// verdict for and compares the verdict and the error message. -short keeps
// the synthetic files and a few real ones.
func TestMuJoCo222Corpus(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo222)
	root := corpusRoot(t)
	real, recorded := 0, 0
	for _, r := range readManifest(t, root) {
		if r.mj222 == "" {
			continue
		}
		recorded++
		if testing.Short() && !strings.HasPrefix(r.file, "synthetic/") {
			if real++; real > 6 {
				continue
			}
		}
		t.Run(r.file, func(t *testing.T) {
			v, err := reference.MuJoCo222(ctx(t), filepath.Join(root, r.file))
			if err != nil {
				t.Fatal(err)
			}
			ok, _, msg := parseMJ(r.mj222)
			if v.Accepted != ok {
				t.Fatalf("Accepted = %v, MANIFEST says %q\n%s", v.Accepted, r.mj222, v.Output)
			}
			if !ok && !sameMessage(v.First(), msg) {
				t.Errorf("message %q, MANIFEST says %q", v.First(), msg)
			}
			if ok && len(v.Messages) != 0 {
				t.Errorf("accepted with messages %q", v.Messages)
			}
		})
	}
	if recorded < 100 {
		t.Errorf("only %d MuJoCo 2.2.2 verdicts in MANIFEST.md", recorded)
	}
}

// TestMuJoCo3Corpus loads every file MANIFEST.md gives a MuJoCo 3.3.8
// verdict for in one MuJoCo3Batch and compares the verdict, the model sizes
// and the error message. -short keeps the synthetic files and a few real
// ones.
func TestMuJoCo3Corpus(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo3)
	root := corpusRoot(t)
	var rows []manifestRow
	var paths []string
	real, recorded := 0, 0
	for _, r := range readManifest(t, root) {
		if r.mj3 == "" {
			continue
		}
		recorded++
		if testing.Short() && !strings.HasPrefix(r.file, "synthetic/") {
			if real++; real > 8 {
				continue
			}
		}
		rows = append(rows, r)
		paths = append(paths, filepath.Join(root, r.file))
	}
	if recorded < 100 {
		t.Errorf("only %d MuJoCo 3.3.8 verdicts in MANIFEST.md", recorded)
	}
	vs, err := reference.MuJoCo3Batch(ctx(t), paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(paths) {
		t.Fatalf("%d verdicts for %d paths", len(vs), len(paths))
	}
	for i, r := range rows {
		v := vs[i]
		t.Run(r.file, func(t *testing.T) {
			ok, sizes, msg := parseMJ(r.mj3)
			if v.Accepted != ok {
				t.Fatalf("Accepted = %v, MANIFEST says %q\n%s", v.Accepted, r.mj3, v.Output)
			}
			if v.Version != "3.3.8" {
				t.Errorf("Version = %q", v.Version)
			}
			if ok {
				if v.Model == nil {
					t.Fatal("accepted without model sizes")
				}
				got := fmt.Sprintf("nbody=%d njnt=%d ngeom=%d nmesh=%d", v.Model.NBody, v.Model.NJnt, v.Model.NGeom, v.Model.NMesh)
				if sizes != "" && got != sizes {
					t.Errorf("sizes %s, MANIFEST says %s", got, sizes)
				}
				return
			}
			if !sameMessage(v.First(), msg) {
				t.Errorf("message %q, MANIFEST says %q", v.First(), msg)
			}
		})
	}
}

// TestMuJoCo3Single checks the one-file entry point against the batch on an
// accepted and a rejected model.
func TestMuJoCo3Single(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo3)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.xml")
	bad := filepath.Join(dir, "bad.xml")
	write(t, good, `<mujoco><worldbody><body><joint type="hinge"/><geom size="0.1"/></body></worldbody></mujoco>`)
	write(t, bad, `<mujoco><worldbody><body><geom type="sphere2" size="0.1"/></body></worldbody></mujoco>`)
	v, err := reference.MuJoCo3(ctx(t), good)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Accepted || v.Model == nil || v.Model.NBody != 2 || v.Model.NJnt != 1 {
		t.Errorf("good.xml: %+v", v)
	}
	v, err = reference.MuJoCo3(ctx(t), bad)
	if err != nil {
		t.Fatal(err)
	}
	if v.Accepted || v.First() != "XML Error: invalid keyword: 'sphere2' Element 'geom', line 1" {
		t.Errorf("bad.xml: %+v", v)
	}
}

// TestMuJoCo3BatchOutOfMemory checks that a model whose loading throws
// something other than a MuJoCo error (std::bad_alloc for a 30000×30000
// height field; the allocation is refused, not made) is reported with the
// C++ exception's type and does not disturb the models after it.
func TestMuJoCo3BatchOutOfMemory(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo3)
	dir := t.TempDir()
	oom := filepath.Join(dir, "oom.xml")
	good := filepath.Join(dir, "sub", "good.xml")
	write(t, oom, `<mujoco><asset><hfield name="h" nrow="30000" ncol="30000" size="1 1 1 1"/></asset><worldbody><geom type="hfield" hfield="h"/></worldbody></mujoco>`)
	if err := os.Mkdir(filepath.Dir(good), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, good, `<mujoco><worldbody><body><joint/><geom size="0.1"/></body></worldbody></mujoco>`)
	vs, err := reference.MuJoCo3Batch(ctx(t), []string{oom, good, oom})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 {
		t.Fatalf("%d verdicts", len(vs))
	}
	for _, i := range []int{0, 2} {
		if vs[i].Accepted || !strings.Contains(vs[i].First(), "bad_alloc") {
			t.Errorf("oom.xml: %+v", vs[i])
		}
	}
	if !vs[1].Accepted || vs[1].Model.NJnt != 1 {
		t.Errorf("good.xml after oom.xml: %+v", vs[1])
	}
}

// TestMuJoCo3Simulate steps a stable model and one MuJoCo flags (a body of
// 1e-6 kg on a stiff position actuator, which the explicit integrator
// cannot follow at this timestep once gravity moves it).
func TestMuJoCo3Simulate(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo3)
	dir := t.TempDir()
	stable := filepath.Join(dir, "stable.xml")
	unstable := filepath.Join(dir, "unstable.xml")
	write(t, stable, `<mujoco><worldbody><body pos="0 0 1"><freejoint/><geom size="0.1"/></body></worldbody></mujoco>`)
	write(t, unstable, `<mujoco><option timestep="0.01"/><worldbody><body><joint name="j" type="slide" axis="0 0 1"/>
<inertial pos="0 0 0" mass="1e-6" diaginertia="1e-9 1e-9 1e-9"/><geom size="0.01" contype="0" conaffinity="0"/></body></worldbody>
<actuator><position joint="j" kp="1e6"/></actuator></mujoco>`)
	vs, err := reference.MuJoCo3Simulate(ctx(t), []string{stable, unstable}, 500)
	if err != nil {
		t.Fatal(err)
	}
	if !vs[0].Accepted || vs[0].Steps != 500 {
		t.Errorf("stable.xml: %+v", vs[0])
	}
	if vs[1].Accepted || !strings.HasPrefix(vs[1].First(), "simulation: ") {
		t.Errorf("unstable.xml: %+v", vs[1])
	}
	if _, err := reference.MuJoCo3Simulate(ctx(t), []string{stable}, 0); err == nil {
		t.Error("MuJoCo3Simulate with 0 steps: no error")
	}
}

// TestMuJoCo3BatchSameNamedFiles loads, in one batch, models from two
// folders that each hold a mesh at the same relative path (assets/m.stl):
// a good cube in one, a truncated file in the other. Each model must be
// compiled from its own folder's file, whatever the order: MuJoCo caches
// meshes by name and file time, and folders copied within one second once
// shared the first one's mesh (the broken one was then accepted, and a
// procgen arm got another arm's links).
func TestMuJoCo3BatchSameNamedFiles(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo3)
	const model = `<mujoco><compiler meshdir="assets"/><asset><mesh name="m" file="m.stl"/></asset>
<worldbody><body><freejoint/><geom type="mesh" mesh="m"/></body></worldbody></mujoco>`
	good := filepath.Join(t.TempDir(), "model.xml")
	bad := filepath.Join(t.TempDir(), "model.xml")
	cube := cubeSTL(0.1)
	for p, stl := range map[string][]byte{good: cube, bad: cube[:84+50*5]} {
		write(t, p, model)
		if err := os.MkdirAll(filepath.Join(filepath.Dir(p), "assets"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(p), "assets", "m.stl"), stl, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := reference.MuJoCo3Batch(ctx(t), []string{good, bad, good, bad})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		wantOK := i%2 == 0
		if v.Accepted != wantOK {
			t.Errorf("model %d (%s mesh): Accepted = %v, want %v: %q", i, map[bool]string{true: "good", false: "truncated"}[wantOK], v.Accepted, wantOK, v.Messages)
		}
		if !wantOK && !strings.Contains(v.First(), "m.stl") {
			t.Errorf("model %d: message %q does not name m.stl", i, v.First())
		}
	}
}

// cubeSTL is a binary STL of a cube of half-size h (12 triangles).
func cubeSTL(h float32) []byte {
	v := func(i int) [3]float32 {
		return [3]float32{h * float32(2*(i&1)-1), h * float32(2*(i>>1&1)-1), h * float32(2*(i>>2&1)-1)}
	}
	// Faces as corner indices (bit 0 = x, 1 = y, 2 = z), outward by the
	// right-hand rule.
	quads := [][4]int{{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}}
	b := make([]byte, 80, 84+12*50)
	b = binary.LittleEndian.AppendUint32(b, 12)
	for _, q := range quads {
		for _, tri := range [][3]int{{q[0], q[1], q[2]}, {q[0], q[2], q[3]}} {
			b = append(b, make([]byte, 12)...) // normal: MuJoCo computes its own
			for _, c := range tri {
				for _, x := range v(c) {
					b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
				}
			}
			b = append(b, 0, 0)
		}
	}
	return b
}

// TestMuJoCo222Scratch checks that mujoco-compile leaves nothing behind in
// the model's directory and rejects a model 3.x accepts (range without
// limited).
func TestMuJoCo222Scratch(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo222)
	dir := t.TempDir()
	m := filepath.Join(dir, "m.xml")
	write(t, m, `<mujoco><worldbody><body><joint type="hinge" range="0 1"/><geom size="0.1"/></body></worldbody></mujoco>`)
	v, err := reference.MuJoCo222(ctx(t), m)
	if err != nil {
		t.Fatal(err)
	}
	if v.Accepted || !strings.HasPrefix(v.First(), "Error: joint has `range` but not `limited`") {
		t.Errorf("verdict %+v", v)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("model directory holds %v after compiling, want only m.xml", names)
	}
}

// TestMissingInputs checks the errors for a missing model and an unknown
// tool.
func TestMissingInputs(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.xml")
	for name, run := range map[string]func(context.Context, string) (reference.Verdict, error){
		reference.ToolCheckURDF: reference.CheckURDF,
		reference.ToolMuJoCo222: reference.MuJoCo222,
		reference.ToolMuJoCo3:   reference.MuJoCo3,
	} {
		t.Run(name, func(t *testing.T) {
			reftest.Require(t, name)
			_, err := run(ctx(t), missing)
			if err == nil || !strings.Contains(err.Error(), "nope.xml") {
				t.Errorf("err = %v, want one naming nope.xml", err)
			}
			if errors.Is(err, reference.ErrNotInstalled) {
				t.Errorf("err = %v wraps ErrNotInstalled", err)
			}
		})
	}
	if ok, why := reference.Have("gazebo"); ok || !strings.Contains(why, "gazebo") {
		t.Errorf("Have(gazebo) = %v, %q", ok, why)
	}
}

// TestHaveMuJoCoJSOverride points GIZMO_MUJOCO_JS at a script without
// node_modules and expects Have to say how to install mujoco-js.
func TestHaveMuJoCoJSOverride(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "check.mjs")
	write(t, script, "")
	t.Setenv(reference.EnvMuJoCoJS, script)
	ok, why := reference.Have(reference.ToolMuJoCo3)
	if ok || !strings.Contains(why, "npm ci") {
		t.Errorf("Have(mujoco-js) = %v, %q", ok, why)
	}
	_, err := reference.MuJoCo3(context.Background(), script)
	if !errors.Is(err, reference.ErrNotInstalled) {
		t.Errorf("MuJoCo3 err = %v, want ErrNotInstalled", err)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// stripLevel drops urdfdom's "Error: "/"Warning: " prefixes (messages may
// repeat the level: "Error: Error: empty tag.").
func stripLevel(s string) string {
	for {
		t := strings.TrimPrefix(strings.TrimPrefix(s, "Error: "), "Warning: ")
		if t == s {
			return s
		}
		s = strings.TrimSpace(t)
	}
}
