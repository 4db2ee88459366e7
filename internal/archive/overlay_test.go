package archive

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestOverlayMatchesExtraction: every name a reader may ask for gets the
// same answer (content, size, kind, not-found) from the overlay as from
// the extracted folder.
func TestOverlayMatchesExtraction(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"robot.urdf":          "<robot name='r'/>",
		"meshes/base.stl":     "solid base",
		"meshes/sub/arm.stl":  "solid arm",
		"textures/":           "",
		"materials/grey.yaml": "grey",
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "tree")
	if _, err := Extract(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "z", dest, DefaultLimits); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(tmp, "outside.stl")
	os.WriteFile(outside, []byte("solid out"), 0o644)
	_, kept, err := OpenVerified(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "z", DefaultLimits, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range kept {
		if f.Data == nil {
			t.Errorf("OpenVerified kept no contents of %s", f.Name)
		}
	}
	// The overlay must not need the folder: move it away and compare with a copy.
	shown := filepath.Join(tmp, "shown")
	if err := os.Rename(dest, shown); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		o    *Overlay
	}{
		{"from the zip", NewOverlay(dest, zr)},
		{"from kept contents", NewOverlayOf(dest, zr, kept)},
	} {
		t.Run(tt.name, func(t *testing.T) { checkOverlay(t, tt.o, tmp, dest, shown, outside) })
	}
}

// checkOverlay compares o, showing the tree extracted to dest and since
// moved to shown, with the tree on disk.
func checkOverlay(t *testing.T, o *Overlay, tmp, dest, shown, outside string) {
	names := []string{".", "robot.urdf", "meshes", "meshes/base.stl", "meshes/sub", "meshes/sub/arm.stl",
		"textures", "materials/grey.yaml", "missing.stl", "meshes/missing", "robot.urdf/x", "meshes/../robot.urdf"}
	for _, n := range names {
		viaOverlay, onDisk := filepath.Join(dest, n), filepath.Join(shown, n)
		st, err := o.Stat(viaOverlay)
		dst, derr := os.Stat(onDisk)
		if (err == nil) != (derr == nil) || err != nil && errors.Is(err, fs.ErrNotExist) != errors.Is(derr, fs.ErrNotExist) {
			t.Errorf("Stat(%s): overlay %v, disk %v", n, err, derr)
			continue
		}
		if err == nil && (st.IsDir() != dst.IsDir() || !st.IsDir() && st.Size() != dst.Size() || n != "." && st.Name() != dst.Name()) {
			t.Errorf("Stat(%s): overlay %s dir=%v size=%d, disk %s dir=%v size=%d", n, st.Name(), st.IsDir(), st.Size(), dst.Name(), dst.IsDir(), dst.Size())
		}
		want, derr := os.ReadFile(onDisk)
		if got, err := o.ReadFile(viaOverlay); (err == nil) != (derr == nil) || !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%s): %q, %v; disk %q, %v", n, got, err, want, derr)
		}
		rc, err := o.Open(viaOverlay)
		if err != nil {
			if derr == nil {
				t.Errorf("Open(%s): %v, but the extracted file reads", n, err)
			}
			continue
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if (err == nil) != (derr == nil) || !bytes.Equal(got, want) {
			t.Errorf("Open(%s): %q, %v; disk %q, %v", n, got, err, want, derr)
		}
	}
	// Outside the root: the operating system answers.
	rc, err := o.Open(outside)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "solid out" {
		t.Errorf("outside the root: %q", b)
	}
	if _, err := o.Stat(filepath.Join(tmp, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("outside the root, missing: %v", err)
	}
	// The same message as the OS for a missing file.
	_, err = o.Open(filepath.Join(dest, "missing.stl"))
	_, derr := os.Open(filepath.Join(shown, "missing.stl"))
	if got, want := err.Error(), derr.Error(); got != filepath.Join(dest, "missing.stl")+": no such file or directory" && got[len(got)-25:] != want[len(want)-25:] {
		t.Errorf("missing file: %q, disk says %q", got, want)
	}
}

func TestFileOverlay(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "blob")
	os.WriteFile(src, []byte("<robot/>"), 0o444)
	root := filepath.Join(tmp, "tree")
	o := NewFileOverlay(root, "model.urdf", src, 8)
	rc, err := o.Open(filepath.Join(root, "model.urdf"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "<robot/>" {
		t.Fatalf("%q", b)
	}
	if st, err := o.Stat(root); err != nil || !st.IsDir() {
		t.Fatalf("root: %v %v", st, err)
	}
	if _, err := o.Stat(filepath.Join(root, "meshes", "a.stl")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing mesh: %v", err)
	}
}
