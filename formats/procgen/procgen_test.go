package procgen

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// samplePrompts gives one prompt per kind (and arm variants).
var samplePrompts = []struct{ name, prompt, kind string }{
	{"arm6", "A 6-DOF industrial robotic arm", KindArm},
	{"arm6_gripper", "A 6-DOF industrial robotic arm with a parallel jaw gripper", KindArm},
	{"arm1", "1-DOF arm", KindArm},
	{"arm3", "a 3 DOF arm", KindArm},
	{"arm7", "7-axis collaborative arm", KindArm},
	{"arm12", "12 DOF snake arm with gripper", KindArm},
	{"gripper", "parallel jaw gripper", KindGripper},
	{"quadruped", "a quadruped robot dog", KindQuadruped},
	{"humanoid", "full size humanoid", KindHumanoid},
	{"mobile_base", "wheeled mobile base with lidar", KindMobileBase},
	{"modular_base", "modular mobile base", KindMobileBase},
	{"cabinet", "kitchen cabinet with drawers and doors", KindCabinet},
}

var sampleIDs = []string{"ast_01", "ast_02", "ast_03", "a7f3c9e2-1b5d-4c8e-9f00-123456789abc"}

func TestKindOf(t *testing.T) {
	tests := []struct{ prompt, kind string }{
		{"A 6-DOF industrial robotic arm with a parallel jaw gripper", KindArm},
		{"robotic arm", KindArm},
		{"7-axis manipulator", KindArm},
		{"SCARA robot", KindArm},
		{"parallel jaw gripper", KindGripper},
		{"Two-finger gripper for bin picking", KindGripper},
		{"a quadruped like Spot", KindQuadruped},
		{"Robot dog", KindQuadruped},
		{"four-legged walking robot", KindQuadruped},
		{"bipedal humanoid robot", KindHumanoid},
		{"Humanoid with two arms and grippers", KindHumanoid},
		{"differential drive mobile robot", KindMobileBase},
		{"4-wheeled rover", KindMobileBase},
		{"wheeled mobile base with a 6-DOF arm", KindMobileBase},
		{"kitchen cabinet", KindCabinet},
		{"Dresser with 3 drawers", KindCabinet},
		{"cupboard with two doors", KindCabinet},
		{"", KindArm},
		{"something completely different", KindArm},
		{"charming farmhouse", KindArm}, // "arm" only as a whole word: falls to the default
		{"ARM", KindArm},
		{"a pharmacy cart", KindMobileBase},
	}
	for _, tt := range tests {
		if got := KindOf(tt.prompt); got != tt.kind {
			t.Errorf("KindOf(%q) = %q, want %q", tt.prompt, got, tt.kind)
		}
	}
}

func TestDOFOf(t *testing.T) {
	tests := []struct {
		prompt string
		dof    int
	}{
		{"A 6-DOF arm", 6},
		{"7 DOF arm", 7},
		{"a 4-axis SCARA", 4},
		{"5dof", 5},
		{"arm with 3 degrees of freedom", 3},
		{"an arm with 9 joints", 9},
		{"0-DOF arm", 1},
		{"40-DOF arm", MaxDOF},
		{"robotic arm", DefaultDOF},
		{"", DefaultDOF},
	}
	for _, tt := range tests {
		if got := DOFOf(tt.prompt); got != tt.dof {
			t.Errorf("DOFOf(%q) = %d, want %d", tt.prompt, got, tt.dof)
		}
	}
}

