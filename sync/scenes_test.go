package sync_test

import (
	"context"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
)

// newCurrentEnv is newEnv against the current generation.
func newCurrentEnv(t *testing.T, cfg emulator.Config) *env {
	t.Helper()
	cfg.API = emulator.APICurrent
	return newEnv(t, cfg)
}

// TestScenes: with Options.Scenes, a sync records the account's scenes as
// scenes and stores their exports, straight from the scene route; a scene
// edited since is exported again, once; without Scenes the scenes the cache
// knows are neither vanished nor pruned.
func TestScenes(t *testing.T) {
	e := newCurrentEnv(t, emulator.Config{Assets: 8, Seed: 5})
	scenes := e.srv.SceneIDs()
	if len(scenes) != 2 {
		t.Fatalf("%d seeded scenes, want 2", len(scenes))
	}
	want := []formats.Format{formats.MuJoCo, formats.IsaacUSD}
	before := e.srv.CurrentStats()
	sum, _ := e.sync(t, gsync.Options{Scenes: true, Formats: want})
	if sum.Seen != 8 || sum.Scenes != 2 || !sum.OK() || !sum.Complete {
		t.Fatalf("summary %+v", sum)
	}
	after := e.srv.CurrentStats()
	if n := after.Export.Errors - before.Export.Errors; n != 0 {
		t.Errorf("%d exports failed: a scene's export went to the asset route first", n)
	}
	if n := after.Scenes.Requests - before.Scenes.Requests; n != 1 {
		t.Errorf("%d scene requests, want the one list page", n)
	}
	for _, id := range scenes {
		m, err := e.cache.Asset(id)
		if err != nil || !m.Scene || m.Revision == "" {
			t.Errorf("scene %s recorded as %+v (%v): want a scene with its revision", id, m, err)
		}
		for _, f := range want {
			if !e.cache.Have(id, string(f)) {
				t.Errorf("scene %s: no %s in the cache", id, f)
			}
		}
	}
	old, err := e.cache.Entry(scenes[0], string(formats.MuJoCo))
	if err != nil {
		t.Fatal(err)
	}

	// Edited elsewhere: the next sync exports that scene again, only it.
	resp, err := e.client.CreateJob(context.Background(), api.JobEdit, scenes[0], api.JobRequest{Prompt: "add a conveyor belt"})
	if err != nil || resp.JobID == "" {
		t.Fatalf("edit: %+v %v", resp, err)
	}
	sum, _ = e.sync(t, gsync.Options{Scenes: true, Formats: want})
	if sum.New != 2 || !sum.OK() {
		t.Errorf("after an edit: %d new files, want the edited scene's 2 (%+v)", sum.New, sum)
	}
	now, err := e.cache.Entry(scenes[0], string(formats.MuJoCo))
	if err != nil || now.Hash == old.Hash {
		t.Errorf("the edited scene's export is still the old one (%v)", err)
	}
	if problems, err := e.cache.Verify(context.Background(), false); err != nil || len(problems) != 0 {
		t.Errorf("verify: %v %v (the old export's files should be gone)", problems, err)
	}

	// Assets only: the cached scenes stay, even with Prune.
	sum, _ = e.sync(t, gsync.Options{Scenes: false, Prune: true, Formats: want})
	if sum.Scenes != 0 || sum.Vanished != 0 || sum.Pruned != 0 {
		t.Errorf("assets only: %+v", sum)
	}
	for _, id := range scenes {
		if m, err := e.cache.Asset(id); err != nil || m.Vanished || !e.cache.Have(id, string(formats.MuJoCo)) {
			t.Errorf("scene %s after a sync of assets only: %+v %v", id, m, err)
		}
	}
}

// TestScenesAlpha: against the alpha generation, which has no scenes,
// Options.Scenes mirrors the assets as without it: one list page, nothing
// else asked for.
func TestScenesAlpha(t *testing.T) {
	e := newEnv(t, emulator.Config{Assets: 4, Seed: 5})
	sum, _ := e.sync(t, gsync.Options{Scenes: true, Formats: []formats.Format{formats.MuJoCo}})
	if sum.Seen != 4 || sum.Scenes != 0 || !sum.OK() || !sum.Complete {
		t.Errorf("summary %+v", sum)
	}
	if st := e.srv.Stats(); st.List.Requests != 1 || st.Get.Errors+st.Export.Errors != 0 {
		t.Errorf("requests %+v: want one list page and no failed request", st)
	}
}
