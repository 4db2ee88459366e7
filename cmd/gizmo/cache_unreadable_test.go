package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/antimlabs/gizmo/cache"
)

// nobody is the uid and gid TestCacheVerifyUnreadable runs gizmo under
// when the test runs as root, for whom file modes deny nothing.
const nobody = 65534

// TestCacheVerifyUnreadable: as a user who cannot read the cache's blobs
// folder (chmod 000), 'gizmo cache verify --repair' reports the entries as
// unreadable, repairs nothing and exits 1; 'gizmo cache gc' refuses to
// remove anything and exits 1; readable again, every entry is still
// there. Under root (as here and in CI) gizmo runs as uid 65534 (nobody)
// through syscall.Credential; otherwise as the user running the test.
func TestCacheVerifyUnreadable(t *testing.T) {
	base := t.TempDir()
	for d := base; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe := copyExecutable(t, base)
	dir := filepath.Join(base, "cache")
	c, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ast_1", "ast_2", "ast_3"} {
		doc := `<robot name="` + id + `"><link name="base"/></robot>`
		fetch := func(_ context.Context, w cache.Writer) (string, error) {
			_, err := io.WriteString(w, doc)
			return "", err
		}
		if _, err := c.Store(context.Background(), id, "isaac_sim_urdf", fetch); err != nil {
			t.Fatal(err)
		}
	}
	root := os.Geteuid() == 0
	if root {
		err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, nobody, nobody)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	blobs := filepath.Join(dir, "blobs")
	if err := os.Chmod(blobs, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(blobs, 0o755)
	gizmo := func(args ...string) (string, int) {
		var out bytes.Buffer
		cmd := &exec.Cmd{Path: exe, Args: append([]string{"gizmo"}, args...), Stdout: &out, Stderr: &out,
			Env: []string{"GIZMO_CACHE_DIR=" + dir, "HOME=" + base, "PATH=" + os.Getenv("PATH")}}
		if root {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		}
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			return out.String(), ee.ExitCode()
		case err != nil:
			t.Fatal(err)
		}
		return out.String(), 0
	}

	out, code := gizmo("cache", "verify", "--repair")
	if code != 1 || !strings.Contains(out, "unreadable") || !strings.Contains(out, "nothing was repaired") ||
		strings.Contains(out, "corrupt") || strings.Contains(out, "(repaired)") {
		t.Errorf("cache verify --repair on an unreadable blobs folder: exit %d, want 1, unreadable, nothing repaired:\n%s", code, out)
	}
	out, code = gizmo("cache", "gc", "--dry-run")
	if code != 1 || !strings.Contains(out, "nothing was removed") || strings.Contains(out, "would remove") {
		t.Errorf("cache gc --dry-run on an unreadable blobs folder: exit %d, want 1 and a refusal:\n%s", code, out)
	}

	os.Chmod(blobs, 0o755)
	out, code = gizmo("cache", "verify")
	if code != 0 || !strings.Contains(out, "all files verified") {
		t.Errorf("readable again: exit %d:\n%s", code, out)
	}
	if es, err := c.Entries(); err != nil || len(es) != 3 {
		t.Errorf("%d entries left of 3 (%v)", len(es), err)
	}
}

// copyExecutable copies this test binary (which runs as gizmo when its
// argv[0] says so) into dir, where another user may run it.
func copyExecutable(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "gizmo")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}
