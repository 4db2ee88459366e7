package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// helperVerify runs Verify (with repair when GIZMO_REPAIR=1), then a dry
// run of GC, on GIZMO_CACHE_DIR, and prints what they returned as JSON.
func helperVerify() int {
	var out struct {
		OpenErr   string    `json:"open_err,omitempty"`
		Problems  []Problem `json:"problems"`
		VerifyErr string    `json:"verify_err,omitempty"`
		Removed   []string  `json:"removed"`
		GCErr     string    `json:"gc_err,omitempty"`
	}
	c, err := Open(os.Getenv("GIZMO_CACHE_DIR"))
	if err != nil {
		out.OpenErr = err.Error()
	} else {
		out.Problems, err = c.Verify(context.Background(), os.Getenv("GIZMO_REPAIR") == "1")
		if err != nil {
			out.VerifyErr = err.Error()
		}
		res, err := c.GC(context.Background(), GCOptions{DryRun: true})
		out.Removed = res.Removed
		if err != nil {
			out.GCErr = err.Error()
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// unprivileged is the uid and gid the permission tests run their helper
// under when they run as root, for whom file modes deny nothing: nobody's.
const unprivileged = 65534

// TestVerifyUnreadable: a file or folder of the cache that cannot be read
// (here for lack of permission) is reported as unreadable, never as
// corrupt or missing; verify --repair then repairs nothing at all (no
// entry dropped, no file removed) and GC offers to remove nothing. The
// cache is made unreadable with chmod 000 and read by a real helper
// process: under root (as in CI) the helper runs as uid 65534 (nobody)
// through syscall.Credential, since modes do not deny root; otherwise as
// the user running the test.
func TestVerifyUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(c *Cache, es []Entry) string
		// gcRefuses: GC cannot list a folder, so it refuses to remove
		// anything; otherwise it can, and finds nothing to remove.
		gcRefuses bool
		openFails bool
	}{
		{"blobs folder", func(c *Cache, _ []Entry) string { return filepath.Join(c.root, blobsDir) }, true, false},
		{"trees folder", func(c *Cache, _ []Entry) string { return filepath.Join(c.root, treesDir) }, true, false},
		{"one blob", func(c *Cache, es []Entry) string { return c.blobPath(es[0].Hash) }, false, false},
		{"one tree", func(c *Cache, es []Entry) string { return c.TreePath(es[2]) }, false, false},
		{"the index", func(c *Cache, _ []Entry) string { return c.dbPath() }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			exe := helperBinary(t, base)
			dir := filepath.Join(base, "cache")
			c, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			es := storeSome(t, c)
			for _, e := range es {
				unpack(t, c, e)
			}
			waitClosed(t, c)
			before := listDir(t, dir)
			if os.Geteuid() == 0 {
				chownTree(t, dir, unprivileged)
			}
			target := tc.path(c, es)
			st, err := os.Stat(target)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(target, 0); err != nil {
				t.Fatal(err)
			}
			restore := func() { os.Chmod(target, st.Mode().Perm()) }
			defer restore()

			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), "GIZMO_CACHE_HELPER=verify", "GIZMO_CACHE_DIR="+dir, "GIZMO_REPAIR=1")
			if os.Geteuid() == 0 {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: unprivileged, Gid: unprivileged}}
			}
			raw, err := cmd.Output()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, stderrOf(err))
			}
			var out struct {
				OpenErr   string    `json:"open_err"`
				Problems  []Problem `json:"problems"`
				VerifyErr string    `json:"verify_err"`
				Removed   []string  `json:"removed"`
				GCErr     string    `json:"gc_err"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			t.Logf("helper: %s", raw)

			if tc.openFails {
				if !strings.Contains(out.OpenErr, "permission denied") || strings.Contains(out.OpenErr, "damaged") {
					t.Errorf("open of an unreadable index: %q, want a permission error that does not call it damaged", out.OpenErr)
				}
			} else {
				if out.OpenErr != "" || out.VerifyErr != "" {
					t.Fatalf("open: %q, verify: %q", out.OpenErr, out.VerifyErr)
				}
				if countKind(out.Problems, ProblemUnreadable) == 0 {
					t.Errorf("nothing reported unreadable: %+v", out.Problems)
				}
				for _, p := range out.Problems {
					if p.Kind != ProblemUnreadable || p.Repaired {
						t.Errorf("unreadable cache: reported %s (repaired %v), want only unreadable, unrepaired", p, p.Repaired)
					}
				}
				if len(out.Removed) > 0 {
					t.Errorf("gc would remove %v", out.Removed)
				}
				if tc.gcRefuses != strings.Contains(out.GCErr, "nothing was removed") {
					t.Errorf("gc error %q; want a refusal: %v", out.GCErr, tc.gcRefuses)
				}
			}

			// Nothing changed: every file is still there, and, readable
			// again, every entry verifies.
			restore()
			if after := listDir(t, dir); after != before {
				t.Errorf("the cache changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			ps, err := c.Verify(context.Background(), false)
			if err != nil || len(ps) > 0 {
				t.Errorf("readable again: %v, %v", ps, err)
			}
			if got, err := c.Entries(); err != nil || len(got) != len(es) {
				t.Errorf("%d entries left of %d (%v)", len(got), len(es), err)
			}
		})
	}
}

// helperBinary copies this test binary where an unprivileged user can run
// it (the go tool builds it in a folder only its user can enter), under
// base, which it makes searchable by anyone.
func helperBinary(t *testing.T, base string) string {
	t.Helper()
	for d := base; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	exe := filepath.Join(base, "helper.test")
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return exe
}

func chownTree(t *testing.T, dir string, id int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, id, id)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return fmt.Sprint(err)
}
