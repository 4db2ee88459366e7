package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
)

// FuzzExtract feeds arbitrary bytes to the archive extractor: no panic, and
// nothing lands outside the destination folder.
func FuzzExtract(f *testing.F) {
	dir := f.TempDir()
	for i, entries := range [][]entry{
		{{name: "robot.urdf", body: goodURDF}, {name: "meshes/a.stl", body: "solid\n"}},
		{{name: "../evil", body: "x"}},
		{{name: "a/", body: ""}, {name: "a/b", body: "y"}},
	} {
		p := filepath.Join(dir, "seed"+string(rune('0'+i))+".zip")
		makeZip(f, p, entries)
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// Keep each input cheap: a crafted deflate stream could otherwise
	// write the full 1 GiB before it is refused.
	maxArchiveEntries, maxArchiveBytes = 100, 1<<20
	f.Cleanup(func() { maxArchiveEntries, maxArchiveBytes = MaxArchiveEntries, MaxArchiveBytes })
	base := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := os.MkdirTemp(base, "x")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(root)
		zp := filepath.Join(root, "in.zip")
		if err := os.WriteFile(zp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(root, "out")
		if err := os.Mkdir(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = extractFS(context.Background(), validate.Options{}, zp, dest)
		// Only in.zip and out/ may exist in root.
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "in.zip" && e.Name() != "out" {
				t.Fatalf("extraction wrote %s outside the destination", e.Name())
			}
		}
		filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type()&os.ModeSymlink != 0 {
				t.Fatalf("extraction made a symbolic link %s", p)
			}
			if !strings.HasPrefix(p, dest) {
				t.Fatalf("walked outside: %s", p)
			}
			return nil
		})
	})
}

// FuzzDetect: detection over a stream tells every input's kind as
// formats.Detect does over the whole input at once (it has no head limit
// then), except UTF-16 text, which only the stream decodes; it never
// panics, and never calls a UTF-16 file anything but URDF, MJCF or unknown.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		plainURDF, headerURDF, mjcfRobot, usda, "\xef\xbb\xbf \n#usda 1.0", "PK\x03\x04", "PXR-USDC",
		"<?xml version=\"1.0\"?><!DOCTYPE robot [<!ENTITY a \"b\">]><robot/>", "<!-->--><mujoco>",
		"<?><robot>", "#<robot>", "<!-x><ns:robot a='1'>", utf16File(plainURDF), utf16BE(mjcfRobot), "<\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := sniffBytes(data)
		if _, _, ok := utf16Order(data); ok {
			if s.kind != formats.KindURDF && s.kind != formats.KindMJCF && s.kind != formats.KindUnknown &&
				s.kind != formats.KindZip && s.kind != formats.KindUSDC {
				t.Fatalf("UTF-16 input detected as %q", s.kind)
			}
			return
		}
		if want := formats.Detect(data); s.kind != want {
			t.Fatalf("stream detection %q, formats.Detect %q, for %q", s.kind, want, data)
		}
	})
}