// TestGenerateShape checks each kind's joint counts and base.
func TestGenerateShape(t *testing.T) {
	for _, id := range sampleIDs {
		for _, s := range samplePrompts {
			r := Generate(id, s.name, s.prompt)
			if r.Kind() != s.kind {
				t.Errorf("%s/%s: kind %q, want %q", id, s.name, r.Kind(), s.kind)
			}
			dof := r.DOF()
			switch s.kind {
			case KindArm:
				want := DOFOf(s.prompt)
				if r.HasGripper() {
					want += 2
				}
				if dof != want {
					t.Errorf("%s/%s: DOF %d, want %d", id, s.name, dof, want)
				}
				if r.HasGripper() != strings.Contains(s.prompt, "gripper") {
					t.Errorf("%s/%s: HasGripper = %v", id, s.name, r.HasGripper())
				}
			case KindGripper:
				if dof != 2 {
					t.Errorf("%s/%s: DOF %d, want 2", id, s.name, dof)
				}
			case KindQuadruped:
				if dof != 12 {
					t.Errorf("%s/%s: DOF %d, want 12", id, s.name, dof)
				}
			case KindHumanoid:
				if dof != 16 {
					t.Errorf("%s/%s: DOF %d, want 16", id, s.name, dof)
				}
			case KindMobileBase:
				if dof != 2 && dof != 4 {
					t.Errorf("%s/%s: DOF %d, want 2 or 4 wheels", id, s.name, dof)
				}
				for _, j := range r.Joints {
					if j.actuated() && j.Type != Continuous {
						t.Errorf("%s/%s: wheel joint %s is %s", id, s.name, j.Name, j.Type)
					}
				}
			case KindCabinet:
				var drawers, doors int
				for _, j := range r.Joints {
					switch j.Type {
					case Prismatic:
						drawers++
					case Revolute:
						doors++
					}
				}
				if drawers < 1 || doors > 2 {
					t.Errorf("%s/%s: %d drawers, %d doors", id, s.name, drawers, doors)
				}
			}
			floating := s.kind == KindQuadruped || s.kind == KindHumanoid || s.kind == KindMobileBase
			if r.Floating != floating {
				t.Errorf("%s/%s: Floating = %v", id, s.name, r.Floating)
			}
		}
	}
}

// TestInertia checks every link of every kind: positive mass, positive
// principal moments satisfying the triangle inequality (so the tensor is
// that of a real body), and moments equal to the formula of its primitive.
func TestInertia(t *testing.T) {
	for _, id := range sampleIDs {
		for _, s := range samplePrompts {
			r := Generate(id, s.name, s.prompt)
			for _, l := range r.Links {
				a, b, c := l.Inertia[0], l.Inertia[1], l.Inertia[2]
				if !(l.Mass > 1e-4) || !(a > 1e-9 && b > 1e-9 && c > 1e-9) {
					t.Errorf("%s/%s/%s: mass %g, inertia %v", id, s.name, l.Name, l.Mass, l.Inertia)
				}
				if a+b < c || b+c < a || a+c < b {
					t.Errorf("%s/%s/%s: inertia %v violates the triangle inequality", id, s.name, l.Name, l.Inertia)
				}
				// Rendered with 6 significant digits, the inequality must still hold
				// (MuJoCo checks the rendered numbers).
				p := func(v float64) float64 { f := 0.0; fmt.Sscan(num(v), &f); return f }
				if p(a)+p(b) < p(c) || p(b)+p(c) < p(a) || p(a)+p(c) < p(b) {
					t.Errorf("%s/%s/%s: rendered inertia %s %s %s violates the triangle inequality", id, s.name, l.Name, num(a), num(b), num(c))
				}
				if l.COM != l.Geom.Pos {
					t.Errorf("%s/%s/%s: COM %v is not the geometry centre %v", id, s.name, l.Name, l.COM, l.Geom.Pos)
				}
			}
		}
	}
	// The formulas themselves, on shapes with known answers.
	g := Geom{Shape: Box, Size: vec3{1, 2, 3}}
	if got := g.inertia(12); got != (vec3{13, 10, 5}) {
		t.Errorf("box inertia = %v, want [13 10 5]", got)
	}
	g = Geom{Shape: Cylinder, Size: vec3{1, 2, 0}, Axis: Y}
	if got := g.inertia(12); got != (vec3{7, 6, 7}) {
		t.Errorf("cylinder inertia = %v, want [7 6 7]", got)
	}
	g = Geom{Shape: Sphere, Size: vec3{1, 0, 0}}
	if got := g.inertia(5); got != (vec3{2, 2, 2}) {
		t.Errorf("sphere inertia = %v, want [2 2 2]", got)
	}
}

