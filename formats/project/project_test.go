package project

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

const full = `# a project
[assets]
ids = ["ast_1", "ast_2"]
names = ["Gripper"]
tags = ["warehouse"]
all = false

[[target]]
layout = "mujoco"
dir = "sim/mujoco/models/"

[[target]]
layout = "isaac"
dir = "sim/isaac"
formats = ["urdf"]
link = "hardlink"
`

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest("gizmo.toml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want := Selection{IDs: []string{"ast_1", "ast_2"}, Names: []string{"Gripper"}, Tags: []string{"warehouse"}}
	if !reflect.DeepEqual(m.Assets, want) {
		t.Errorf("assets %+v", m.Assets)
	}
	wantT := []Target{
		{Layout: layout.MuJoCo, Dir: "sim/mujoco/models", Formats: []formats.Format{formats.MuJoCo}, Link: layout.Copy, Line: 8},
		{Layout: layout.Isaac, Dir: "sim/isaac", Formats: []formats.Format{formats.IsaacURDF}, Link: layout.Hardlink, Line: 12},
	}
	if !reflect.DeepEqual(m.Targets, wantT) {
		t.Errorf("targets\n got %+v\nwant %+v", m.Targets, wantT)
	}
	if len(m.Digest) != 64 {
		t.Errorf("digest %q", m.Digest)
	}
}

func TestManifestErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		want       string
	}{
		{"unknown top key", "[assets]\nids = []\ncolor = \"red\"\n", 3, `unknown key "assets.color"`},
		{"unknown table", "[assets]\nall = true\n\n[extras]\nx = 1\n", 4, `unknown key "extras"`},
		{"unknown target key", full + "\n[[target]]\nlayout = \"mujoco\"\ndir = \"b\"\nlnk = \"copy\"\n", 21, `unknown key "target.lnk"`},
		{"unknown top-level key", "version = 2\n[assets]\nall = true\n", 1, `unknown key "version"`},
		{"bad layout", "[[target]]\nlayout = \"gazebo\"\ndir = \"x\"\n", 1, `unknown layout "gazebo"`},
		{"missing dir", "[[target]]\nlayout = \"mujoco\"\n", 1, "dir is missing"},
		{"escaping dir", "[[target]]\nlayout = \"mujoco\"\ndir = \"../x\"\n", 1, "not a folder inside the project"},
		{"absolute dir", "[[target]]\nlayout = \"mujoco\"\ndir = \"/tmp/x\"\n", 1, "absolute"},
		{"format not in layout", "[[target]]\nlayout = \"mujoco\"\ndir = \"x\"\nformats = [\"usd\"]\n", 1, "does not place usd"},
		{"bad link", "[[target]]\nlayout = \"mujoco\"\ndir = \"x\"\nlink = \"move\"\n", 1, `unknown link mode "move"`},
		{"same dir twice", "[[target]]\nlayout = \"mujoco\"\ndir = \"x\"\n[[target]]\nlayout = \"isaac\"\ndir = \"x/\"\n", 4, "also the dir"},
		{"nested dir", "[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n[[target]]\nlayout = \"isaac\"\ndir = \"sim/isaac\"\n", 4, `dir "sim/isaac" is inside the dir "sim" of the target on line 1`},
		{"nested dir, inner first", "[[target]]\nlayout = \"isaac\"\ndir = \"sim/isaac\"\n[[target]]\nlayout = \"mujoco\"\ndir = \"./sim\"\n", 4, `dir "sim/isaac" of the target on line 1 is inside the dir "sim"`},
		{"syntax", "[assets]\nids = [\"a\"\n", 2, ""},
		{"wrong type", "[assets]\nall = \"yes\"\n", 0, "all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest("proj/gizmo.toml", []byte(tt.text))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *project.Error", err)
			}
			if tt.line != 0 && pe.Line != tt.line {
				t.Errorf("line %d, want %d (%v)", pe.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "proj/gizmo.toml") {
				t.Errorf("error %q does not name the file and %q", err, tt.want)
			}
		})
	}
}

func TestStarterManifest(t *testing.T) {
	b := StarterManifest([]layout.Layout{layout.MuJoCo, layout.Isaac})
	golden(t, "starter.toml", b)
	m, err := ParseManifest("gizmo.toml", b)
	if err != nil {
		t.Fatalf("the starter manifest does not parse: %v", err)
	}
	if len(m.Targets) != 2 || !m.Assets.Empty() {
		t.Errorf("starter: %+v", m)
	}
}

