package urdf

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/validate"
)

func rules(ps []validate.Problem) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		if !seen[p.Rule] {
			seen[p.Rule] = true
			out = append(out, p.Rule)
		}
	}
	sort.Strings(out)
	return out
}

// TestVariantRules pins the rule ids each conformance variant raises, so a
// rule that stops firing (or starts firing on a harmless file) shows up.
func TestVariantRules(t *testing.T) {
	tests := []struct {
		file          string
		errors, warns []string
	}{
		{"bad_dup_attribute", []string{"urdf-xml"}, nil},
		{"bad_ns_robot", []string{"urdf-robot"}, nil},
		{"bad_material_no_name", []string{"urdf-material"}, nil},
		{"bad_visual_material_no_name", []string{"urdf-material"}, nil},
		{"bad_visual_inline_rgba", []string{"urdf-material-color"}, []string{"urdf-material-undefined"}}, // as urdfdom: a bad inline material defines nothing
		{"bad_visual_no_geometry", []string{"urdf-geometry"}, nil},
		{"bad_collision_origin", []string{"urdf-number"}, nil},
		{"bad_inertia_not_number", []string{"urdf-number"}, nil},
		{"bad_mass_no_value", []string{"urdf-inertial"}, nil},
		{"bad_cylinder_radius", []string{"urdf-number"}, nil},
		{"bad_sphere_no_radius", []string{"urdf-geometry"}, nil},
		{"bad_box_size_tab", []string{"urdf-number"}, nil},
		{"bad_geometry_first_child_unknown", []string{"urdf-geometry"}, nil},
		{"bad_limit_lower_word", []string{"urdf-number"}, nil},
		{"bad_limit_continuous_no_effort", []string{"urdf-joint-limit"}, nil},
		{"bad_mimic_multiplier", []string{"urdf-number"}, nil},
		{"bad_dynamics_damping", []string{"urdf-number"}, nil},
		{"bad_safety_k_position", []string{"urdf-number"}, nil},
		{"bad_joint_parent_no_link", []string{"urdf-joint-links"}, nil},
		{"bad_joint_spherical", []string{"urdf-joint-type"}, nil},
		{"bad_version_trailing_dot", []string{"urdf-version"}, nil},
		{"bad_two_nameless_links", []string{"urdf-link-duplicate", "urdf-link-name"}, nil},
		{"bad_duplicate_material_inline_then_top", []string{"urdf-material-duplicate"}, nil},
		{"ok_axis_bad_on_fixed_joint", nil, nil},
		{"ok_axis_missing_xyz", nil, []string{"urdf-axis-zero", "urdf-inertial-missing"}},
		{"ok_detached_cycle", nil, []string{"urdf-tree-unreachable"}},
		{"ok_inertia_triangle_violation", nil, []string{"urdf-inertia"}},
		{"ok_material_inline_then_reused", nil, nil},
		{"ok_mesh_relative_and_package", nil, nil},
		{"ok_mimic_unknown_joint", nil, []string{"urdf-inertial-missing", "urdf-mimic-joint"}},
		{"ok_negative_box_size", nil, []string{"urdf-geometry-size"}},
		{"ok_rgba_empty", nil, []string{"urdf-material-color"}},
		{"ok_transmission_unknown_joint", nil, []string{"urdf-transmission-joint"}},
		{"ok_zero_inertia_negative_mass", nil, []string{"urdf-mass"}},
		{"ok_xml_decl_version_encoding", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := Check(filepath.Join("testdata", "conformance", tt.file+".urdf"), validate.Options{})
			if got := rules(r.Errors); !reflect.DeepEqual(got, tt.errors) {
				t.Errorf("error rules %v, want %v\n%v", got, tt.errors, r.Errors)
			}
			if got := rules(r.Warnings); !reflect.DeepEqual(got, tt.warns) {
				t.Errorf("warning rules %v, want %v\n%v", got, tt.warns, r.Warnings)
			}
			if r.Valid != (len(tt.errors) == 0) {
				t.Errorf("Valid = %v with errors %v", r.Valid, r.Errors)
			}
		})
	}
}