// TestDeterminism checks that the same id gives byte-identical exports and
// that different ids give different robots.
func TestDeterminism(t *testing.T) {
	for _, s := range samplePrompts {
		for _, f := range formats.All {
			a, an, err := Generate("ast_01", s.name, s.prompt).Export(f)
			if err != nil {
				t.Fatal(err)
			}
			b, bn, err := Generate("ast_01", s.name, s.prompt).Export(f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) || an != bn {
				t.Errorf("%s/%s: two exports of the same id differ", s.name, f)
			}
			r := Generate("ast_01", s.name, s.prompt)
			c1, _, _ := r.Export(f)
			c2, _, _ := r.Export(f)
			if !bytes.Equal(c1, c2) {
				t.Errorf("%s/%s: two exports of one robot differ", s.name, f)
			}
			d, _, err := Generate("ast_02", s.name, s.prompt).Export(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(a, d) {
				t.Errorf("%s/%s: ids ast_01 and ast_02 give the same export", s.name, f)
			}
		}
	}
}

func TestExportUnknownFormat(t *testing.T) {
	_, _, err := Generate("x", "n", "arm").Export("gltf")
	if err == nil || !strings.Contains(err.Error(), "gltf") {
		t.Errorf("err = %v, want one naming the format", err)
	}
}

// TestZipContents checks each archive's listing: the model at the top, one
// STL per mesh the model names (and no other), sorted, with the fixed time.
func TestZipContents(t *testing.T) {
	meshRef := regexp.MustCompile(`(?:filename|file)="([^"]+\.stl)"`)
	for _, s := range samplePrompts {
		r := Generate("ast_01", s.name, s.prompt)
		for _, tc := range []struct {
			f          formats.Format
			model, dir string
			file       string
		}{
			{formats.IsaacURDF, r.Slug() + ".urdf", "meshes/", r.Slug() + "_urdf.zip"},
			{formats.MuJoCo, r.Slug() + ".xml", "assets/", r.Slug() + "_mjcf.zip"},
		} {
			body, name, err := r.Export(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if name != tc.file {
				t.Errorf("%s/%s: filename %q, want %q", s.name, tc.f, name, tc.file)
			}
			if formats.Detect(body) != formats.KindZip {
				t.Fatalf("%s/%s: not a zip", s.name, tc.f)
			}
			zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			files := map[string][]byte{}
			for _, zf := range zr.File {
				names = append(names, zf.Name)
				if !zf.Modified.Equal(zipTime) {
					t.Errorf("%s: %s modified %v", tc.f, zf.Name, zf.Modified)
				}
				rc, err := zf.Open()
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				buf.ReadFrom(rc)
				rc.Close()
				files[zf.Name] = buf.Bytes()
			}
			if !slices.IsSorted(names) {
				t.Errorf("%s/%s: entries not sorted: %v", s.name, tc.f, names)
			}
			model, ok := files[tc.model]
			if !ok {
				t.Fatalf("%s/%s: %s missing from %v", s.name, tc.f, tc.model, names)
			}
			want := []string{tc.model}
			refs := meshRef.FindAllStringSubmatch(string(model), -1)
			if tc.f == formats.MuJoCo && r.Modular() {
				// The wheel module is a file of its own, with its mesh.
				want = append(want, wheelModule)
				mod, ok := files[wheelModule]
				if !ok {
					t.Fatalf("%s/%s: %s missing from %v", s.name, tc.f, wheelModule, names)
				}
				refs = append(refs, meshRef.FindAllStringSubmatch(string(mod), -1)...)
			}
			for _, m := range refs {
				p := m[1]
				if tc.f == formats.MuJoCo {
					p = tc.dir + p // meshdir="assets"
				}
				if !slices.Contains(want, p) {
					want = append(want, p)
				}
			}
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Errorf("%s/%s: entries %v, want %v", s.name, tc.f, names, want)
			}
			for n, b := range files {
				if strings.HasSuffix(n, ".stl") {
					checkSTL(t, n, b)
				}
			}
		}
		body, name, err := r.Export(formats.IsaacUSD)
		if err != nil {
			t.Fatal(err)
		}
		if name != r.Slug()+".usda" || formats.Detect(body) != formats.KindUSDA {
			t.Errorf("%s/usd: %q, kind %q", s.name, name, formats.Detect(body))
		}
	}
}

// checkSTL verifies a binary STL: size 84 + 50n, a header not taken for
// ASCII, unit normals agreeing with the vertex winding, every edge shared
// by exactly two triangles in opposite directions (closed), and a positive
// enclosed volume (outward winding).
func checkSTL(t *testing.T, name string, b []byte) {
	t.Helper()
	if len(b) < 84 {
		t.Fatalf("%s: %d bytes", name, len(b))
	}
	if bytes.HasPrefix(b, []byte("solid")) {
		t.Errorf("%s: header starts with \"solid\"", name)
	}
	n := int(binary.LittleEndian.Uint32(b[80:]))
	if len(b) != 84+50*n || n < 4 {
		t.Fatalf("%s: %d bytes for %d triangles", name, len(b), n)
	}
	if len(b) > 16<<10 {
		t.Errorf("%s: %d bytes, meant to be a few KB", name, len(b))
	}
	f := func(off int) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[off:]))) }
	v := func(off int) vec3 { return vec3{f(off), f(off + 4), f(off + 8)} }
	type edge [2]vec3
	edges := map[edge]int{}
	vol := 0.0
	for i := range n {
		off := 84 + 50*i
		nrm, a, bb, c := v(off), v(off+12), v(off+24), v(off+36)
		l := math.Sqrt(nrm[0]*nrm[0] + nrm[1]*nrm[1] + nrm[2]*nrm[2])
		if math.Abs(l-1) > 1e-5 {
			t.Errorf("%s: triangle %d normal length %g", name, i, l)
		}
		cr := cross(sub(bb, a), sub(c, a))
		if cr[0]*nrm[0]+cr[1]*nrm[1]+cr[2]*nrm[2] <= 0 {
			t.Errorf("%s: triangle %d normal disagrees with its winding", name, i)
		}
		edges[edge{a, bb}]++
		edges[edge{bb, c}]++
		edges[edge{c, a}]++
		vol += (a[0]*(bb[1]*c[2]-bb[2]*c[1]) - a[1]*(bb[0]*c[2]-bb[2]*c[0]) + a[2]*(bb[0]*c[1]-bb[1]*c[0])) / 6
	}
	for e, k := range edges {
		if k != 1 || edges[edge{e[1], e[0]}] != 1 {
			t.Errorf("%s: edge %v used %d times, reverse %d: mesh not closed", name, e, k, edges[edge{e[1], e[0]}])
			break
		}
	}
	if !(vol > 0) {
		t.Errorf("%s: enclosed volume %g, want positive", name, vol)
	}
}

