package emulator_test

import (
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// listStatuses lists every asset over HTTP (at most 100) and returns each
// one's status by id, as a client sees it.
func listStatuses(t *testing.T, u string) map[string]api.Status {
	t.Helper()
	resp, body := do(t, "GET", u+"/assets?limit=100", bearer, "")
	if resp.StatusCode != 200 {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	var p api.Page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]api.Status, len(p.Assets))
	for _, a := range p.Assets {
		out[a.ID] = a.Status
	}
	return out
}

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

// TestSeedSettle: with SeedSettle D, seeded pending assets turn processing at
// D/2 and, like seeded processing ones, end ready or failed at D; the others
// keep their status. Without it every seeded status is fixed.
func TestSeedSettle(t *testing.T) {
	const d = 4 * time.Second
	clk := newClock()
	cfg := emulator.Config{Assets: 40, Seed: 7, SeedSettle: d, FailRate: 0.5, Now: clk.Now}
	srv, u := emulatortest.StartTest(t, cfg)
	fixedCfg := cfg
	fixedCfg.SeedSettle = 0
	_, fixedURL := emulatortest.StartTest(t, fixedCfg)

	seeded := listStatuses(t, u)
	if len(seeded) != 40 {
		t.Fatalf("%d assets listed, want 40", len(seeded))
	}
	if fixed := listStatuses(t, fixedURL); !maps.Equal(seeded, fixed) {
		t.Fatalf("at start, statuses with SeedSettle differ from those without:\n%v\n%v", seeded, fixed)
	}
	var pending, processing, others []string
	for id, st := range seeded {
		switch st {
		case api.StatusPending:
			pending = append(pending, id)
		case api.StatusProcessing:
			processing = append(processing, id)
		default:
			others = append(others, id)
		}
	}
	if len(pending) == 0 || len(processing) == 0 {
		t.Fatalf("seeded %d pending and %d processing, want some of each", len(pending), len(processing))
	}
	if resp, body := do(t, "POST", u+"/assets/"+pending[0]+"/export", bearer, `{"format":"mujoco_mjcf"}`); resp.StatusCode != 409 {
		t.Errorf("export of a seeded pending asset: %d %s, want 409", resp.StatusCode, body)
	}

	expect := func(when string, ids []string, want ...api.Status) {
		t.Helper()
		now := listStatuses(t, u)
		for _, id := range ids {
			ok := false
			for _, w := range want {
				ok = ok || now[id] == w
			}
			if !ok {
				t.Errorf("%s: %s (seeded %s) is %s, want %v", when, id, seeded[id], now[id], want)
			}
		}
	}
	clk.Add(d/2 - time.Nanosecond)
	expect("just before D/2", pending, api.StatusPending)
	expect("just before D/2", processing, api.StatusProcessing)
	clk.Add(time.Nanosecond)
	expect("at D/2", pending, api.StatusProcessing)
	expect("at D/2", processing, api.StatusProcessing)
	clk.Add(d/2 - time.Nanosecond)
	expect("just before D", pending, api.StatusProcessing)
	expect("just before D", processing, api.StatusProcessing)
	clk.Add(time.Nanosecond)
	inFlight := append(append([]string(nil), pending...), processing...)
	expect("at D", inFlight, api.StatusReady, api.StatusFailed)

	final := listStatuses(t, u)
	for _, id := range others {
		if final[id] != seeded[id] {
			t.Errorf("%s was seeded %s, is %s at D", id, seeded[id], final[id])
		}
	}
	n := map[api.Status]int{}
	for _, id := range inFlight {
		st := final[id]
		n[st]++
		a, _ := srv.Asset(id)
		switch st {
		case api.StatusReady:
			if len(a.Formats) != 3 || a.Error != "" {
				t.Errorf("settled ready %s: formats %v, error %q", id, a.Formats, a.Error)
			}
			exportURL(t, u, id, "mujoco_mjcf") // fails the test unless 200
		case api.StatusFailed:
			if len(a.Formats) != 0 || a.Error == "" {
				t.Errorf("settled failed %s: formats %v, error %q", id, a.Formats, a.Error)
			}
		}
	}
	if n[api.StatusReady] == 0 || n[api.StatusFailed] == 0 {
		t.Errorf("in-flight seeded assets settled as %v; want both ready and failed with FailRate 0.5", n)
	}

	clk.Add(time.Hour)
	if later := listStatuses(t, u); !maps.Equal(later, final) {
		t.Errorf("statuses changed after settling:\n%v\n%v", final, later)
	}
	if fixed := listStatuses(t, fixedURL); !maps.Equal(fixed, seeded) {
		t.Errorf("without SeedSettle, statuses changed over an hour:\n%v\n%v", seeded, fixed)
	}

	// The outcomes come from the seed: another server settles the same way,
	// whatever requests it saw, and FailRate 0 fails none.
	_, again := emulatortest.StartTest(t, cfg)
	do(t, "POST", again+"/assets", bearer, `{"prompt":"A gripper"}`)
	clk.Add(d)
	got := listStatuses(t, again)
	for id, st := range final {
		if got[id] != st {
			t.Errorf("second server: %s is %s, want %s", id, got[id], st)
		}
	}
	noFail := cfg
	noFail.FailRate = 0
	_, nf := emulatortest.StartTest(t, noFail)
	clk.Add(d)
	got = listStatuses(t, nf)
	for _, id := range inFlight {
		if got[id] != api.StatusReady {
			t.Errorf("FailRate 0: %s is %s, want ready", id, got[id])
		}
	}
}

