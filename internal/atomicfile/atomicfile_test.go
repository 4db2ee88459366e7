package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "sub", "state.json")
	for _, content := range []string{"one", "two, longer"} {
		if err := WriteFile(name, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil || string(got) != content {
			t.Fatalf("read back %q, %v; want %q", got, err, content)
		}
		fi, _ := os.Stat(name)
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("mode %v, want 0640", fi.Mode().Perm())
		}
	}
	ents, _ := os.ReadDir(filepath.Dir(name))
	if len(ents) != 1 {
		t.Errorf("temp files left: %v", ents)
	}
}

func TestWriteFileFailureLeavesTarget(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	if err := WriteFile(name, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory in the way of the rename: the write fails, the old file stays.
	blocked := filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(blocked, []byte("new"), 0o644); err == nil {
		t.Fatal("renaming over a non-empty directory succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("left behind: %v", ents)
	}
	if got, _ := os.ReadFile(name); string(got) != "old" {
		t.Errorf("other file changed: %q", got)
	}
}

// failingReader yields some bytes, then an error.
type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.sent {
		return 0, errors.New("read failed")
	}
	r.sent = true
	return copy(p, "partial"), nil
}

func TestWriteReaderFailureLeavesTarget(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	if err := Write(name, strings.NewReader("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if err := Write(name, &failingReader{}, 0o600); err == nil {
		t.Fatal("a failing reader was written")
	}
	if got, _ := os.ReadFile(name); string(got) != "old" {
		t.Errorf("target changed to %q", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

// TestSyncFS: where there is syncfs (Linux, not FUSE) SyncFS flushes the
// folder's file system; elsewhere it says so with ErrNoSyncFS, and SyncEach
// fsyncs the paths instead. A folder that does not exist is an error.
func TestSyncFS(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	if err := os.WriteFile(name, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SyncFS(dir); err != nil && !errors.Is(err, ErrNoSyncFS) {
		t.Fatalf("SyncFS: %v", err)
	}
	if err := SyncEach([]string{name, dir, name}); err != nil {
		t.Fatalf("SyncEach: %v", err)
	}
	missing := filepath.Join(dir, "missing")
	if err := SyncFS(missing); err == nil || (runtime.GOOS == "linux" && errors.Is(err, ErrNoSyncFS)) {
		t.Errorf("SyncFS of a missing folder: %v, want an error", err)
	}
	if err := SyncEach([]string{missing}); err == nil {
		t.Error("SyncEach of a missing file succeeded")
	}
}
