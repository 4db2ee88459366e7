package main

// Two gizmo prepare processes on one project: the project's lock
// (.gizmo/prepare.lock of each target) is held only while a prepare writes
// the project (placing from the cache, gizmo.lock), so the second prepare
// does not wait for the first one's downloads on it. Real processes (this
// test binary re-executed as gizmo), a real emulator whose downloads are
// throttled, and the lock waits each process logs (GIZMO_TEST_LOCK_LOG,
// as the stress program reads them).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/internal/testhook"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// prepareDownload is how long, at least, each download of the test takes.
const prepareDownload = 2 * time.Second

// prepareLockMax is the longest the second prepare may wait for the
// project's lock: the first one's placement of a few assets from the
// cache, not its downloads (several prepareDownload).
const prepareLockMax = 1500 * time.Millisecond

func TestPrepareLockNotHeldForDownloads(t *testing.T) {
	srv, u := emulatortest.StartTest(t, emulator.Config{Assets: 6, Seed: 7})
	c, err := api.New(api.Options{BaseURL: u, APIKey: emulator.DefaultAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	ready, smallest := 0, int64(-1)
	listing, err := gsync.List(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range listing.Assets {
		if a.Status != api.StatusReady {
			continue
		}
		b, err := srv.ExportBytes(a.ID, formats.MuJoCo)
		if err != nil {
			t.Fatal(err)
		}
		ready++
		if smallest < 0 || int64(len(b)) < smallest {
			smallest = int64(len(b))
		}
	}
	if ready < 3 {
		t.Fatalf("the emulator has %d ready assets, want several", ready)
	}
	// Every download takes prepareDownload or more.
	slow := max(1, smallest*int64(time.Second)/int64(prepareDownload))
	if err := srv.SetFaults(emulator.Faults{Slow: slow}); err != nil {
		t.Fatal(err)
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	proj := filepath.Join(work, "proj")
	if err := os.MkdirAll(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := "[assets]\nall = true\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim/mujoco\"\n"
	if err := os.WriteFile(filepath.Join(proj, project.ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	gorace := "atexit_sleep_ms=0"
	var env []string
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "GIZMO_"):
		case strings.HasPrefix(kv, "GORACE="):
			gorace += " " + strings.TrimPrefix(kv, "GORACE=")
		default:
			env = append(env, kv)
		}
	}
	env = append(env, "GORACE="+gorace, "GIZMO_CACHE_DIR="+filepath.Join(work, "cache"), "GIZMO_API_URL="+u,
		"GIZMO_API_KEY="+emulator.DefaultAPIKey, "XDG_CACHE_HOME="+filepath.Join(work, "xdg"), "HOME="+work)
	prepare := func(lockLog string, args ...string) (*exec.Cmd, *bytes.Buffer) {
		var out bytes.Buffer
		cmd := &exec.Cmd{Path: exe, Args: append([]string{"gizmo", "prepare", "--project", proj}, args...),
			Env: append(append([]string(nil), env...), testhook.LockLogEnv+"="+lockLog), Stdout: &out}
		return cmd, &out
	}

	// The first prepare, until it is downloading.
	log1, log2 := filepath.Join(work, "locks1.log"), filepath.Join(work, "locks2.log")
	first, _ := prepare(log1)
	stderr, err := first.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	var firstErr strings.Builder
	fetching := make(chan struct{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			firstErr.WriteString(sc.Text() + "\n")
			if !seen && strings.Contains(sc.Text(), "fetching ") {
				seen = true
				close(fetching)
			}
		}
		if !seen {
			close(fetching)
		}
	}()
	select {
	case <-fetching:
	case <-time.After(time.Minute):
		first.Process.Kill()
		t.Fatal("the first prepare did not start fetching within a minute")
	}

	// The second prepare of the same project while the first downloads.
	second, out2 := prepare(log2)
	var err2 bytes.Buffer
	second.Stderr = &err2
	start2 := time.Now()
	if err := second.Run(); err != nil {
		t.Errorf("second prepare: %v\n%s%s", err, out2, &err2)
	}
	took2 := time.Since(start2)
	<-drained
	if err := first.Wait(); err != nil {
		t.Errorf("first prepare: %v\n%s", err, firstErr.String())
	}
	if t.Failed() {
		return
	}

	// The second waited on the project's lock only for a placement.
	waited := lockWaits(t, log2, "prepare.lock:")
	if waited > prepareLockMax {
		t.Errorf("the second prepare waited %v for the project's lock (it took %v in all), want at most %v: the lock is held during downloads", waited, took2, prepareLockMax)
	}
	t.Logf("second prepare: %v in all, %v waiting for the project's lock", took2, waited)

	// Both started without gizmo.lock: the one that placed second found
	// the other's and resolved again from it.
	if again := "resolving again"; !strings.Contains(firstErr.String(), again) && !strings.Contains(err2.String(), again) {
		t.Errorf("neither prepare resolved again from the other's gizmo.lock:\n%s%s", firstErr.String(), &err2)
	}

	// Whoever wrote last, the project is whole: gizmo.lock pins every ready
	// asset, nothing half-placed is left, and a third prepare has nothing
	// to do.
	lock, err := project.ReadLock(proj)
	if err != nil {
		t.Fatalf("gizmo.lock after two prepares: %v", err)
	}
	if len(lock.Entries) != ready {
		t.Errorf("gizmo.lock pins %d exports, want %d", len(lock.Entries), ready)
	}
	ents, err := os.ReadDir(filepath.Join(proj, "sim", "mujoco", ".gizmo"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "tmp-") || strings.HasPrefix(e.Name(), "link-") {
			t.Errorf("left behind in the target: %s", e.Name())
		}
	}
	third, out3 := prepare(filepath.Join(work, "locks3.log"), "--json")
	var err3 bytes.Buffer
	third.Stderr = &err3
	if err := third.Run(); err != nil {
		t.Fatalf("third prepare: %v\n%s", err, &err3)
	}
	var res struct {
		NoOp   bool              `json:"noop"`
		Placed []json.RawMessage `json:"placed"`
	}
	if err := json.Unmarshal(out3.Bytes(), &res); err != nil {
		t.Fatalf("third prepare --json: %v\n%s", err, out3)
	}
	if !res.NoOp || len(res.Placed) != ready {
		t.Errorf("third prepare: noop %v, %d placed, want a no-op with %d\n%s", res.NoOp, len(res.Placed), ready, out3)
	}
}

// lockWaits adds up the waits a process logged (GIZMO_TEST_LOCK_LOG lines
// "LOCK:MODE MILLISECONDS COMMAND") for locks whose name starts with
// prefix.
func lockWaits(t *testing.T, file, prefix string) time.Duration {
	t.Helper()
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return 0 // it never waited
	}
	if err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		ms, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("%s: bad line %q", file, line)
		}
		total += time.Duration(ms * float64(time.Millisecond))
	}
	return total
}
