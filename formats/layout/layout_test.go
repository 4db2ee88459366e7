package layout

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
)

var prompts = []struct{ id, name, prompt string }{
	{"ast_arm6", "Arm Six", "A 6-DOF industrial robotic arm with a parallel jaw gripper"},
	{"ast_grip", "Gripper", "a two finger gripper"},
	{"ast_quad", "Dog", "a quadruped robot dog"},
	{"ast_hum", "Walker", "a small humanoid"},
	{"ast_base", "Base", "a mobile base with wheels"},
	{"ast_cab", "Cabinet", "a kitchen cabinet with doors"},
}

func TestPlaceMuJoCoProcgen(t *testing.T) {
	dir := t.TempDir()
	tg := Target{Dir: dir, Layout: MuJoCo}
	for _, p := range prompts {
		t.Run(p.name, func(t *testing.T) {
			src := procgenSource(t, p.id, p.name, p.prompt, formats.MuJoCo)
			slug := Slug(p.name)
			placed, err := tg.Place(Asset{ID: p.id, Name: p.name, Slug: slug, Sources: []Source{src}})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{slug + "/" + slug + ".xml", slug + "/scene.xml"}
			got := []string{slug + "/" + placed.Models[0].Path, slug + "/" + placed.Models[0].Scene}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("models %v, want %v", got, want)
			}
			for _, f := range placed.Files {
				if strings.HasSuffix(f.Path, ".stl") && !strings.HasPrefix(f.Path, "assets/") {
					t.Errorf("mesh %s outside assets/", f.Path)
				}
			}
			for _, m := range want {
				ok, out, ran := reftest.MuJoCo222(t, filepath.Join(dir, m))
				if ran && !ok {
					t.Errorf("%s does not compile: %s", m, out)
				}
			}
		})
	}
}

