package prepare

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestTargetIDs: an asset a [[target]] lists for itself is placed in that
// target only, one [assets] selects in every target; the lock says so,
// and the next prepare is a no-op.
func TestTargetIDs(t *testing.T) {
	e := newEnv(t, 6)
	ready := e.readyIDs()
	all, only := ready[0].ID, ready[1].ID
	e.manifest(fmt.Sprintf("[assets]\nids = [%q]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"m\"\nids = [%q]\n\n[[target]]\nlayout = \"isaac\"\ndir = \"i\"\nformats = [\"urdf\"]\n", all, only))
	ctx := context.Background()
	res, err := Run(ctx, e.options())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, it := range res.Items {
		got[it.ID+" "+it.Target]++
	}
	want := map[string]int{all + " m": 1, all + " i": 1, only + " m": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("placed %v, want %v", got, want)
	}
	ents, err := os.ReadDir(filepath.Join(e.project, "i"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 { // .gizmo and the [assets] one
		t.Errorf("the isaac target holds %d entries, want 2", len(ents))
	}
	again, err := Run(ctx, e.options())
	if err != nil || !again.NoOp || len(again.Items) != 3 {
		t.Errorf("second run: %+v %v, want a no-op with 3 models", again, err)
	}
	o := e.options()
	o.Locked = true
	if _, err := Run(ctx, withVerify(o)); err != nil {
		t.Errorf("--locked --verify: %v", err)
	}
}
