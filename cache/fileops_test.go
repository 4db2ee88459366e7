package cache

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestCreateTempFile: names follow the pattern as os.CreateTemp's do (the
// temp-file sweep recognises them by it), never reuse an existing name,
// and the file reads back what was written, after starting over too.
func TestCreateTempFile(t *testing.T) {
	dir := t.TempDir()
	kh := "0123456789abcdef0123456789abcdef"
	re := regexp.MustCompile(`^` + kh + `-[0-9]+\.part$`)
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		f, err := createTempFile(dir, kh+"-*.part")
		if err != nil {
			t.Fatal(err)
		}
		name := f.Name()
		if filepath.Dir(name) != dir || !re.MatchString(filepath.Base(name)) || seen[name] {
			t.Fatalf("temp file %q: wrong place, pattern, or reused", name)
		}
		seen[name] = true
		if tempKey(name) != kh {
			t.Fatalf("tempKey(%q) = %q", name, tempKey(name))
		}
		if _, err := f.Write([]byte("half a body")); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("body")); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(name); err != nil || string(b) != "body" {
			t.Fatalf("%s holds %q, %v", name, b, err)
		}
		if st, err := os.Stat(name); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v", name, st.Mode(), err)
		}
	}
	if _, err := createTempFile(filepath.Join(dir, "missing"), "x-*"); err == nil {
		t.Error("created a temp file in a missing directory")
	}
}
