package ratebudget_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
	"github.com/antimlabs/gizmo/sync/ratebudget"
)

// TestSharedBudget: two clients (two pacers, as two processes have) on one
// key against a rate limit. Sharing the budget file they get no 429; each
// pacing alone, they overrun the limit.
func TestSharedBudget(t *testing.T) {
	const perClient, limit = 24, 12
	window := 1500 * time.Millisecond
	for _, shared := range []bool{true, false} {
		name := map[bool]string{true: "shared", false: "alone"}[shared]
		t.Run(name, func(t *testing.T) {
			srv, u := emulatortest.StartTest(t, emulator.Config{API: emulator.APICurrent, Assets: 1, APIKey: "k-secret",
				Current: emulator.CurrentOptions{RateLimit: limit, RateWindow: window}})
			dir := t.TempDir()
			var clients []*api.Client
			for range 2 {
				o := api.Options{BaseURL: u, APIKey: "k-secret", Generation: api.GenerationCurrent, MaxAttempts: 20,
					BaseBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
				if shared {
					o.Budget = ratebudget.New(dir+"/api", u, "k-secret")
				}
				c, err := api.New(o)
				if err != nil {
					t.Fatal(err)
				}
				clients = append(clients, c)
			}
			page, err := clients[0].List(context.Background(), 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			id := page.Assets[0].ID
			var wg sync.WaitGroup
			for _, c := range clients {
				for w := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range perClient / 4 {
							if _, err := c.Get(context.Background(), id); err != nil {
								t.Errorf("worker %d: %v", w, err)
							}
						}
					}()
				}
			}
			wg.Wait()
			limited := srv.CurrentStats().RateLimited
			t.Logf("%s: %d answers 429", name, limited)
			if shared && limited != 0 {
				t.Errorf("%d answers 429 with a shared budget, want 0", limited)
			}
			if !shared && limited == 0 {
				t.Errorf("no 429 with two clients pacing alone: the test proves nothing")
			}
			if shared {
				ents, _ := os.ReadDir(dir + "/api")
				for _, e := range ents {
					b, _ := os.ReadFile(dir + "/api/" + e.Name())
					if strings.Contains(string(b), "k-secret") || strings.Contains(e.Name(), "k-secret") {
						t.Errorf("the budget file %s holds the key", e.Name())
					}
				}
				if len(ents) != 2 {
					t.Errorf("%d files in the budget dir, want the state and its lock", len(ents))
				}
			}
		})
	}
}

// TestNoTrace: a process that has nothing to share (it never saw the
// rate-limit headers) leaves no directory behind; one that saw a window
// makes the directory and the file, which the next process reads.
func TestNoTrace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fn     func(*api.PaceState)
		trace  bool
		hasDir bool // the directory exists beforehand (another key's budget)
	}{
		{"nothing known", func(*api.PaceState) {}, false, false},
		{"nothing known, the directory there", func(*api.PaceState) {}, false, true},
		{"a window seen", func(s *api.PaceState) { s.Known, s.Limit, s.Remaining = true, 10, 9 }, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir() + "/user/gizmo/api"
			if tc.hasDir {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			b := ratebudget.New(dir, "http://127.0.0.1:1/v1", "k")
			if err := b.Update(context.Background(), tc.fn); err != nil {
				t.Fatal(err)
			}
			_, err := os.Stat(b.Path())
			if got := err == nil; got != tc.trace {
				t.Fatalf("budget file present %v, want %v (%v)", got, tc.trace, err)
			}
			if _, err := os.Stat(dir); !tc.trace && !tc.hasDir && !os.IsNotExist(err) {
				t.Errorf("the budget directory was made with nothing to keep (%v)", err)
			}
			var seen api.PaceState
			// The same key and server, spelt with /v1 or without.
			other := ratebudget.New(dir, "http://127.0.0.1:1/", "k")
			if err := other.Update(context.Background(), func(s *api.PaceState) { seen = *s }); err != nil {
				t.Fatal(err)
			}
			if seen.Known != tc.trace || tc.trace && seen.Remaining != 9 {
				t.Errorf("another process reads %+v", seen)
			}
		})
	}
}
