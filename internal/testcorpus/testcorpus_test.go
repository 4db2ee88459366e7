package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFind finds shared/corpus beside the repository or a folder above
// it, and prefers $GIZMO_CORPUS.
func TestFind(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "wt", "branch")
	for _, d := range []string{filepath.Join(repo, "pkg"), filepath.Join(root, "shared", "corpus")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(repo, "pkg"))
	t.Setenv("GIZMO_CORPUS", "")
	if got, want := Find(), filepath.Join(root, "shared", "corpus"); got != want {
		t.Errorf("Find() = %q, want %q (a folder above the repository's)", got, want)
	}
	beside := filepath.Join(root, "wt", "shared", "corpus")
	if err := os.MkdirAll(beside, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := Find(); got != beside {
		t.Errorf("Find() = %q, want %q (beside the repository first)", got, beside)
	}
	t.Setenv("GIZMO_CORPUS", "/elsewhere")
	if got := Find(); got != "/elsewhere" {
		t.Errorf("Find() = %q, want $GIZMO_CORPUS", got)
	}
}
