package sync_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/api/hostile"
	"github.com/antimlabs/gizmo/sync/emulator"
)

// TestMergeAsset: what a list page leaves out is kept from the cache's
// record while the status is unchanged (formats, tags, the failure's
// reason), and the result shares no slice with either side.
func TestMergeAsset(t *testing.T) {
	prev := cache.AssetMeta{ID: "ast_1", Name: "Arm", Status: "failed", Error: "mesh too large",
		Tags: []string{"arm"}, Formats: []string{"mujoco"}}
	tests := []struct {
		name      string
		a         api.Asset
		known     bool
		wantErr   string
		wantTags  []string
		wantForms []string
	}{
		{"list page, same status", api.Asset{ID: "ast_1", Name: "Arm", Status: api.StatusFailed}, true,
			"mesh too large", []string{"arm"}, []string{"mujoco"}},
		{"status changed", api.Asset{ID: "ast_1", Name: "Arm", Status: api.StatusReady}, true,
			"", []string{"arm"}, nil},
		{"the server's own", api.Asset{ID: "ast_1", Name: "Arm", Status: api.StatusFailed, Error: "timeout",
			Tags: []string{"x"}, Formats: []formats.Format{formats.IsaacURDF}}, true,
			"timeout", []string{"x"}, []string{"isaac_sim_urdf"}},
		{"unknown to the cache", api.Asset{ID: "ast_1", Name: "Arm", Status: api.StatusFailed}, false,
			"", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := gsync.MergeAsset(tt.a, prev, tt.known)
			if m.Error != tt.wantErr || !slices.Equal(m.Tags, tt.wantTags) || !slices.Equal(m.Formats, tt.wantForms) {
				t.Fatalf("merged %+v", m)
			}
			if len(m.Tags) > 0 {
				m.Tags[0] = "changed"
				if prev.Tags[0] != "arm" || len(tt.a.Tags) > 0 && tt.a.Tags[0] != "x" {
					t.Errorf("the merged tags share a slice")
				}
			}
			if len(m.Formats) > 0 {
				m.Formats[0] = "changed"
				if prev.Formats[0] != "mujoco" {
					t.Errorf("the merged formats share the cache's slice")
				}
			}
		})
	}
}

func TestHasAnyTag(t *testing.T) {
	tests := []struct {
		have, want []string
		ok         bool
	}{
		{[]string{"a", "b"}, []string{"b"}, true},
		{[]string{"a"}, []string{"b", "c"}, false},
		{nil, []string{"a"}, false},
		{[]string{"a"}, nil, false},
	}
	for _, tt := range tests {
		if got := gsync.HasAnyTag(tt.have, tt.want); got != tt.ok {
			t.Errorf("HasAnyTag(%q, %q) = %v", tt.have, tt.want, got)
		}
	}
}

// TestListPages: 250 assets are three pages that overlap by one asset
// (offsets 0, 99 and 198), each asset listed once, in the server's order.
func TestListPages(t *testing.T) {
	e := newEnv(t, emulator.Config{Assets: 250, Seed: 1})
	e.srv.ResetStats()
	l, err := gsync.List(context.Background(), e.client)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Assets) != 250 || !l.Complete || l.Pages != 3 {
		t.Fatalf("listed %d assets in %d pages (complete %v), want 250 in 3, complete", len(l.Assets), l.Pages, l.Complete)
	}
	seen := map[string]bool{}
	for _, a := range l.Assets {
		if seen[a.ID] {
			t.Fatalf("asset %s listed twice", a.ID)
		}
		seen[a.ID] = true
	}
	if n := e.srv.Stats().List.Requests; n != 3 {
		t.Errorf("%d list requests, want 3", n)
	}
	p, err := e.client.List(context.Background(), 100, 200)
	if err != nil {
		t.Fatal(err)
	}
	if p.Assets[49].ID != l.Assets[249].ID {
		t.Errorf("order differs from the server's: last %s, want %s", l.Assets[249].ID, p.Assets[49].ID)
	}
}