func TestAddID(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty array", "[assets]\nids = []   # ids\n", "[assets]\nids = [\"ast_9\"]   # ids\n"},
		{"one element", "[assets]\nids = [\"a\"]\n", "[assets]\nids = [\"a\", \"ast_9\"]\n"},
		{"multi-line", "[assets]\nids = [\n  \"a\",\n  \"b\"\n]\n", "[assets]\nids = [\n  \"a\",\n  \"b\",\n  \"ast_9\",\n]\n"},
		{"no ids key", "[assets]\nall = false\n", "[assets]\nids = [\"ast_9\"]\nall = false\n"},
		{"no assets table", "# hi\n[[target]]\nlayout = \"mujoco\"\ndir = \"x\"\n", "# hi\n[assets]\nids = [\"ast_9\"]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"x\"\n"},
		{"empty file", "", "[assets]\nids = [\"ast_9\"]\n\n"},
		{"ids in another table untouched", "[[target]]\nids = []\n[assets]\nnames = []\n", "[[target]]\nids = []\n[assets]\nids = [\"ast_9\"]\nnames = []\n"},
		{"bracket in a string", "[assets]\nids = [\"a]b\"] # [x]\n", "[assets]\nids = [\"a]b\", \"ast_9\"] # [x]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AddID([]byte(tt.in), "ast_9"))
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestAddScene: a scene id goes under [assets] scenes, beside ids, which
// stay as they were; the result parses with the scene selected.
func TestAddScene(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"beside ids", "[assets]\nids = [\"a\"]\n", "[assets]\nscenes = [\"k3q9\"]\nids = [\"a\"]\n"},
		{"one scene", "[assets]\nids = [\"a\"]\nscenes = [\"s1\"]\n", "[assets]\nids = [\"a\"]\nscenes = [\"s1\", \"k3q9\"]\n"},
		{"no assets table", "[[target]]\nlayout = \"mujoco\"\ndir = \"x\"\n", "[assets]\nscenes = [\"k3q9\"]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"x\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AddScene([]byte(tt.in), "k3q9")
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			m, err := ParseManifest(ManifestFile, got)
			if err != nil || !slices.Contains(m.Assets.Scenes, "k3q9") || slices.Contains(m.Assets.IDs, "k3q9") || !m.Assets.Lists("k3q9") {
				t.Errorf("parsed %+v (%v): want k3q9 among the scenes only", m, err)
			}
		})
	}
}

// TestAddTargetID: an id goes into the ids of the numbered [[target]] only
// (the other targets and [assets] stay as they were), and the result
// parses with the target listing it.
func TestAddTargetID(t *testing.T) {
	two := "[assets]\nids = [\"a\"]\n\n[[target]]\nlayout = \"isaac\"\ndir = \"i\"\n\n[[target]] # mine\nlayout = \"mujoco\"\ndir = \"m\"\n"
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"no ids key", two, 1, "[assets]\nids = [\"a\"]\n\n[[target]]\nlayout = \"isaac\"\ndir = \"i\"\n\n[[target]] # mine\nids = [\"ast_9\"]\nlayout = \"mujoco\"\ndir = \"m\"\n"},
		{"first target", two, 0, "[assets]\nids = [\"a\"]\n\n[[target]]\nids = [\"ast_9\"]\nlayout = \"isaac\"\ndir = \"i\"\n\n[[target]] # mine\nlayout = \"mujoco\"\ndir = \"m\"\n"},
		{"its ids", "[[target]]\nlayout = \"isaac\"\ndir = \"i\"\nids = [\"b\"]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"m\"\nids = [\"c\"]\n", 1,
			"[[target]]\nlayout = \"isaac\"\ndir = \"i\"\nids = [\"b\"]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"m\"\nids = [\"c\", \"ast_9\"]\n"},
		{"no such target", two, 2, two},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AddTargetID([]byte(tt.in), tt.n, "ast_9")
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			m, err := ParseManifest(ManifestFile, got)
			if err != nil {
				t.Fatal(err)
			}
			for i, tg := range m.Targets {
				if tg.Lists("ast_9") != (i == tt.n) {
					t.Errorf("target %d lists ast_9: %v", i, tg.Lists("ast_9"))
				}
			}
			if m.Assets.Lists("ast_9") {
				t.Errorf("[assets] lists ast_9")
			}
		})
	}
	got := AddTargetScene([]byte(two), 1, "k3q9")
	m, err := ParseManifest(ManifestFile, got)
	if err != nil || !slices.Contains(m.Targets[1].Scenes, "k3q9") || m.Targets[0].Lists("k3q9") {
		t.Errorf("AddTargetScene: %+v %v\n%s", m, err, got)
	}
}

