package sync_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
)

// The child side of TestKillAndRerun: a sync in its own process, printing
// "done ID" for every file it stores, until it is killed.
func init() {
	url, dir := os.Getenv("GIZMO_SYNC_CHILD_URL"), os.Getenv("GIZMO_SYNC_CHILD_CACHE")
	if url == "" || dir == "" {
		return
	}
	client, err := api.New(api.Options{BaseURL: url, APIKey: testKey})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, err := cache.Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, err = gsync.Run(context.Background(), client, c, gsync.Options{Concurrency: 4,
		Formats: []formats.Format{formats.MuJoCo},
		OnEvent: func(ev gsync.Event) {
			if ev.Type == gsync.EventDone {
				fmt.Printf("done %s\n", ev.ID)
			}
		}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestKillAndRerun: a sync process killed with SIGKILL mid-run, then a
// rerun: every file the killed process finished is kept and not fetched
// again, the rest arrive, all byte-identical.
func TestKillAndRerun(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 31, Slow: 32 << 10})
	ids := e.addReady(t, 24)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GIZMO_SYNC_CHILD_URL="+e.url, "GIZMO_SYNC_CHILD_CACHE="+e.dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	sc := bufio.NewScanner(out)
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "done "); ok {
			done[id] = true
		}
		if len(done) == 4 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the child was not killed mid-run (%v): it finished %d files before the kill", err, len(done))
	}
	entries, err := e.cache.Entries()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, en := range entries {
		have[en.AssetID] = true
	}
	for id := range done {
		if !have[id] {
			t.Errorf("%s was reported done by the killed process but is not in the cache", id)
		}
	}
	if len(entries) >= len(ids) {
		t.Fatalf("all %d files were stored before the kill: the test proves nothing", len(entries))
	}
	if err := e.srv.SetFaults(emulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	// Requests the killed process had written to its sockets may reach
	// the server after its death.
	before := e.quietStats()
	sum, _ := e.sync(t, gsync.Options{Formats: []formats.Format{formats.MuJoCo}})
	d := statsDelta(before, e.srv.Stats())
	// At most one download per missing file: a file the killed process had
	// fetched whole but not published resumes from its kept part with no
	// request at all, one it had begun with a Range request for the rest.
	if want := len(ids) - len(entries); d.Download.Requests > int64(want) || sum.New != want {
		t.Errorf("rerun: %d downloads, %d new; want %d new with at most %d downloads (the %d stored before the kill are not fetched again)", d.Download.Requests, sum.New, want, want, len(entries))
	}
	e.checkCached(t, ids, []formats.Format{formats.MuJoCo})
}
