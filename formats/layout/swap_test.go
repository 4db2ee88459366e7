package layout

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
)

// swapFixture places three robots of different content as one asset and
// returns a target whose clock the test can move, the three assets and
// what each placed: path -> sha256.
func swapFixture(t *testing.T) (Target, *atomic.Int64, []Asset, []map[string]string) {
	t.Helper()
	var offset atomic.Int64 // added to the real clock
	tg := Target{Dir: t.TempDir(), Layout: MuJoCo, clock: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }}
	var assets []Asset
	var contents []map[string]string
	for _, p := range []string{"a 3-DOF arm", "a 5-DOF arm with a gripper", "a two finger gripper"} {
		a := Asset{ID: "ast_x", Name: "Robot", Slug: "robot", Sources: []Source{procgenSource(t, "ast_x", "Robot", p, formats.MuJoCo)}}
		placed, err := tg.Place(a)
		if err != nil {
			t.Fatal(err)
		}
		assets = append(assets, a)
		contents = append(contents, fileMap(placed))
	}
	for i := range contents {
		for j := range i {
			if sameFiles(contents[i], contents[j]) {
				t.Fatalf("robots %d and %d place the same files", j, i)
			}
		}
	}
	return tg, &offset, assets, contents
}

func fileMap(p Placed) map[string]string {
	m := map[string]string{}
	for _, f := range p.Files {
		m[f.Path] = f.SHA256
	}
	return m
}

// withHash is the asset with its export's hash changed, so that placing it
// builds a new version folder of the same content.
func withHash(a Asset, n int) Asset {
	s := a.Sources[0]
	s.Hash = fmt.Sprintf("%s-%d", s.Hash, n)
	a.Sources = []Source{s}
	return a
}

// TestAtomicSwap places an asset again and again, building new version
// folders and switching back to intact ones, while readers read it:
//
//   - one that opens <dir>/robot once and reads every file through that
//     handle, and one that resolves its real path once and reads from there
//     (a simulator loading from it), must each read exactly the files of
//     one version, and never lose a file: no version is removed within
//     Grace, so even ENOENT is a failure;
//   - one that opens file after file through <dir>/robot must read each file
//     whole, as one of the versions has it.
//
// The number of rounds bounds it, not a duration.
func TestAtomicSwap(t *testing.T) {
	tg, offset, assets, contents := swapFixture(t)
	anyVersion := map[string]map[string]bool{} // path -> hashes it may have
	inAll := map[string]int{}                  // path -> versions holding it
	for _, files := range contents {
		for p, h := range files {
			if anyVersion[p] == nil {
				anyVersion[p] = map[string]bool{}
			}
			anyVersion[p][h] = true
			inAll[p]++
		}
	}

	rounds := 30
	if testing.Short() {
		rounds = 12
	}
	var (
		done              atomic.Bool
		swaps             atomic.Int64
		wg                sync.WaitGroup
		whole, overlapped atomic.Int64
		built             = map[string]bool{} // version folders built, by name
		reused            int
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer done.Store(true)
		seen := map[string]string{} // key -> version folder
		for i := 0; i < rounds; i++ {
			// Each key is placed twice, three rounds apart: built, then reused.
			c := i % len(assets)
			placed, err := tg.Place(withHash(assets[c], i/(2*len(assets))))
			if err != nil {
				t.Error(err)
				return
			}
			swaps.Add(1)
			if !sameFiles(fileMap(placed), contents[c]) {
				t.Errorf("round %d placed other files than robot %d", i, c)
				return
			}
			switch v, ok := seen[placed.Key]; {
			case !ok:
				if built[placed.Version] {
					t.Errorf("round %d built %s, a name used before", i, placed.Version)
				}
				built[placed.Version] = true
				seen[placed.Key] = placed.Version
			case v == placed.Version:
				reused++
			default:
				t.Errorf("round %d rebuilt %s as %s instead of reusing it", i, v, placed.Version)
			}
		}
	}()
	link := tg.Path("robot")
	reader := func(name string, read func() (map[string]string, error)) {
		defer wg.Done()
		for !done.Load() {
			before := swaps.Load()
			got, err := read()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			if !matchesOne(got, contents) {
				t.Errorf("%s saw a mix of versions: %v", name, got)
				return
			}
			whole.Add(1)
			if swaps.Load() != before {
				overlapped.Add(1)
			}
		}
	}
	wg.Add(3)
	go reader("a reader through an open folder", func() (map[string]string, error) { return readVersion(link) })
	go reader("a reader from the real path", func() (map[string]string, error) {
		real, err := filepath.EvalSymlinks(link)
		if err != nil {
			return nil, err
		}
		return readPaths(real)
	})
	go func() {
		defer wg.Done()
		for !done.Load() {
			for p, hs := range anyVersion {
				b, err := os.ReadFile(filepath.Join(link, p))
				if errors.Is(err, fs.ErrNotExist) && inAll[p] < len(contents) {
					continue // a version without this file
				}
				if err != nil {
					t.Errorf("a reader through the link: %v", err)
					return
				}
				if !hs[hashBytes(b)] {
					t.Errorf("a reader through the link: %s matches no version", p)
					return
				}
			}
		}
	}()
	wg.Wait()
	if t.Failed() {
		return
	}
	if whole.Load() == 0 {
		t.Fatal("no reader finished a read")
	}
	if want := rounds / 2; len(built) != want || reused != rounds-want {
		t.Errorf("%d versions built and %d reused, want %d and %d", len(built), reused, want, rounds-want)
	}
	t.Logf("%d rounds (%d built, %d reused); %d whole reads, %d of them across a swap", rounds, len(built), reused, whole.Load(), overlapped.Load())

	// Every version is kept within Grace; after it, only the current one
	// and the one it replaced.
	if n := len(versionDirs(t, tg, "robot")); n != len(contents)+len(built) {
		t.Errorf("%d version folders within Grace, want all %d", n, len(contents)+len(built))
	}
	offset.Store(int64(Grace + time.Minute))
	if _, err := tg.Place(assets[0]); err != nil {
		t.Fatal(err)
	}
	if vs := versionDirs(t, tg, "robot"); len(vs) != 2 {
		t.Errorf("after Grace: %v, want the current version and the one it replaced", vs)
	}
}