// changingLister is the real client with a hook run once, after the first
// page was read.
type changingLister struct {
	*api.Client
	change func()
	once   stdsync.Once
}

func (c *changingLister) List(ctx context.Context, limit, offset int) (*api.Page, error) {
	p, err := c.Client.List(ctx, limit, offset)
	c.once.Do(c.change)
	return p, err
}

// TestListToleratesChanges: assets deleted from the first page and assets
// created while the listing is read: none is listed twice, none present
// all along is missed, and a listing that changed is not complete. "both"
// deletes as many as it creates, so that the totals agree: pages that only
// abut would miss the assets shifted across their boundaries.
func TestListToleratesChanges(t *testing.T) {
	cases := []struct {
		name    string
		deletes int // assets deleted from the start after the first page was read
		adds    int
	}{
		{"vanish", 5, 0},
		{"appear", 0, 7},
		{"both", 3, 3},
		{"vanish more than a page", 120, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Assets: 250, Seed: 3})
			ctx := context.Background()
			before, err := gsync.List(ctx, e.client)
			if err != nil {
				t.Fatal(err)
			}
			if len(before.Assets) != 250 || !before.Complete {
				t.Fatalf("first listing: %d assets, complete %v", len(before.Assets), before.Complete)
			}
			deleted := map[string]bool{}
			r := &changingLister{Client: e.client, change: func() {
				for _, a := range before.Assets[:tc.deletes] {
					e.srv.Delete(a.ID)
					deleted[a.ID] = true
				}
				if err := e.srv.Seed(tc.adds); err != nil {
					t.Error(err)
				}
			}}
			l, err := gsync.List(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if l.Complete {
				t.Errorf("a listing the account changed under is complete")
			}
			seen := map[string]int{}
			for _, a := range l.Assets {
				seen[a.ID]++
			}
			for id, k := range seen {
				if k > 1 {
					t.Errorf("asset %s listed %d times", id, k)
				}
			}
			for _, a := range before.Assets {
				if !deleted[a.ID] && seen[a.ID] == 0 {
					t.Errorf("asset %s present all along was missed", a.ID)
				}
			}
		})
	}
}

// TestListHostile: a server that keeps the listing going, or lies about
// its total, ends the listing with an error that says so, within a bound.
func TestListHostile(t *testing.T) {
	for _, tc := range []struct {
		mode        hostile.Mode
		want        error
		text        string
		maxRequests int64
	}{
		{hostile.LyingTotal, api.ErrNotAPI, "says the account has 1000 assets but sent 30 at offset 0", 1},
		{hostile.Repeat, gsync.ErrEndlessList, "3 pages in a row with nothing new on them", 5},
		{hostile.Endless, gsync.ErrEndlessList, "read 17 pages", 17},
		{hostile.HTML, api.ErrNotAPI, "HTML page, not JSON; check --api-url", 5},
		{hostile.AnyObject, api.ErrNotAPI, "without an assets list", 6},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			srv := hostile.Start(t, tc.mode)
			c, err := api.New(api.Options{BaseURL: srv.URL, APIKey: hostile.APIKey,
				BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
				RequestTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = gsync.List(ctx, c)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %v, want %v with %q", err, tc.want, tc.text)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %q is taken for the caller's deadline", err)
			}
			if n := srv.Requests.Load(); n > tc.maxRequests {
				t.Errorf("%d requests, want at most %d", n, tc.maxRequests)
			}
		})
	}
}

// BenchmarkList lists 1000 assets (11 pages) per iteration.
func BenchmarkList(b *testing.B) {
	e := newEnv(b, emulator.Config{Assets: 1000, Seed: 1})
	ctx := context.Background()
	for b.Loop() {
		l, err := gsync.List(ctx, e.client)
		if err != nil {
			b.Fatal(err)
		}
		if len(l.Assets) != 1000 || l.Pages != 11 {
			b.Fatalf("listed %d in %d pages", len(l.Assets), l.Pages)
		}
	}
}

