package agent

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/internal/testbuf"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// generations are the API generations the emulator speaks: the tests of
// the agent against an emulator run against each (forGenerations).
var generations = []string{emulator.APIAlpha, emulator.APICurrent}

// forGenerations runs test against each API generation, as parallel
// subtests named for it.
func forGenerations(t *testing.T, test func(t *testing.T, gen string)) {
	for _, gen := range generations {
		t.Run(gen, func(t *testing.T) {
			t.Parallel()
			test(t, gen)
		})
	}
}

// testAgent is an agent on a real emulator speaking the API generation
// gen, a cache and project folders, with the real clock.
func testAgent(t *testing.T, gen string, cfg Config, projects ...string) (*Agent, *testbuf.Buffer) {
	t.Helper()
	a, logs, _ := testAgentEmulator(t, gen, cfg, projects...)
	return a, logs
}

func testAgentEmulator(t *testing.T, gen string, cfg Config, projects ...string) (*Agent, *testbuf.Buffer, *emulator.Server) {
	t.Helper()
	srv, url := emulatortest.StartTest(t, emulator.Config{API: gen, Assets: 4, Seed: 7})
	if cfg.CacheDir == "" {
		cfg.CacheDir = t.TempDir()
	}
	cfg.Projects = projects
	logs := &testbuf.Buffer{}
	a := New(cfg, Deps{
		OpenCache: func() (*cache.Cache, error) { return cache.Open(cfg.CacheDir) },
		Remote: func() (Remote, error) {
			return api.New(api.Options{BaseURL: url, APIKey: emulator.DefaultAPIKey, Generation: api.Generation(gen)})
		},
		Log: slog.New(slog.NewTextHandler(logs, nil)),
	})
	return a, logs, srv
}

func runAgent(t *testing.T, a *Agent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, nil, nil) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(StopGrace + 5*time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	waitUntil(t, 30*time.Second, "the first pass", func() bool { return a.Status().Ready })
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// placedModel is one placed model file of the project's status.
func placedModel(t *testing.T, a *Agent, dir string) string {
	t.Helper()
	for _, p := range a.Status().Projects {
		if p.Dir == dir && len(p.Items) > 0 {
			return filepath.Join(dir, p.Items[0].Path)
		}
	}
	t.Fatalf("nothing placed in %s", dir)
	return ""
}

// When the OS refuses watches (the inotify limit), the agent says how to
// raise it, keeps running, and checks the project by rescans instead.
func TestWatchLimitFallsBackToRescans(t *testing.T) {
	forGenerations(t, testWatchLimitFallsBackToRescans)
}

func testWatchLimitFallsBackToRescans(t *testing.T, gen string) {
	dir := newProjectDir(t, t.TempDir(), "p")
	a, logs := testAgent(t, gen, Config{Interval: time.Hour, Fallback: 200 * time.Millisecond}, dir)
	var refused atomic.Int64
	a.wrapAdd = func(add func(string) error) func(string) error {
		return func(p string) error {
			if strings.HasPrefix(p, dir) {
				refused.Add(1)
				return syscall.ENOSPC
			}
			return add(p)
		}
	}
	runAgent(t, a)
	if refused.Load() == 0 {
		t.Fatal("no watch was refused")
	}
	out := logs.String()
	if !strings.Contains(out, "fs.inotify.max_user_watches") || !strings.Contains(out, "sysctl") {
		t.Errorf("no message naming the sysctl to raise:\n%s", out)
	}
	if n := strings.Count(out, "max_user_watches"); n != 1 {
		t.Errorf("the watch limit was reported %d times, want once", n)
	}
	st := a.Status()
	if len(st.Projects) != 1 || st.Projects[0].Watched || !st.Projects[0].OK {
		t.Fatalf("project status: %+v", st.Projects)
	}
	model := placedModel(t, a, dir)
	if err := os.Remove(model); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "a rescan to restore the deleted model", func() bool {
		_, err := os.Stat(model)
		return err == nil
	})
}

// An unwatched change is also found by the periodic full rescan.
func TestRescanFindsLostEvents(t *testing.T) { forGenerations(t, testRescanFindsLostEvents) }

func testRescanFindsLostEvents(t *testing.T, gen string) {
	dir := newProjectDir(t, t.TempDir(), "p")
	a, _ := testAgent(t, gen, Config{Interval: time.Hour, Rescan: 300 * time.Millisecond}, dir)
	// Every event is lost: the watcher sees nothing of the project.
	a.wrapAdd = func(add func(string) error) func(string) error {
		return func(p string) error {
			if strings.HasPrefix(p, dir) {
				return nil // "watched", but no event will ever come
			}
			return add(p)
		}
	}
	runAgent(t, a)
	if !a.Status().Projects[0].Watched {
		t.Fatal("the project should count as watched")
	}
	model := placedModel(t, a, dir)
	os.Remove(model)
	waitUntil(t, 10*time.Second, "the periodic rescan to restore the model", func() bool {
		_, err := os.Stat(model)
		return err == nil
	})
}