// TestMeshVolume checks generated meshes against their primitives' volume.
func TestMeshVolume(t *testing.T) {
	for _, g := range []Geom{
		{Shape: Box, Size: vec3{0.1, 0.2, 0.3}},
		{Shape: Cylinder, Size: vec3{0.05, 0.2}, Axis: X},
		{Shape: Cylinder, Size: vec3{0.05, 0.2}, Axis: Y},
		{Shape: Cylinder, Size: vec3{0.05, 0.2}, Axis: Z},
	} {
		b := encodeSTL("t", meshTriangles(g))
		checkSTL(t, "t", b)
		vol := 0.0
		var lo, hi vec3
		for _, tr := range meshTriangles(g) {
			a, bb, c := tr[0], tr[1], tr[2]
			vol += (a[0]*(bb[1]*c[2]-bb[2]*c[1]) - a[1]*(bb[0]*c[2]-bb[2]*c[0]) + a[2]*(bb[0]*c[1]-bb[1]*c[0])) / 6
			for _, p := range tr {
				for i := range p {
					lo[i], hi[i] = min(lo[i], p[i]), max(hi[i], p[i])
				}
			}
		}
		// A 24-sided prism holds 98.9% of its cylinder.
		if r := vol / g.volume(); r < 0.98 || r > 1.0000001 {
			t.Errorf("%v: mesh volume %g is %.4f of the primitive's", g, vol, r)
		}
		if g.Shape == Cylinder && math.Abs(hi[g.Axis]-g.Size[1]/2) > 1e-9 {
			t.Errorf("%v: mesh extends to %g along its axis, want %g", g, hi[g.Axis], g.Size[1]/2)
		}
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"UR5e Arm", "ur5e_arm"},
		{"  --Hello,   World!!  ", "hello_world"},
		{"../../etc/passwd", "etc_passwd"},
		{"", "robot"},
		{"///", "robot"},
		{"ÜBER-Greifer 2", "ber_greifer_2"},
		{".hidden", "hidden"},
		{strings.Repeat("a", 100), strings.Repeat("a", 64)},
		{strings.Repeat("ab ", 40), strings.TrimSuffix(strings.Repeat("ab_", 22), "_")[:64]},
	}
	for _, tt := range tests {
		if got := Slug(tt.in); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSlug(f *testing.F) {
	for _, s := range []string{"", "UR5e Arm", "../x", "a/b\\c", "\x00", "日本語"} {
		f.Add(s)
	}
	valid := regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)
	f.Fuzz(func(t *testing.T, s string) {
		got := Slug(s)
		if !valid.MatchString(got) || len(got) > 64 {
			t.Errorf("Slug(%q) = %q", s, got)
		}
		if Slug(got) != got {
			t.Errorf("Slug is not idempotent on %q: %q", got, Slug(got))
		}
	})
}