// TestSlowReader: a reader that resolved the folder before several swaps,
// some of which switch back to folders built earlier (its own among them),
// still reads its version whole; once that version was superseded more than
// Grace ago and another swap followed, it is removed, and the reader finds
// nothing rather than other files.
func TestSlowReader(t *testing.T) {
	tg, offset, assets, contents := swapFixture(t) // robot 2 is current
	link := tg.Path("robot")
	root, err := os.OpenRoot(link) // the reader resolves the folder
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	real, err := filepath.EvalSymlinks(link)
	if err != nil {
		t.Fatal(err)
	}
	// Robots 0, 1, 2, 0, 1 again, and new folders for 0 and 1: the old code
	// removed the reader's version at the second of these.
	for i, a := range []Asset{assets[0], assets[1], assets[2], assets[0], withHash(assets[1], 1), withHash(assets[0], 1)} {
		if _, err := tg.Place(a); err != nil {
			t.Fatalf("place %d: %v", i, err)
		}
	}
	got, err := readRoot(root)
	if err != nil || !sameFiles(got, contents[2]) {
		t.Fatalf("through the open folder, after six swaps: err %v, files %v", err, got)
	}
	if got, err := readPaths(real); err != nil || !sameFiles(got, contents[2]) {
		t.Fatalf("from the real path, after six swaps: err %v, files %v", err, got)
	}

	// Robot 2's folder was last superseded by the fourth swap. Once that is
	// more than Grace ago, the next swap removes it.
	offset.Store(int64(Grace + time.Second))
	if _, err := tg.Place(withHash(assets[2], 9)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(real); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the version superseded more than Grace ago two swaps back is still there: %v", err)
	}
	if got, err := readRoot(root); !errors.Is(err, fs.ErrNotExist) || len(got) != 0 {
		t.Fatalf("a reader of a removed version: err %v, files %v; want ENOENT and nothing", err, got)
	}
	if got, err := readPaths(real); !errors.Is(err, fs.ErrNotExist) || len(got) != 0 {
		t.Fatalf("a reader of a removed version's real path: err %v, files %v; want ENOENT and nothing", err, got)
	}
}

