package layout

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/antimlabs/gizmo/formats"
)

// TestAtomicSwap re-places an asset in a loop, rotating three versions
// (so that versions are built, reused and collected), while readers open
// the asset's folder and read every file. Each reader must see exactly the
// files of one version, never a mix and never a torn file.
func TestAtomicSwap(t *testing.T) {
	dir := t.TempDir()
	tg := Target{Dir: dir, Layout: MuJoCo}
	prompts := []string{"a 3-DOF arm", "a 5-DOF arm with a gripper", "a two finger gripper"}
	var assets []Asset
	versions := map[string]map[string]string{} // key -> path -> sha256
	for i, p := range prompts {
		src := procgenSource(t, "ast_x", "Robot", p, formats.MuJoCo)
		a := Asset{ID: "ast_x", Name: "Robot", Slug: "robot", Sources: []Source{src}}
		placed, err := tg.Place(a)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for _, f := range placed.Files {
			files[f.Path] = f.SHA256
		}
		versions[placed.Key] = files
		assets = append(assets, a)
		_ = i
	}
	if len(versions) != 3 {
		t.Fatalf("want 3 distinct versions, got %d", len(versions))
	}
	// Every file path maps to the set of hashes it may have.
	anyVersion := map[string]map[string]bool{}
	for _, files := range versions {
		for p, h := range files {
			if anyVersion[p] == nil {
				anyVersion[p] = map[string]bool{}
			}
			anyVersion[p][h] = true
		}
	}

	rounds := 300
	if testing.Short() {
		rounds = 20
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	var consistent, vanished, torn atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer done.Store(true)
		for i := 0; i < rounds; i++ {
			if _, err := tg.Place(assets[i%len(assets)]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	link := filepath.Join(dir, "robot")
	for r := 0; r < 2; r++ {
		wg.Add(2)
		// A simulator that opened the folder: every file from one version.
		go func() {
			defer wg.Done()
			for !done.Load() {
				got, err := readVersion(link)
				if errors.Is(err, fs.ErrNotExist) {
					vanished.Add(1) // collected after two swaps: never a mix
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if !matchesOne(got, versions) {
					t.Errorf("a reader saw a mix of versions: %v", got)
					return
				}
				consistent.Add(1)
			}
		}()
		// A reader going through the path file by file: never a torn file.
		go func() {
			defer wg.Done()
			for !done.Load() {
				for p, hs := range anyVersion {
					b, err := os.ReadFile(filepath.Join(link, p))
					if err != nil {
						continue // this version has no such file
					}
					if !hs[hashBytes(b)] {
						torn.Add(1)
						t.Errorf("%s matches no version", p)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if consistent.Load() == 0 {
		t.Fatal("no reader finished a read")
	}
	t.Logf("%d consistent reads, %d of a collected version, %d torn", consistent.Load(), vanished.Load(), torn.Load())
	// Only the current and the previous version are left.
	ents, _ := filepath.Glob(filepath.Join(dir, ".gizmo", "robot@*[^n]"))
	if len(ents) > 2 {
		t.Errorf("old versions not collected: %v", ents)
	}
}

// readVersion opens the folder once (as a simulator resolves its path once)
// and reads every file through that handle.
func readVersion(dir string) (map[string]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	out := map[string]string{}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
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

func matchesOne(got map[string]string, versions map[string]map[string]string) bool {
	for _, files := range versions {
		if len(files) != len(got) {
			continue
		}
		same := true
		for p, h := range files {
			if got[p] != h {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
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
	if ok, out := mujocoCompile(t, filepath.Join(dir, "robot", "scene.xml")); !ok {
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
