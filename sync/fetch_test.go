package sync_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
)

// TestFetch: Fetch gets exactly the files it is given, with one export and
// one download each, and sends no list or get request; the other assets
// stay unknown to the cache (none is marked vanished). A recorded URL is
// reused, a body cut short is restarted on the same URL, and an asset
// deleted meanwhile is skipped, not failed.
func TestFetch(t *testing.T) {
	f := formats.MuJoCo
	items := func(ids ...string) []gsync.Item {
		var out []gsync.Item
		for _, id := range ids {
			out = append(out, gsync.Item{ID: id, Name: "arm " + id, Format: f})
		}
		return out
	}

	t.Run("only the items", func(t *testing.T) {
		e := newEnv(t, emulator.Config{Seed: 51})
		ids := e.addReady(t, 3)
		before := e.srv.Stats()
		sum, err := gsync.Fetch(context.Background(), e.client, e.cache, items(ids[0], ids[2]), gsync.Options{})
		if err != nil || !sum.OK() || sum.New != 2 {
			t.Fatalf("fetch: %v, summary %+v; want 2 new", err, sum)
		}
		d := statsDelta(before, e.srv.Stats())
		if d.List.Requests != 0 || d.Get.Requests != 0 || d.Export.Requests != 2 || d.Download.Requests != 2 {
			t.Errorf("stats %+v: want 0 list, 0 get, 2 export, 2 download", d)
		}
		e.checkCached(t, []string{ids[0], ids[2]}, []formats.Format{f})
		if _, err := e.cache.Entry(ids[1], string(f)); err == nil {
			t.Errorf("%s was fetched; it was not asked for", ids[1])
		}
		metas, err := e.cache.Assets()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metas {
			if m.Vanished {
				t.Errorf("%s marked vanished by a fetch", m.ID)
			}
		}
	})

	t.Run("recorded URL", func(t *testing.T) {
		e := newEnv(t, emulator.Config{Seed: 52, URLTTL: 2 * time.Hour})
		ids := e.addReady(t, 1)
		ex, err := e.client.Export(context.Background(), ids[0], f)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.cache.RecordURL(ids[0], string(f), ex.URL, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		before := e.srv.Stats()
		sum, err := gsync.Fetch(context.Background(), e.client, e.cache, items(ids[0]), gsync.Options{})
		if err != nil || !sum.OK() || sum.New != 1 {
			t.Fatalf("fetch: %v, summary %+v", err, sum)
		}
		if d := statsDelta(before, e.srv.Stats()); d.Export.Requests != 0 || d.Download.Requests != 1 {
			t.Errorf("stats %+v: want the recorded URL reused (no export, 1 download)", d)
		}
		e.checkCached(t, ids, []formats.Format{f})
	})

	t.Run("restart", func(t *testing.T) {
		e := newEnv(t, emulator.Config{Seed: 53})
		ids := e.addReady(t, 1)
		if err := e.srv.SetFaults(emulator.Faults{TruncateRate: 1}); err != nil {
			t.Fatal(err)
		}
		var once stdsync.Once
		before := e.srv.Stats()
		sum, err := gsync.Fetch(context.Background(), e.client, e.cache, items(ids[0]), gsync.Options{
			OnEvent: func(ev gsync.Event) {
				if ev.Type == gsync.EventRetry {
					once.Do(func() { e.srv.SetFaults(emulator.Faults{}) })
				}
			}})
		if err != nil || !sum.OK() || sum.New != 1 {
			t.Fatalf("fetch: %v, summary %+v", err, sum)
		}
		if d := statsDelta(before, e.srv.Stats()); d.Export.Requests != 1 || d.Download.Requests != 2 {
			t.Errorf("stats %+v: want 1 export and the body restarted on it (2 downloads)", d)
		}
		e.checkCached(t, ids, []formats.Format{f})
	})

	t.Run("deleted", func(t *testing.T) {
		e := newEnv(t, emulator.Config{Seed: 54})
		ids := e.addReady(t, 2)
		r := &exportDeletingRemote{Client: e.client, srv: e.srv, id: ids[1]}
		var skipped string
		sum, err := gsync.Fetch(context.Background(), r, e.cache, items(ids...), gsync.Options{OnEvent: func(ev gsync.Event) {
			if ev.Type == gsync.EventSkip && ev.ID == ids[1] {
				skipped = ev.Reason
			}
		}})
		if err != nil || !sum.OK() || sum.New != 1 {
			t.Fatalf("fetch: %v, summary %+v; want 1 new and no failure", err, sum)
		}
		if skipped == "" {
			t.Errorf("no skip event for the deleted asset %s", ids[1])
		}
	})

	t.Run("dry run", func(t *testing.T) {
		e := newEnv(t, emulator.Config{Seed: 55})
		ids := e.addReady(t, 2)
		before := e.srv.Stats()
		sum, err := gsync.Fetch(context.Background(), e.client, e.cache, items(ids...), gsync.Options{DryRun: true})
		if err != nil || sum.Planned != 2 || sum.New != 0 {
			t.Fatalf("fetch: %v, summary %+v; want 2 planned", err, sum)
		}
		if d := statsDelta(before, e.srv.Stats()); d.Export.Requests+d.Download.Requests != 0 {
			t.Errorf("stats %+v: a dry run sent requests", d)
		}
	})
}

// TestFetchFile: the one-file fetch (gizmo export's) returns the stored
// entry with its verdict, or the error of its last try with the API's
// sentinel for callers to branch on; refused fresh URLs end in a hint
// about the clock.
func TestFetchFile(t *testing.T) {
	f := formats.MuJoCo
	valid := func(context.Context, string, gsync.Files) gsync.Validation { return gsync.Validation{Valid: true} }
	tests := []struct {
		name    string
		cfg     emulator.Config
		status  api.Status // of the asset asked for; "" for a missing one
		wantErr error
		hint    string // in the error
		exports int64  // export requests sent
	}{
		{name: "ready", cfg: emulator.Config{Seed: 61}, status: api.StatusReady, exports: 1},
		{name: "missing", cfg: emulator.Config{Seed: 62}, wantErr: api.ErrNotFound, exports: 1},
		{name: "pending", cfg: emulator.Config{Seed: 63}, status: api.StatusPending, wantErr: api.ErrNotReady, exports: 1},
		{name: "refused URLs", cfg: emulator.Config{Seed: 64, URLTTL: time.Nanosecond}, status: api.StatusReady,
			wantErr: api.ErrURLExpired, hint: "check the computer's clock", exports: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			id := "ast_missing"
			if tt.status != "" {
				a, err := e.srv.AddAsset("A 6-DOF robotic arm", "", nil, tt.status)
				if err != nil {
					t.Fatal(err)
				}
				id = a.ID
			}
			before := e.srv.Stats()
			entry, err := gsync.FetchFile(context.Background(), e.client, e.cache, gsync.Item{ID: id, Format: f},
				gsync.Options{Validator: valid, Attempts: 3})
			if d := statsDelta(before, e.srv.Stats()); d.Export.Requests != tt.exports {
				t.Errorf("%d export requests, want %d", d.Export.Requests, tt.exports)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(fmt.Sprint(err), tt.hint) {
					t.Fatalf("err = %v, want %v with %q", err, tt.wantErr, tt.hint)
				}
				if _, err := e.cache.Stored(id, string(f)); err == nil {
					t.Error("a failed fetch left the file stored")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if entry.Validation == nil || !entry.Validation.Valid {
				t.Errorf("entry's verdict = %+v, want valid", entry.Validation)
			}
			e.checkCached(t, []string{id}, []formats.Format{f})
		})
	}
}