// TestCollect: superseded versions are kept for Grace (and the one the
// current version replaced until it is replaced in turn), then removed by a
// later Place, Remove or Collect, folders and sidecars; a version's name is
// never given again; folders left by an interrupted run or an older gizmo
// are removed the same way.
func TestCollect(t *testing.T) {
	tg, offset, assets, _ := swapFixture(t) // versions v0, v1 superseded; v2 current
	state := filepath.Join(tg.Dir, stateDir)
	v2 := tg.current("robot")
	at := func(d time.Duration) { offset.Store(int64(d)) }
	names := map[string]bool{}
	for _, v := range versionDirs(t, tg, "robot") {
		names[v] = true
	}
	place := func(a Asset) Placed {
		t.Helper()
		p, err := tg.Place(a)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// An older gizmo's folder, and a folder whose sidecar an interrupted run
	// never wrote.
	for _, v := range []string{"robot@0123456789ab", "robot@0123456789ab.2"} {
		if err := os.MkdirAll(filepath.Join(state, v, "assets"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(versionDirs(t, tg, "robot")); got != 5 {
		t.Fatalf("%d version folders, want 5", got)
	}

	at(Grace / 2)
	p3 := place(withHash(assets[0], 3))
	names[p3.Version] = true
	if got := len(versionDirs(t, tg, "robot")); got != 6 {
		t.Errorf("within Grace: %d version folders, want all 6", got)
	}
	// Grace after v0 and v1 were superseded: they go; v2 and the planted
	// ones (superseded, or first seen, at Grace/2) stay, and so does p3.
	at(Grace + time.Minute)
	p4 := place(withHash(assets[1], 4))
	names[p4.Version] = true
	want := []string{"robot@0123456789ab", "robot@0123456789ab.2", v2, p3.Version, p4.Version}
	if got := versionDirs(t, tg, "robot"); !sameStrings(got, want) {
		t.Errorf("after Grace: %v, want %v", got, want)
	}
	at(2*Grace + time.Minute)
	tg.Collect()
	if got := versionDirs(t, tg, "robot"); !sameStrings(got, []string{p3.Version, p4.Version}) {
		t.Errorf("Collect after Grace: %v, want %v and the one it replaced %v", got, p4.Version, p3.Version)
	}
	// Rebuilding a removed version's sources gives a new name.
	p5 := place(assets[0])
	if names[p5.Version] {
		t.Errorf("rebuilt under the name %s, used before", p5.Version)
	}
	// No sidecar outlives its folder.
	sidecars, _ := filepath.Glob(filepath.Join(state, "robot@*.json"))
	if len(sidecars) != len(versionDirs(t, tg, "robot")) {
		t.Errorf("sidecars %v for folders %v", sidecars, versionDirs(t, tg, "robot"))
	}

	// A removed asset's folder goes at once; its versions after Grace.
	if err := tg.Remove("robot"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(tg.Path("robot")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removed asset still linked: %v", err)
	}
	if len(versionDirs(t, tg, "robot")) == 0 {
		t.Error("Remove deleted versions a reader may be in")
	}
	at(3*Grace + 2*time.Minute)
	tg.Collect()
	if left, _ := filepath.Glob(filepath.Join(state, "robot@*")); len(left) != 0 {
		t.Errorf("a removed asset's versions after Grace: %v", left)
	}
}

// versionDirs lists the slug's version folders, sorted.
func versionDirs(t *testing.T, tg Target, slug string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(tg.Dir, stateDir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), slug+"@") {
			out = append(out, e.Name())
		}
	}
	return out
}

func sameStrings(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// readVersion opens the folder once (as a simulator resolves its path once)
// and reads every file through that handle.
func readVersion(dir string) (map[string]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return readRoot(root)
}

func readRoot(root *os.Root) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := root.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		out[p] = hashBytes(b)
		return nil
	})
	return out, err
}

// readPaths reads every file under dir by its path, as a simulator given
// that folder's path opens one file after another.
func readPaths(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = hashBytes(b)
		return nil
	})
	return out, err
}

func matchesOne(got map[string]string, versions []map[string]string) bool {
	for _, files := range versions {
		if sameFiles(got, files) {
			return true
		}
	}
	return false
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for p, h := range a {
		if b[p] != h {
			return false
		}
	}
	return true
}

// TestRepair deletes and modifies placed files and checks that Check names
// them and that placing again restores them, beside the damaged version.
func TestRepair(t *testing.T) {
	dir := t.TempDir()
	tg := Target{Dir: dir, Layout: MuJoCo}
	src := procgenSource(t, "ast_r", "Robot", "a 4-DOF arm", formats.MuJoCo)
	a := Asset{ID: "ast_r", Name: "Robot", Slug: "robot", Sources: []Source{src}}
	placed, err := tg.Place(a)
	if err != nil {
		t.Fatal(err)
	}
	if p := tg.Check(placed, true); len(p) != 0 {
		t.Fatalf("fresh placement: %v", p)
	}
	var mesh string
	for _, f := range placed.Files {
		if filepath.Ext(f.Path) == ".stl" {
			mesh = filepath.Join(dir, "robot", f.Path)
			break
		}
	}
	model := filepath.Join(dir, "robot", "robot.xml")
	if err := os.Remove(mesh); err != nil {
		t.Fatal(err)
	}
	if p := tg.Check(placed, false); len(p) != 1 || !contains(p[0], filepath.Base(mesh)) {
		t.Fatalf("deleted mesh: problems %v", p)
	}
	// Same size, same mtime, other bytes: only --verify sees it.
	fi, _ := os.Stat(model)
	b, _ := os.ReadFile(model)
	b[len(b)-2] ^= 1
	os.Chmod(model, 0o644)
	if err := os.WriteFile(model, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(model, fi.ModTime(), fi.ModTime())
	if p := tg.Check(placed, false); len(p) != 1 {
		t.Fatalf("without verify: %v", p)
	}
	if p := tg.Check(placed, true); len(p) != 2 {
		t.Fatalf("with verify: %v", p)
	}
	again, err := tg.Place(a)
	if err != nil {
		t.Fatal(err)
	}
	if again.Version == placed.Version {
		t.Errorf("repair reused the damaged folder %s", again.Version)
	}
	if p := tg.Check(again, true); len(p) != 0 {
		t.Fatalf("after repair: %v", p)
	}
	if ok, out, ran := reftest.MuJoCo222(t, filepath.Join(dir, "robot", "scene.xml")); ran && !ok {
		t.Errorf("repaired scene does not compile: %s", out)
	}
	// A folder gizmo did not place is never replaced.
	os.Remove(filepath.Join(dir, "robot"))
	os.Mkdir(filepath.Join(dir, "robot"), 0o755)
	if _, err := tg.Place(a); err == nil || !contains(err.Error(), "move it away") {
		t.Errorf("placing over a user folder: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