const armURDF = `<?xml version="1.0"?>
<robot name="arm">
  <link name="base">
    <inertial><mass value="1"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial>
  </link>
  <link name="upper">
    <inertial><mass value="1"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial>
  </link>
  <joint name="shoulder" type="revolute">
    <parent link="base"/>
    <child link="upper"/>
    <axis xyz="0 0 1"/>
    <limit lower="1" upper="-1" effort="10" velocity="1"/>
  </joint>
</robot>
`

func TestPositionsAndPaths(t *testing.T) {
	r := CheckBytes("arm.urdf", []byte(armURDF), t.TempDir(), validate.Options{})
	if len(r.Errors) != 0 || len(r.Warnings) != 1 {
		t.Fatalf("want one warning, got errors %v warnings %v", r.Errors, r.Warnings)
	}
	w := r.Warnings[0]
	want := validate.Problem{Severity: validate.Warning, Rule: "urdf-limit-order", File: "arm.urdf", Line: 13, Col: 5,
		Element: "/robot[@name='arm']/joint[@name='shoulder']/limit", Message: w.Message}
	if w != want {
		t.Errorf("got  %+v\nwant %+v", w, want)
	}
	if !strings.Contains(w.Message, "shoulder") {
		t.Errorf("message does not name the joint: %s", w.Message)
	}
}