// mjcfModels lists the corpus's main models: the files its scene files
// include.
func mjcfModels(t *testing.T, corpus string) []string {
	scenes, _ := filepath.Glob(filepath.Join(corpus, "mjcf", "*", "scene*.xml"))
	seen := map[string]bool{}
	var out []string
	for _, s := range scenes {
		doc := etree.NewDocument()
		if err := doc.ReadFromFile(s); err != nil {
			t.Fatal(err)
		}
		for _, inc := range doc.FindElements("//include") {
			m := filepath.Join(filepath.Dir(s), inc.SelectAttrValue("file", ""))
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no MJCF models found in the corpus")
	}
	return out
}

// TestPlaceMuJoCoCorpus places every Menagerie model of the corpus and
// compiles the placed scene with MuJoCo 2.2.2 from where it stands: a model
// whose own scene compiles must compile once placed.
func TestPlaceMuJoCoCorpus(t *testing.T) {
	corpus := corpusDir(t)
	dir := t.TempDir()
	tg := Target{Dir: dir, Layout: MuJoCo}
	for i, m := range mjcfModels(t, corpus) {
		if testing.Short() && i%3 != 0 {
			continue // a third of them in -short runs
		}
		tree := filepath.Dir(m)
		name := filepath.Base(tree) + " " + strings.TrimSuffix(filepath.Base(m), ".xml")
		t.Run(name, func(t *testing.T) {
			slug := Slug(name)
			placed, err := tg.Place(Asset{ID: name, Name: name, Slug: slug, Sources: []Source{{Format: formats.MuJoCo, Hash: "h", Tree: tree, Model: filepath.Base(m)}}})
			if err != nil {
				t.Fatal(err)
			}
			origOK, origOut, ran := reftest.MuJoCo222(t, m)
			for _, f := range []string{placed.Models[0].Path, placed.Models[0].Scene} {
				if !ran {
					break
				}
				ok, out, _ := reftest.MuJoCo222(t, filepath.Join(dir, slug, f))
				if origOK && !ok {
					t.Errorf("%s compiles where it is, but not once placed: %s", m, out)
				}
				if !origOK && !ok && firstLine(out) != firstLine(origOut) && !strings.Contains(origOut, "assetdir") {
					t.Errorf("placing %s changed its compile error:\n  before: %s\n  after:  %s", m, firstLine(origOut), firstLine(out))
				}
			}
			// Every asset sits under assets/.
			for _, f := range placed.Files {
				if f.Path != slug+".xml" && f.Path != "scene.xml" && !strings.HasPrefix(f.Path, "assets/") && path.Ext(f.Path) != ".xml" {
					t.Errorf("%s is outside assets/", f.Path)
				}
			}
		})
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// urdfModels lists the corpus URDFs that reference meshes.
func urdfModels(t *testing.T, corpus string) []string {
	var out []string
	filepath.WalkDir(filepath.Join(corpus, "urdf"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".urdf" {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(data), "<mesh") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestPlaceIsaacCorpus places every corpus URDF with meshes (package://,
// relative and absolute URIs) and checks that the placed URDF parses with
// check_urdf when the original does and that every mesh resolves relative
// to it. A mesh the corpus itself lacks must fail with an error naming it.
func TestPlaceIsaacCorpus(t *testing.T) {
	corpus := corpusDir(t)
	dir := t.TempDir()
	tg := Target{Dir: dir, Layout: Isaac}
	models := urdfModels(t, corpus)
	if len(models) == 0 {
		t.Fatal("no URDF with meshes in the corpus")
	}
	placedN := 0
	for i, m := range models {
		if testing.Short() && i%3 != 0 {
			continue // a third of them in -short runs
		}
		rel, _ := filepath.Rel(filepath.Join(corpus, "urdf"), m)
		root := filepath.Join(corpus, "urdf", strings.Split(rel, string(filepath.Separator))[0])
		model, _ := filepath.Rel(root, m)
		name := strings.TrimSuffix(rel, ".urdf")
		t.Run(name, func(t *testing.T) {
			slug := Slug(name)
			placed, err := tg.Place(Asset{ID: name, Name: name, Slug: slug, Sources: []Source{{Format: formats.IsaacURDF, Hash: "h", Tree: root, Model: filepath.ToSlash(model)}}})
			if err != nil {
				if !strings.Contains(err.Error(), "not in the export") || !strings.Contains(err.Error(), filepath.ToSlash(model)+":") {
					t.Fatalf("place: %v", err)
				}
				t.Logf("refused, naming the file: %v", err)
				return
			}
			placedN++
			urdf := filepath.Join(dir, slug, placed.Models[0].Path)
			if placed.Models[0].Path != "urdf/"+slug+".urdf" {
				t.Errorf("placed at %s", placed.Models[0].Path)
			}
			if ok, _, _ := reftest.CheckURDF(t, m); ok {
				if ok, out, _ := reftest.CheckURDF(t, urdf); !ok {
					t.Errorf("check_urdf rejects the placed URDF: %s", out)
				}
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromFile(urdf); err != nil {
				t.Fatal(err)
			}
			for _, el := range doc.FindElements("//mesh") {
				fn := el.SelectAttrValue("filename", "")
				if strings.Contains(fn, "://") || filepath.IsAbs(fn) || !strings.HasPrefix(fn, "meshes/") {
					t.Errorf("mesh URI %q not rewritten to a relative path", fn)
				}
				if _, err := os.Stat(filepath.Join(filepath.Dir(urdf), fn)); err != nil {
					t.Errorf("mesh %q does not resolve: %v", fn, err)
				}
			}
		})
	}
	if placedN == 0 {
		t.Error("no corpus URDF could be placed")
	}
}

func TestPlaceIsaacProcgen(t *testing.T) {
	dir := t.TempDir()
	tg := Target{Dir: dir, Layout: Isaac}
	for _, p := range prompts[:3] {
		usd := procgenSource(t, p.id, p.name, p.prompt, formats.IsaacUSD)
		urdf := procgenSource(t, p.id, p.name, p.prompt, formats.IsaacURDF)
		slug := Slug(p.name)
		placed, err := tg.Place(Asset{ID: p.id, Name: p.name, Slug: slug, Sources: []Source{usd, urdf}})
		if err != nil {
			t.Fatal(err)
		}
		if len(placed.Models) != 2 || placed.Models[1].Path != slug+".usda" || placed.Models[0].Path != "urdf/"+slug+".urdf" {
			t.Fatalf("models %+v", placed.Models)
		}
		if ok, out, ran := reftest.CheckURDF(t, filepath.Join(dir, slug, "urdf", slug+".urdf")); ran && !ok {
			t.Errorf("check_urdf: %s", out)
		}
		if problems := tg.Check(placed, true); len(problems) > 0 {
			t.Errorf("fresh placement fails its check: %v", problems)
		}
	}
}

// TestLinkModes places with each link mode and checks what the files are.
func TestLinkModes(t *testing.T) {
	src := procgenSource(t, "ast_1", "Arm", "a 3-DOF arm", formats.MuJoCo)
	for _, mode := range []LinkMode{Copy, Hardlink, Symlink} {
		t.Run(string(mode), func(t *testing.T) {
			dir := t.TempDir()
			tg := Target{Dir: dir, Layout: MuJoCo, Link: mode}
			placed, err := tg.Place(Asset{ID: "ast_1", Name: "Arm", Slug: "arm", Sources: []Source{src}})
			if err != nil {
				t.Fatal(err)
			}
			var mesh string
			for _, f := range placed.Files {
				if strings.HasSuffix(f.Path, ".stl") {
					mesh = filepath.Join(dir, "arm", f.Path)
					break
				}
			}
			if mesh == "" {
				t.Fatal("no mesh placed")
			}
			li, err := os.Lstat(mesh)
			if err != nil {
				t.Fatal(err)
			}
			orig := filepath.Join(src.Tree, "assets", filepath.Base(mesh))
			oi, err := os.Stat(orig)
			if err != nil {
				t.Fatal(err)
			}
			switch mode {
			case Symlink:
				if li.Mode()&os.ModeSymlink == 0 {
					t.Errorf("%s is not a symlink", mesh)
				}
			case Hardlink:
				if !os.SameFile(li, oi) {
					t.Errorf("%s is not a hard link of %s", mesh, orig)
				}
				if oi.Mode().Perm()&0o222 != 0 {
					t.Errorf("the linked source file is writable (%v): a simulator could corrupt the cache", oi.Mode())
				}
			case Copy:
				if os.SameFile(li, oi) || li.Mode()&os.ModeSymlink != 0 {
					t.Errorf("%s is not an independent copy", mesh)
				}
			}
			if ok, out, ran := reftest.MuJoCo222(t, filepath.Join(dir, "arm", "scene.xml")); ran && !ok {
				t.Errorf("scene does not compile: %s", out)
			}
		})
	}
}

// TestHostileNames: names that try to escape never leave the target folder.
func TestHostileNames(t *testing.T) {
	names := []string{
		"../../etc", "../..", "/etc/passwd", "a/b/c", `a\b\..\..\c`, ".", "..", "",
		"name\x00with\x1bcontrol\n\tchars", strings.Repeat("very long name ", 40),
		"Gripper", "gripper", "GRIPPER", "CON", "assets", ".gizmo", "ünïcödé ロボット",
	}
	dir := t.TempDir()
	tg := Target{Dir: filepath.Join(dir, "models"), Layout: MuJoCo}
	src := procgenSource(t, "x", "x", "a gripper", formats.MuJoCo)
	var items []Named
	for i, n := range names {
		items = append(items, Named{ID: fmt.Sprintf("ast_%02d", i), Name: n})
	}
	slugs := Slugs(items, nil)
	seen := map[string]bool{}
	for _, it := range items {
		s := slugs[it.ID]
		if seen[strings.ToLower(s)] {
			t.Errorf("slug %q given twice", s)
		}
		seen[strings.ToLower(s)] = true
		if len(s) > MaxSlug || strings.ContainsAny(s, `/\.`) || s == "" {
			t.Errorf("name %q: bad slug %q", it.Name, s)
		}
		if _, err := tg.Place(Asset{ID: it.ID, Name: it.Name, Slug: s, Sources: []Source{src}}); err != nil {
			t.Fatalf("name %q slug %q: %v", it.Name, s, err)
		}
	}
	// Nothing but the target folder was created.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "models" {
		t.Errorf("placement wrote outside the target: %v", ents)
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&os.ModeSymlink != 0 {
			dest, _ := filepath.EvalSymlinks(p)
			if !strings.HasPrefix(dest, tg.Dir+string(filepath.Separator)) {
				t.Errorf("%s points outside the target: %s", p, dest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A slug that is not one is refused.
	if _, err := tg.Place(Asset{ID: "e", Slug: "../x", Sources: []Source{src}}); err == nil {
		t.Error("a slug with .. was accepted")
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ name, want string }{
		{"UR5e Arm", "ur5e-arm"},
		{"../../etc", "etc"},
		{"a/b", "a-b"},
		{"  --x--  ", "x"},
		{"", "asset"},
		{"..", "asset"},
		{"CON", "con-asset"},
		{"snake_case Name", "snake_case-name"},
		{"Robot\x00\x07 Arm", "robot-arm"},
		{strings.Repeat("a", 100), strings.Repeat("a", MaxSlug)},
		// Other scripts are transliterated, not dropped.
		{"Робот", "robot"},
		{"Робот-манипулятор 2", "robot-manipuliator-2"},
		{"üüü", "uuu"},
		{"Über-Greifer", "uber-greifer"},
		{"Straße", "strasse"},
		{"Ρομπότ", "rompot"},
		{"机器人", "ji-qi-ren"},
		{"ロボット", "robotsuto"},
		{"로봇 팔", "robos-pal"},
		{"رجل آلي", "rjl-aly"},
		{"🤖🤖", "asset"},
		{"Arm 🤖 v2", "arm-v2"},
		{strings.Repeat("机", 100), strings.TrimSuffix(strings.Repeat("ji-", 16), "-")},
	}
	for _, tt := range tests {
		if got := Slug(tt.name); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSlugsStable(t *testing.T) {
	a := []Named{{"ast_b2", "Gripper"}, {"ast_a1", "gripper"}, {"ast_c3", "Arm"}}
	s1 := Slugs(a, nil)
	if s1["ast_a1"] == s1["ast_b2"] {
		t.Fatalf("equal names share a slug: %v", s1)
	}
	if s1["ast_c3"] != "arm" {
		t.Errorf("unique name got %q", s1["ast_c3"])
	}
	// Order of items does not matter.
	s2 := Slugs([]Named{a[2], a[0], a[1]}, nil)
	if fmt.Sprint(s1) != fmt.Sprint(s2) {
		t.Errorf("slugs depend on order: %v vs %v", s1, s2)
	}
	// A slug once given is kept when another asset of that name appears.
	first := Slugs([]Named{{"ast_z9", "Hand"}}, nil)
	later := Slugs([]Named{{"ast_z9", "Hand"}, {"ast_a0", "hand"}}, first)
	if later["ast_z9"] != first["ast_z9"] || later["ast_a0"] == later["ast_z9"] {
		t.Errorf("slug not kept: first %v, later %v", first, later)
	}
	// Ids that differ only in case still give distinct slugs.
	c := Slugs([]Named{{"AbC", "x"}, {"abc", "x"}, {"ABC", "x"}}, nil)
	if c["AbC"] == c["abc"] || c["abc"] == c["ABC"] || c["AbC"] == c["ABC"] {
		t.Errorf("case-different ids collide: %v", c)
	}
}