func TestEdit(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), StarterManifest([]layout.Layout{layout.MuJoCo}), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Edit(dir, func(b []byte) ([]byte, error) {
		b = AddID(b, "ast_1")
		return AddTarget(b, Target{Layout: layout.Isaac, Dir: "isaac", Formats: []formats.Format{formats.IsaacURDF}, Link: layout.Symlink}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Assets.IDs, []string{"ast_1"}) || len(m.Targets) != 2 || m.Targets[1].Link != layout.Symlink {
		t.Errorf("after edit: %+v", m)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if !strings.Contains(string(data), "# Which assets") {
		t.Error("the edit lost the comments")
	}
	// An edit that breaks the manifest is refused and leaves the file alone.
	_, err = Edit(dir, func(b []byte) ([]byte, error) { return append(b, "bogus = 1\n"...), nil })
	if err == nil {
		t.Fatal("a breaking edit was written")
	}
	after, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if string(after) != string(data) {
		t.Error("a refused edit changed the file")
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	l := &Lock{Manifest: "abc", Entries: []Entry{
		{ID: "ast_2", Name: "Arm \"big\"", Format: formats.MuJoCo, Hash: "h2", Target: "m", Path: "m/arm/arm.xml"},
		{ID: "ast_1", Name: "Gripper", Format: formats.IsaacURDF, Hash: "h1", Target: "i", Path: "i/gripper/urdf/gripper.urdf"},
	}}
	if err := l.Write(dir); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, LockFile))
	golden(t, "gizmo.lock", data)
	got, err := ReadLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, l) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, l)
	}
	if d := l.Diff(got, false); len(d) != 0 {
		t.Errorf("diff of equal locks: %v", d)
	}
	other := &Lock{Entries: []Entry{
		{ID: "ast_2", Name: "Arm", Format: formats.MuJoCo, Hash: "h2-new", Target: "m", Path: "m/arm/arm.xml"},
		{ID: "ast_3", Name: "Hand", Format: formats.MuJoCo, Hash: "h3", Target: "m", Path: "m/hand/hand.xml"},
	}}
	d := l.Diff(other, false)
	if len(d) != 3 || !strings.Contains(strings.Join(d, "\n"), "ast_1") || !strings.Contains(strings.Join(d, "\n"), "ast_2") || !strings.Contains(strings.Join(d, "\n"), "ast_3") {
		t.Errorf("diff names every changed asset: %q", d)
	}
	if _, err := ReadLock(t.TempDir()); !errors.Is(err, ErrNoLock) {
		t.Errorf("missing lock: %v", err)
	}
	os.WriteFile(filepath.Join(dir, LockFile), append(data, "extra = 1\n"...), 0o644)
	if _, err := ReadLock(dir); err == nil || !strings.Contains(err.Error(), `asset.extra"`) {
		t.Errorf("unknown lock key: %v", err)
	}
}

// TestLockUnplaced: the assets a lock lists as not placed survive a round
// trip, sorted by id, and a lock without them writes no [[unplaced]].
func TestLockUnplaced(t *testing.T) {
	dir := t.TempDir()
	l := &Lock{Manifest: "abc", Unplaced: []Unplaced{{ID: "ast_9", Name: "Late", Status: "processing"}, {ID: "ast_1", Name: "Broken", Status: "failed"}}}
	if err := l.Write(dir); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Unplaced) != 2 || got.Unplaced[0].ID != "ast_1" || got.Unplaced[1].Status != "processing" {
		t.Errorf("unplaced after a round trip: %+v", got.Unplaced)
	}
	l = &Lock{Manifest: "abc"}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "unplaced") {
		t.Errorf("a lock with every asset placed mentions unplaced:\n%s", data)
	}
}

// TestManifestScenes: [assets] scenes names scenes of the current
// generation; a manifest with only scenes selects something.
func TestManifestScenes(t *testing.T) {
	m, err := ParseManifest("gizmo.toml", []byte("[assets]\nscenes = [\"3kq9v0m2x7c1d8fa\"]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Assets.Scenes) != 1 || m.Assets.Scenes[0] != "3kq9v0m2x7c1d8fa" || m.Assets.Empty() {
		t.Errorf("selection %+v", m.Assets)
	}
}