// A pass after which the account's listing is unchanged checks each
// project (gizmo prepare's fast path) instead of updating it; a change in
// the listing updates it.
func TestPassUpdatesOnlyWhenTheListingChanged(t *testing.T) {
	forGenerations(t, testPassUpdatesOnlyWhenTheListingChanged)
}

func testPassUpdatesOnlyWhenTheListingChanged(t *testing.T, gen string) {
	dir := newProjectDir(t, t.TempDir(), "p")
	a, _, srv := testAgentEmulator(t, gen, Config{}, dir)
	ctx := context.Background()
	a.loadProjects()
	if err := a.pass(ctx); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "gizmo.lock")
	st1, err := os.Stat(lock)
	if err != nil {
		t.Fatal(err)
	}
	before := len(a.Status().Projects[0].Items)
	time.Sleep(20 * time.Millisecond)
	if err := a.pass(ctx); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(lock); !st2.ModTime().Equal(st1.ModTime()) {
		t.Error("a pass with nothing new rewrote gizmo.lock: it updated instead of checking")
	}
	if _, err := srv.AddAsset("A gripper", "new one", nil, api.StatusReady); err != nil {
		t.Fatal(err)
	}
	if err := a.pass(ctx); err != nil {
		t.Fatal(err)
	}
	if after := len(a.Status().Projects[0].Items); after != before+1 {
		t.Errorf("after a new asset: %d models, want %d", after, before+1)
	}
}

func TestRecordErrorCountsRepeats(t *testing.T) {
	a := New(Config{}, Deps{})
	for _, e := range []struct{ where, msg string }{
		{"sync", "down"}, {"sync", "down"}, {"/p", "bad"}, {"sync", "down"}, {"sync", "other"}, {"/p", "bad"},
	} {
		a.recordError(e.where, errors.New(e.msg))
	}
	got := a.Status().Errors
	want := []struct {
		where, msg string
		count      int
	}{{"sync", "down", 3}, {"sync", "other", 1}, {"/p", "bad", 2}}
	if len(got) != len(want) {
		t.Fatalf("errors: %+v", got)
	}
	for i, w := range want {
		if got[i].Where != w.where || got[i].Message != w.msg || got[i].Count != w.count {
			t.Errorf("error %d = %+v, want %+v", i, got[i], w)
		}
	}
}

func TestWantedWatches(t *testing.T) {
	dir := t.TempDir()
	writeManifest := func(text string) {
		if err := os.WriteFile(filepath.Join(dir, "gizmo.toml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := New(Config{}, Deps{})
	w := &watcher{a: a}
	cases := []struct {
		name     string
		manifest string
		want     map[string][]string // dir (relative) → entries of interest; nil: all
	}{
		{"one nested target", "[[target]]\nlayout = \"mujoco\"\ndir = \"sim/mujoco\"\n",
			map[string][]string{".": {"gizmo.toml", "sim"}, "sim": {"mujoco"}, "sim/mujoco": nil}},
		{"two targets under one folder", "[[target]]\nlayout = \"mujoco\"\ndir = \"sim/mujoco\"\n[[target]]\nlayout = \"isaac\"\ndir = \"sim/isaac\"\n",
			map[string][]string{".": {"gizmo.toml", "sim"}, "sim": {"mujoco", "isaac"}, "sim/mujoco": nil, "sim/isaac": nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			writeManifest("[assets]\nall = true\n" + c.manifest)
			got := w.wanted(newProj(a, dir))
			if len(got) != len(c.want) {
				t.Fatalf("watches %v, want %v", got, c.want)
			}
			for rel, entries := range c.want {
				in, ok := got[filepath.Join(dir, rel)]
				if !ok {
					t.Errorf("%s is not watched", rel)
					continue
				}
				if entries == nil {
					if in != nil {
						t.Errorf("%s: interest %v, want everything", rel, in)
					}
					continue
				}
				if len(in) != len(entries) {
					t.Errorf("%s: interest %v, want %v", rel, in, entries)
				}
				for _, e := range entries {
					if !in[e] {
						t.Errorf("%s: %s is not of interest", rel, e)
					}
				}
			}
		})
	}
}
