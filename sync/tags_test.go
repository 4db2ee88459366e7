package sync_test

import (
	"testing"

	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
)

// TestTagsSelectWhatIsReported: with Tags, pending and failed assets that
// do not carry them are neither reported nor counted, with or without
// Wait's polling; every listed asset is recorded all the same.
func TestTagsSelectWhatIsReported(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 71})
	add := func(status api.Status, tags ...string) string {
		a, err := e.srv.AddAsset("A robot "+string(status), "", tags, status)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	ready := add(api.StatusReady, "kitchen")
	pending := add(api.StatusPending, "kitchen", "v2")
	failed := add(api.StatusFailed, "kitchen")
	other := map[string]bool{
		add(api.StatusReady, "garage"):   true,
		add(api.StatusPending, "garage"): true,
		add(api.StatusFailed, "garage"):  true,
		add(api.StatusPending):           true, // no tags at all
		add("archived", "garage"):        true,
	}
	for _, tc := range []struct {
		name string
		tags []string
	}{
		{"first sync", []string{"kitchen"}},
		{"second sync, tags known to the cache", []string{"kitchen"}},
		{"another tag of the same assets", []string{"v2", "kitchen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, evs := e.sync(t, gsync.Options{Tags: tc.tags, Formats: []formats.Format{formats.MuJoCo}})
			seen := map[gsync.EventType]map[string]bool{}
			for _, ev := range evs {
				if ev.ID == "" {
					continue
				}
				if other[ev.ID] {
					t.Errorf("%s event for %s, which does not carry %v", ev.Type, ev.ID, tc.tags)
				}
				if seen[ev.Type] == nil {
					seen[ev.Type] = map[string]bool{}
				}
				seen[ev.Type][ev.ID] = true
			}
			if !seen[gsync.EventPending][pending] || !seen[gsync.EventGenerationFailed][failed] {
				t.Errorf("events %v: want %s pending and %s failed reported", seen, pending, failed)
			}
			if !seen[gsync.EventDone][ready] && !seen[gsync.EventSkip][ready] {
				t.Errorf("events %v: want %s fetched or skipped as cached", seen, ready)
			}
			if sum.Seen != 8 || sum.Pending != 1 || sum.GenFailed != 1 {
				t.Errorf("summary: %d seen, %d pending, %d failed; want 8, 1, 1", sum.Seen, sum.Pending, sum.GenFailed)
			}
		})
	}
	metas, err := e.cache.Assets()
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 8 {
		t.Errorf("%d assets recorded, want all 8 listed", len(metas))
	}
}
