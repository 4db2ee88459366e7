package prepare

import (
	"context"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/sync/api"
)

// TestUnplacedStates: a manifest naming a ready asset and ones that are
// failed, pending and of a status gizmo does not know places the ready one
// and reports each other one with its reason, asking for each at most once
// a run; only the failed one makes the run partial. The lock lists them, so
// the next run looks at them again instead of being a no-op.
func TestUnplacedStates(t *testing.T) {
	e := newEnv(t, 0)
	add := func(status api.Status) string {
		a, err := e.srv.AddAsset("A 6-DOF robotic arm", "", nil, status)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	ready, failed, pending, archived := add(api.StatusReady), add(api.StatusFailed), add(api.StatusPending), add("archived")
	e.manifest(manifestFor([]string{ready, failed, pending, archived}, `[[target]]
layout = "mujoco"
dir = "sim/mujoco"
`))
	for run := 1; run <= 2; run++ {
		e.srv.ResetStats()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := Run(ctx, e.options())
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if res.NoOp || len(res.Items) != 1 || res.Items[0].ID != ready {
			t.Fatalf("run %d: placed %+v (noop %v), want the ready asset only", run, res.Items, res.NoOp)
		}
		got := map[string]Unplaced{}
		for _, u := range res.Unplaced {
			got[u.ID] = u
		}
		for id, want := range map[string]string{failed: "failed", pending: "pending", archived: "archived"} {
			if u, ok := got[id]; !ok || u.Status != want || !u.Named {
				t.Errorf("run %d: asset %s reported as %+v, want status %s, named", run, id, u, want)
			}
		}
		if got[failed].Reason == "" || got[failed].Reason == "Gizmo gave no reason" {
			t.Errorf("run %d: the failed asset without the server's reason: %+v", run, got[failed])
		}
		if !res.Partial() {
			t.Errorf("run %d: not partial with a failed asset named", run)
		}
		for _, id := range []string{ready, failed, pending, archived} {
			if n := e.srv.Stats().PerAsset.Assets[id]["get"].Requests; n > 1 {
				t.Errorf("run %d: %d gets of asset %s, want at most 1", run, n, id)
			}
		}
	}
	// Without the failed one the run is not partial: not ready is no failure.
	e.manifest(manifestFor([]string{ready, pending, archived}, `[[target]]
layout = "mujoco"
dir = "sim/mujoco"
`))
	res, err := Run(context.Background(), e.options())
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial() || len(res.Unplaced) != 2 {
		t.Errorf("pending and archived: partial %v, unplaced %+v", res.Partial(), res.Unplaced)
	}
}