func TestListPagesCount(t *testing.T) {
	for _, tc := range []struct{ n, pages int }{
		{0, 1}, {1, 1}, {100, 1}, {101, 2}, {199, 2}, {200, 3}, {250, 3}, {298, 3}, {299, 4}, {1000, 11},
	} {
		if got := gsync.ListPages(tc.n); got != tc.pages {
			t.Errorf("ListPages(%d) = %d, want %d", tc.n, got, tc.pages)
		}
	}
}

// TestListScenes: the scene listing is the same pager: 250 scenes are
// three overlapping pages, each scene once.
func TestListScenes(t *testing.T) {
	e := newCurrentEnv(t, emulator.Config{Assets: 1000, Seed: 9})
	want := e.srv.SceneIDs()
	if len(want) <= 2*gsync.PageSize {
		t.Fatalf("%d seeded scenes: the test needs more than two pages", len(want))
	}
	before := e.srv.CurrentStats()
	l, err := gsync.ListScenes(context.Background(), e.client)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range l.Scenes {
		if got[s.ID] {
			t.Errorf("scene %s listed twice", s.ID)
		}
		got[s.ID] = true
	}
	for _, id := range want {
		if !got[id] {
			t.Errorf("scene %s missed", id)
		}
	}
	if len(l.Scenes) != len(want) || !l.Complete || l.Pages != gsync.ListPages(len(want)) {
		t.Errorf("%d scenes in %d pages (complete %v); want %d in %d, complete", len(l.Scenes), l.Pages, l.Complete, len(want), gsync.ListPages(len(want)))
	}
	if n := e.srv.CurrentStats().Scenes.Requests - before.Scenes.Requests; n != int64(l.Pages) {
		t.Errorf("%d scene requests for %d pages", n, l.Pages)
	}
}

// memScenes serves scenes from memory, with or without a total, and runs
// change once, after the first page.
type memScenes struct {
	ids     []string
	noTotal bool
	change  func(*memScenes)
	calls   int
}

func (m *memScenes) ListScenes(ctx context.Context, limit, offset int) ([]api.Scene, int, error) {
	var page []api.Scene
	for _, id := range m.ids[min(offset, len(m.ids)):min(offset+limit, len(m.ids))] {
		page = append(page, api.Scene{ID: id})
	}
	total := len(m.ids)
	if m.noTotal {
		total = -1
	}
	if m.calls++; m.calls == 1 && m.change != nil {
		m.change(m)
	}
	return page, total, nil
}

// TestListScenesWithoutTotal: a server that gives no total is read until a
// short page; scenes deleted behind the listing shift the rest, and none
// present all along is missed.
func TestListScenesWithoutTotal(t *testing.T) {
	ids := make([]string, 250)
	for i := range ids {
		ids[i] = fmt.Sprintf("scn_%03d", i)
	}
	for _, tc := range []struct {
		name         string
		change       func(*memScenes)
		wantComplete bool
	}{
		{"unchanged", nil, true},
		{"three vanish, three appear", func(m *memScenes) {
			m.ids = append(slices.Clone(m.ids[3:]), "scn_new1", "scn_new2", "scn_new3")
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &memScenes{ids: slices.Clone(ids), noTotal: true, change: tc.change}
			l, err := gsync.ListScenes(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, s := range l.Scenes {
				got[s.ID]++
			}
			for _, id := range ids[3:] {
				if got[id] != 1 {
					t.Errorf("scene %s listed %d times, want once", id, got[id])
				}
			}
			if l.Complete != tc.wantComplete {
				t.Errorf("complete %v, want %v", l.Complete, tc.wantComplete)
			}
			if tc.change == nil && (len(l.Scenes) != 250 || l.Pages != gsync.ListPages(250)) {
				t.Errorf("%d scenes in %d pages, want 250 in %d", len(l.Scenes), l.Pages, gsync.ListPages(250))
			}
		})
	}
}