// TestSeedSettleFromSeedCall: assets added by Seed settle counted from that
// call, not from the server's start.
func TestSeedSettleFromSeedCall(t *testing.T) {
	const d = 4 * time.Second
	clk := newClock()
	srv, u := emulatortest.StartTest(t, emulator.Config{SeedSettle: d, Now: clk.Now})
	clk.Add(time.Hour)
	if err := srv.Seed(10); err != nil {
		t.Fatal(err)
	}
	count := func() map[api.Status]int {
		n := map[api.Status]int{}
		for _, st := range listStatuses(t, u) {
			n[st]++
		}
		return n
	}
	if n := count(); n[api.StatusPending] != 1 || n[api.StatusProcessing] != 1 {
		t.Fatalf("just seeded: %v, want 1 pending and 1 processing", n)
	}
	clk.Add(d - time.Nanosecond)
	if n := count(); n[api.StatusProcessing] != 2 {
		t.Errorf("just before D: %v, want 2 processing", n)
	}
	clk.Add(time.Nanosecond)
	if n := count(); n[api.StatusReady] != 9 || n[api.StatusFailed] != 1 {
		t.Errorf("at D: %v, want 9 ready and the one seeded failed", n)
	}
}

// TestSeedSettleStateDir: the settle times are kept in the state file, so a
// restarted server goes on from where the first left off; a state written
// without SeedSettle keeps its fixed statuses.
func TestSeedSettleStateDir(t *testing.T) {
	const d = 4 * time.Second
	for _, tc := range []struct {
		name       string
		first      time.Duration // SeedSettle of the first server
		wantSettle bool
	}{
		{"settling", d, true},
		{"fixed before restart", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			dir := t.TempDir()
			s1, err := emulator.New(emulator.Config{Assets: 10, Seed: 3, SeedSettle: tc.first, StateDir: dir, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			_, u1 := startHandler(t, s1)
			seeded := listStatuses(t, u1)
			s1.Close()

			clk.Add(d)
			s2, err := emulator.New(emulator.Config{Assets: 10, Seed: 3, SeedSettle: d, StateDir: dir, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			_, u2 := startHandler(t, s2)
			for id, st := range listStatuses(t, u2) {
				inFlight := seeded[id] == api.StatusPending || seeded[id] == api.StatusProcessing
				switch {
				case inFlight && tc.wantSettle && st != api.StatusReady:
					t.Errorf("%s seeded %s is %s after the restart at D, want ready", id, seeded[id], st)
				case (!inFlight || !tc.wantSettle) && st != seeded[id]:
					t.Errorf("%s seeded %s is %s after the restart", id, seeded[id], st)
				}
			}
		})
	}
}

// TestSeedSettleWaitReady: on the real clock, a client waiting for a seeded
// pending asset (as gizmo sync --wait does) sees it become ready.
func TestSeedSettleWaitReady(t *testing.T) {
	_, u := emulatortest.StartTest(t, emulator.Config{Assets: 4, Seed: 1, SeedSettle: 300 * time.Millisecond})
	var id string
	for i, st := range listStatuses(t, u) {
		if st == api.StatusPending {
			id = i
		}
	}
	if id == "" {
		t.Fatal("no seeded pending asset")
	}
	c, err := api.New(api.Options{BaseURL: u, APIKey: emulator.DefaultAPIKey, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen []api.Status
	a, err := c.WaitReady(ctx, id, func(a api.Asset) { seen = append(seen, a.Status) })
	if err != nil || a.Status != api.StatusReady {
		t.Fatalf("WaitReady = %+v, %v (statuses %v); want ready", a, err, seen)
	}
}

func TestSeedSettleNegative(t *testing.T) {
	if _, err := emulator.New(emulator.Config{SeedSettle: -time.Second}); err == nil {
		t.Error("New accepted a negative SeedSettle")
	}
}
