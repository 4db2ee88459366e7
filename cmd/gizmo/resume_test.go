package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// TestResumeAfterKill: gizmo sync is killed (SIGKILL) in the middle of a
// large download; the rerun asks only for the rest (Range), so the server
// sends the file about once in all, and the stored file is whole.
func TestResumeAfterKill(t *testing.T) {
	const payload = 8 << 20
	srv, u := emulatortest.StartTest(t, emulator.Config{Seed: 3, BigEvery: 1, BigSize: payload, Slow: 4 << 20})
	a, err := srv.AddAsset("A 6-DOF robotic arm", "arm", nil, "ready")
	if err != nil {
		t.Fatal(err)
	}
	size, err := srv.ExportSize(a.ID, formats.MuJoCo)
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()
	work := t.TempDir()
	g := newGizmoEnv(t, u, filepath.Join(work, "cache"))
	cmd := &exec.Cmd{Path: g.exe, Args: []string{"gizmo", "-q", "sync", "--format", "mjcf"}, Env: g.env, Dir: work}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once the part holds half the file or more.
	var held int64
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && held < size/2; time.Sleep(10 * time.Millisecond) {
		parts, _ := filepath.Glob(filepath.Join(g.cache, "tmp", "*.part"))
		for _, p := range parts {
			if st, err := os.Stat(p); err == nil {
				held = max(held, st.Size())
			}
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if held < size/2 {
		t.Fatalf("the part never held half of the %d-byte file (%d)", size, held)
	}
	if held >= size {
		t.Fatalf("the download finished before the kill (%d of %d bytes)", held, size)
	}
	sidecars, _ := filepath.Glob(filepath.Join(g.cache, "tmp", "*.part.resume"))
	if len(sidecars) != 1 {
		t.Fatalf("%d validator files beside the killed download's part, want 1", len(sidecars))
	}
	first := srv.Stats().Download.Bytes
	out := g.mustRun(work, "sync", "--format", "mjcf")
	_ = out
	st := srv.Stats()
	if limit := size + size*12/100; st.Download.Bytes > limit {
		t.Errorf("the server sent %d bytes for a %d-byte file (%d before the kill): more than 112%% (%d): the part was not resumed", st.Download.Bytes, size, first, limit)
	}
	if left, _ := filepath.Glob(filepath.Join(g.cache, "tmp", "*")); len(left) != 0 {
		t.Errorf("temp files left after the rerun: %v", left)
	}
	verify := g.mustRun(work, "cache", "verify")
	if !strings.Contains(verify, "verified") {
		t.Errorf("cache verify: %s", verify)
	}
	// The stored file is the export, byte for byte (cache verify re-hashes
	// it against its recorded SHA-256; the export's own ETag is a prefix of
	// the same SHA-256).
	ls := g.mustRun(work, "cache", "ls", "--json")
	if !strings.Contains(ls, a.ID) {
		t.Errorf("cache ls does not list %s:\n%s", a.ID, ls)
	}
}
