package main

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCopyOut: export -o replaces a new path, a regular file and a
// symlink's target atomically (the link kept), writes through a character
// device and a FIFO without replacing them, and refuses the rest.
func TestCopyOut(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.zip")
	body := strings.Repeat("model bytes ", 1000)
	if err := os.WriteFile(src, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(out, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := func(name, target string) string {
		p := filepath.Join(out, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		dest    func() string
		refused string                          // error text; "" when the copy must succeed
		check   func(t *testing.T, dest string) // after a copy that succeeded
	}{
		{"new path", func() string { return filepath.Join(out, "new.zip") }, "", wantRegular(body)},
		{"regular file", func() string { return write("old.zip", "old") }, "", wantRegular(body)},
		{"symlink to a file", func() string {
			write("target.zip", "old")
			return link("link.zip", "target.zip")
		}, "", func(t *testing.T, dest string) {
			if fi, err := os.Lstat(dest); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
			}
			wantRegular(body)(t, filepath.Join(out, "target.zip"))
		}},
		{"dangling symlink", func() string { return link("dangling.zip", "/nonexistent/x") }, "symlink to a file that does not exist", nil},
		{"directory", func() string { return out }, "is a directory", nil},
		{"a null device", func() string { return nullDevice(t, out, "null") }, "", func(t *testing.T, dest string) {
			if fi, err := os.Lstat(dest); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
				t.Errorf("the device is now %v (%v)", fi.Mode(), err)
			}
		}},
		{"symlink to a null device", func() string { return link("null-link", nullDevice(t, out, "null2")) }, "", func(t *testing.T, dest string) {
			if fi, err := os.Stat(dest); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
				t.Errorf("the link's target is now %v (%v)", fi.Mode(), err)
			}
		}},
		{"FIFO without a reader", func() string { return fifo(t, out, "lonely") }, "no program is reading", nil},
		{"socket", func() string { return socket(t, out) }, "is a socket", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := tc.dest()
			err := copyOut(context.Background(), src, dest)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("copyOut: %v, want an error with %q", err, tc.refused)
				}
				if _, kerr := outputKind(dest); kerr == nil && !strings.Contains(tc.name, "FIFO") {
					// Refused before anything is downloaded (a FIFO only
					// when it is opened).
					t.Errorf("outputKind accepts what copyOut refuses")
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				tc.check(t, dest)
			}
			if left, _ := filepath.Glob(filepath.Join(out, ".gizmo-export-*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}

	t.Run("FIFO with a reader", func(t *testing.T) {
		p := fifo(t, out, "pipe")
		got := make(chan string, 1)
		go func() {
			f, err := os.Open(p) // blocks until the writer opens
			if err != nil {
				got <- err.Error()
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			got <- string(b)
		}()
		// The reader must be waiting before the writer opens without blocking.
		var err error
		for range 100 {
			if err = copyOut(context.Background(), src, p); err == nil || !strings.Contains(err.Error(), "no program is reading") {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != body {
			t.Errorf("the reader got %d bytes, want %d", len(s), len(body))
		}
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("the FIFO is now %v (%v)", fi.Mode(), err)
		}
	})

	t.Run("FIFO whose reader stops, cancelled", func(t *testing.T) {
		p := fifo(t, out, "stuck")
		r, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0) // reads nothing
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		big := filepath.Join(dir, "big")
		if err := os.WriteFile(big, make([]byte, 4<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- copyOut(ctx, big, p) }()
		cancel()
		select {
		case err := <-done:
			if err == nil {
				t.Error("a cancelled write into a full FIFO succeeded")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("copyOut did not end on cancel")
		}
	})
}

func wantRegular(body string) func(t *testing.T, dest string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		fi, err := os.Lstat(dest)
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("%s: %v %v, want a regular file", dest, fi.Mode(), err)
		}
		b, _ := os.ReadFile(dest)
		if string(b) != body {
			t.Errorf("%s holds %d bytes, want %d", dest, len(b), len(body))
		}
	}
}

func fifo(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func socket(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: p}); err != nil {
		t.Fatal(err)
	}
	return p
}

// nullDevice makes a null character device (1, 3) in dir, as root can, so
// that a regression replaces a device of the test's own and not the
// system's /dev/null. Without the right to, it is /dev/null itself, which
// a process that may not make devices cannot replace either.
func nullDevice(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3)
	switch {
	case err == nil:
		return p
	case os.Geteuid() != 0:
		return "/dev/null"
	}
	t.Skipf("root without the right to make a device node (%v): not written to the system's /dev/null", err)
	return ""
}