// TestGolden compares the text exports of one small robot per kind with
// testdata/*.golden; run with -update to rewrite them, and again without
// to check they are stable.
func TestGolden(t *testing.T) {
	cases := []struct{ name, prompt string }{
		{"arm", "2-DOF arm"},
		{"arm_gripper", "1-DOF arm with a parallel jaw gripper"},
		{"gripper", "parallel jaw gripper"},
		{"quadruped", "quadruped"},
		{"humanoid", "humanoid"},
		{"mobile_base", "mobile base"},
		{"cabinet", "cabinet"},
		{"modular_base", "modular mobile base"},
	}
	for _, c := range cases {
		r := Generate("golden-"+c.name, c.name, c.prompt)
		outs := []struct {
			ext  string
			body []byte
		}{{"urdf", r.URDF()}, {"xml", r.MJCF()}, {"usda", r.USDA()}}
		if r.Modular() {
			outs = append(outs, struct {
				ext  string
				body []byte
			}{"wheel.xml", r.wheelModuleMJCF()})
		}
		for _, out := range outs {
			path := filepath.Join("testdata", c.name+"."+out.ext+".golden")
			if *update {
				if err := os.WriteFile(path, out.body, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out.body, want) {
				t.Errorf("%s differs from the golden file; if the change is intended, run go test ./formats/procgen -update\n%s", path, firstDiff(string(want), string(out.body)))
			}
		}
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n-%s\n+%s", i+1, a, b)
		}
	}
	return ""
}

// FuzzGenerate: any id, name and prompt give a consistent robot (Generate
// panics otherwise) whose three exports render, the XML ones well-formed.
func FuzzGenerate(f *testing.F) {
	for _, s := range samplePrompts {
		f.Add("ast_01", s.name, s.prompt)
	}
	f.Add("", "", "")
	f.Add("x\x00y", "<robot>&\"", "99 DOF arm -- with gripper")
	f.Add("--><evil/>\xff\"", "n", "humanoid")
	f.Fuzz(func(t *testing.T, id, name, prompt string) {
		r := Generate(id, name, prompt)
		if err := r.check(); err != nil {
			t.Fatal(err)
		}
		for _, fm := range formats.All {
			body, filename, err := r.Export(fm)
			if err != nil || len(body) == 0 || !strings.HasPrefix(filename, r.Slug()) {
				t.Fatalf("%s: %d bytes, %q, %v", fm, len(body), filename, err)
			}
		}
		for _, doc := range [][]byte{r.URDF(), r.MJCF()} {
			if err := wellFormed(doc); err != nil {
				t.Fatalf("%v\n%s", err, doc[:min(len(doc), 300)])
			}
		}
	})
}

// wellFormed parses an XML document to its end and checks it has one root
// element.
func wellFormed(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 || depth != 0 {
		return fmt.Errorf("%d root elements, depth %d at the end", roots, depth)
	}
	return nil
}