func TestStrictAndTarget(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		opts      validate.Options
		src       string
		wantRules []string // error rules
	}{
		{"default warns only", validate.Options{}, armURDF, nil},
		{"strict promotes", validate.Options{Strict: true}, armURDF, []string{"urdf-limit-order"}},
		{"mujoco: two parents", validate.Options{Target: validate.TargetMuJoCo},
			`<robot name="r"><link name="a"/><link name="b"><inertial><mass value="1"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial></link>
			<joint name="j1" type="fixed"><parent link="a"/><child link="b"/></joint><joint name="j2" type="fixed"><parent link="a"/><child link="b"/></joint></robot>`,
			[]string{"urdf-tree-parents"}},
		{"mujoco: massless moving link", validate.Options{Target: validate.TargetMuJoCo},
			`<robot name="r"><link name="a"/><link name="b"/><joint name="j" type="continuous"><parent link="a"/><child link="b"/></joint></robot>`,
			[]string{"urdf-inertial-missing"}},
		{"mujoco: mass fused from a fixed child", validate.Options{Target: validate.TargetMuJoCo},
			`<robot name="r"><link name="a"/><link name="b"/><link name="c"><inertial><mass value="1"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial></link>
			<joint name="j" type="continuous"><parent link="a"/><child link="b"/></joint><joint name="k" type="fixed"><parent link="b"/><child link="c"/></joint></robot>`,
			nil},
		{"mujoco: dae mesh", validate.Options{Target: validate.TargetMuJoCo},
			`<robot name="r"><link name="a"><visual><geometry><mesh filename="m.dae"/></geometry></visual><collision><geometry><mesh filename="m.dae"/></geometry></collision></link></robot>`,
			[]string{"mujoco-mesh-format"}}, // the collision mesh: MuJoCo discards visuals
		{"mujoco: mesh not beside the URDF", validate.Options{Target: validate.TargetMuJoCo},
			`<robot name="r"><link name="a"><collision><geometry><mesh filename="sub/m.stl"/></geometry></collision></link></robot>`,
			[]string{"mujoco-mesh-path"}},
		{"mujoco: three-number rgba", validate.Options{Target: validate.TargetMuJoCo},
			`<robot name="r"><material name="m"><color rgba="1 0 0"/></material><link name="a"/></robot>`,
			[]string{"urdf-material-color"}},
		{"isaac: planar joint and unknown mimic", validate.Options{Target: validate.TargetIsaac},
			`<robot name="r"><link name="a"/><link name="b"><inertial><mass value="1"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial></link>
			<joint name="j" type="planar"><parent link="a"/><child link="b"/><mimic joint="zz"/></joint></robot>`,
			[]string{"isaac-joint-planar", "isaac-mimic-joint"}},
		{"isaac: ply mesh", validate.Options{Target: validate.TargetIsaac},
			`<robot name="r"><link name="a"><visual><geometry><mesh filename="m.ply"/></geometry></visual></link></robot>`,
			[]string{"isaac-mesh-format"}},
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"m.dae", "m.ply", "sub/m.stl"} {
		if err := os.WriteFile(filepath.Join(dir, m), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := CheckBytes(filepath.Join(dir, "r.urdf"), []byte(tt.src), dir, tt.opts)
			if got := rules(r.Errors); !reflect.DeepEqual(got, tt.wantRules) {
				t.Errorf("error rules %v, want %v\n%v", got, tt.wantRules, r.Errors)
			}
			if tt.opts.Strict && len(r.Warnings) != 0 {
				t.Errorf("strict report keeps warnings: %v", r.Warnings)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	root := t.TempDir()
	write := func(p string) string {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("solid x\nendsolid x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return full
	}
	inPkg := write("ws/src/my_robot/meshes/base.stl")
	beside := write("ws/src/my_robot/urdf/meshes/near.stl")
	other := write("elsewhere/other_pkg/meshes/o.stl")
	pkgDir := write("pkgs/third/meshes/t.stl")
	urdfDir := filepath.Join(root, "ws", "src", "my_robot", "urdf")
	tests := []struct {
		uri   string
		paths []string
		env   string
		want  string
	}{
		{"package://my_robot/meshes/base.stl", nil, "", inPkg}, // ancestor folder
		{"meshes/near.stl", nil, "", beside},
		{"file://" + inPkg, nil, "", inPkg},
		{inPkg, nil, "", inPkg},
		{"package://other_pkg/meshes/o.stl", nil, "", ""},
		{"package://other_pkg/meshes/o.stl", []string{filepath.Join(root, "elsewhere")}, "", other},
		{"package://other_pkg/meshes/o.stl", nil, filepath.Join(root, "nothing") + string(os.PathListSeparator) + filepath.Join(root, "elsewhere"), other},
		{"package://third/meshes/t.stl", []string{filepath.Join(root, "pkgs", "third")}, "", pkgDir}, // the path is the package itself
		{"package://my_robot/meshes/missing.stl", nil, "", ""},
		{"package://my_robot/meshes", nil, "", ""}, // a folder is not a mesh
		{"", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			t.Setenv("ROS_PACKAGE_PATH", tt.env)
			got, ok := resolve(tt.uri, urdfDir, tt.paths, validate.Options{})
			if ok != (tt.want != "") || (ok && got != tt.want) {
				t.Errorf("resolve(%q) = %q, %v; want %q", tt.uri, got, ok, tt.want)
			}
		})
	}
}

func TestParseDouble(t *testing.T) {
	good := map[string]float64{"1": 1, " 1": 1, "\t-2.5": -2.5, "+1": 1, ".5": .5, "5.": 5, "1e3": 1000, "1E-2": .01, "-0": 0, "00.1": .1, "1e-400": 0}
	for s, want := range good {
		if got, ok := parseDouble(s); !ok || got != want {
			t.Errorf("parseDouble(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", " ", "1 ", "1e", "1e+", "inf", "nan", "0x10", "1e999", "1,5", "1.5.5", "+-1", ".", "+", ".e5", "1d", "١"} {
		if _, ok := parseDouble(s); ok {
			t.Errorf("parseDouble(%q) accepted; urdfdom refuses it", s)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, s := range []string{"1.0", "01.00", " 1.0", "+1.0", "1.-0"} {
		if err := parseVersion(s); err != nil {
			t.Errorf("parseVersion(%q) = %v; urdfdom accepts it", s, err)
		}
	}
	for _, s := range []string{"", "1", "1.", ".0", "1.0.0", "1.1", "2.0", "1.0 ", "a.b", "-1.0"} {
		if err := parseVersion(s); err == nil {
			t.Errorf("parseVersion(%q) accepted; urdfdom refuses it", s)
		}
	}
}

func TestTree(t *testing.T) {
	p := filepath.Join(t.TempDir(), "arm.urdf")
	if err := os.WriteFile(p, []byte(armURDF), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := Tree(p)
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != "base" || root.Joint != nil || len(root.Children) != 1 {
		t.Fatalf("root = %+v", root)
	}
	c := root.Children[0]
	j := c.Joint
	if c.Name != "upper" || c.Line != 6 || j == nil || j.Name != "shoulder" || j.Type != "revolute" ||
		!reflect.DeepEqual(j.Axis, []float64{0, 0, 1}) || *j.Lower != 1 || *j.Upper != -1 {
		t.Fatalf("child = %+v joint %+v", c, j)
	}
	for _, bad := range []string{"bad_joint_spherical", "bad_ns_robot"} {
		if _, err := Tree(filepath.Join("testdata", "conformance", bad+".urdf")); err == nil {
			t.Errorf("Tree(%s) gave a tree", bad)
		}
	}
	for _, f := range corpusURDFs(t) {
		rep := Check(f, validate.Options{})
		_, err := Tree(f)
		onlyMeshes := !hasRule(rep.Errors, "") || len(rules(rep.Errors)) == 1 && rules(rep.Errors)[0] == "urdf-mesh-missing"
		switch {
		case err != nil && (len(rep.Errors) == 0 || onlyMeshes):
			t.Errorf("%s: no tree (%v) for a file with no structural errors", f, err)
		case err == nil && treeBroken(rep.Errors):
			t.Errorf("%s: a tree for a file with errors %v", f, rules(rep.Errors))
		}
	}
}

// hasRule reports whether ps has a problem with one of the rules ("" matches
// any).
func hasRule(ps []validate.Problem, rs ...string) bool {
	for _, p := range ps {
		for _, r := range rs {
			if r == "" || p.Rule == r {
				return true
			}
		}
	}
	return false
}

func TestDuplicateAttr(t *testing.T) {
	tests := []struct {
		src  string
		dup  bool
		line int
	}{
		{`<robot name="a" name="b"/>`, true, 1},
		{"<robot name=\"r\">\n  <link name='a' x=\"1\" name='b'/>\n</robot>", true, 2},
		{`<robot name="r"><!-- <link name="a" name="b"/> --><link name="a"/></robot>`, false, 0},
		{`<robot name="r"><![CDATA[ <x a="1" a="2"> ]]></robot>`, false, 0},
		{`<?xml version="1.0"?><!DOCTYPE robot [<!ELEMENT robot ANY>]><robot name="r>name=" version="1.0"/>`, false, 0},
		{`<robot name="r" x:name="s" xmlns:x="u"/>`, false, 0},
		{`<robot name = "r" name='s'/>`, true, 1},
	}
	for _, tt := range tests {
		p, ok := duplicateAttr([]byte(tt.src), "f")
		if ok == tt.dup || (tt.dup && p.Line != tt.line) {
			t.Errorf("duplicateAttr(%q) = %+v, %v; want duplicate %v on line %d", tt.src, p, ok, tt.dup, tt.line)
		}
	}
}

// A cycle the root reaches: urdfdom's parser accepts it (one root link),
// check_urdf then prints the tree forever. gizmo warns and Tree ends.
func TestReachableCycle(t *testing.T) {
	src := `<robot name="r"><link name="a"/><link name="b"/><link name="c"/>
<joint name="j1" type="fixed"><parent link="a"/><child link="b"/></joint>
<joint name="j2" type="fixed"><parent link="b"/><child link="c"/></joint>
<joint name="j3" type="fixed"><parent link="c"/><child link="b"/></joint></robot>`
	r := CheckBytes("c.urdf", []byte(src), t.TempDir(), validate.Options{})
	if len(r.Errors) != 0 || !hasRule(r.Warnings, "urdf-tree-cycle") || !hasRule(r.Warnings, "urdf-tree-parents") {
		t.Fatalf("errors %v, warnings %v", r.Errors, r.Warnings)
	}
	root, err := TreeBytes("c.urdf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	root.Walk(func(*validate.TreeNode, int) { n++ })
	if n != 3 {
		t.Errorf("tree has %d nodes, want 3", n)
	}
}
