package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/antimlabs/gizmo/formats/project"
)

func newProjectDir(t *testing.T, parent, name string) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gizmo.toml"), []byte("[assets]\nall = true\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRegistryAddRemoveList(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	r := Registry{Path: filepath.Join(tmp, "config", "gizmo", RegistryFile)}
	a, b := newProjectDir(t, tmp, "a"), newProjectDir(t, tmp, "b")

	if list, err := r.List(); err != nil || len(list) != 0 {
		t.Fatalf("a missing file: List = %v, %v; want empty", list, err)
	}
	for _, d := range []string{a, b} {
		if _, added, err := r.Add(ctx, d); err != nil || !added {
			t.Fatalf("Add(%s) = %v, %v", d, added, err)
		}
	}
	// The same folder by another spelling is the same project.
	if _, added, err := r.Add(ctx, a+"/./"); err != nil || added {
		t.Errorf("adding %s again: added=%v err=%v, want false, nil", a, added, err)
	}
	if list, _ := r.List(); !slices.Equal(list, []string{a, b}) {
		t.Errorf("List = %v, want [%s %s]", list, a, b)
	}
	if _, err := r.Remove(ctx, a); err != nil {
		t.Fatal(err)
	}
	if list, _ := r.List(); !slices.Equal(list, []string{b}) {
		t.Errorf("after Remove: %v, want [%s]", list, b)
	}
	if _, err := r.Remove(ctx, a); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("removing an unregistered folder: %v, want ErrNotRegistered", err)
	}
	data, _ := os.ReadFile(r.Path)
	if !strings.HasPrefix(string(data), "#") {
		t.Errorf("the file has no explanatory header:\n%s", data)
	}
}

func TestRegistryRefusesFolderWithoutManifest(t *testing.T) {
	r := Registry{Path: filepath.Join(t.TempDir(), RegistryFile)}
	empty := t.TempDir()
	_, _, err := r.Add(context.Background(), empty)
	if !errors.Is(err, project.ErrNoManifest) || !strings.Contains(err.Error(), "gizmo init") {
		t.Fatalf("Add of a folder without gizmo.toml: %v, want an error naming gizmo.toml and gizmo init", err)
	}
	if _, err := os.Stat(r.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused Add wrote the list: %v", err)
	}
}

func TestRegistryParse(t *testing.T) {
	got := parseRegistry([]byte("# comment\n\n  /a/b  \n/c/../d\n/a/b\n#/x\n"))
	if want := []string{"/a/b", "/d"}; !slices.Equal(got, want) {
		t.Errorf("parseRegistry = %v, want %v", got, want)
	}
}

// Concurrent adds (two gizmo agent add at once) lose nothing.
func TestRegistryConcurrentAdds(t *testing.T) {
	tmp := t.TempDir()
	r := Registry{Path: filepath.Join(tmp, RegistryFile)}
	var dirs []string
	for i := range 16 {
		dirs = append(dirs, newProjectDir(t, tmp, string(rune('a'+i))))
	}
	var wg sync.WaitGroup
	for _, d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := r.Add(context.Background(), d); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(list)
	if !slices.Equal(list, dirs) {
		t.Errorf("after 16 concurrent adds the list holds %d: %v", len(list), list)
	}
}
