package sync_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

const testKey = "test-key"

// env is an emulator over loopback, a client for it and a cache in a temp dir.
type env struct {
	srv    *emulator.Server
	url    string
	client *api.Client
	cache  *cache.Cache
	dir    string
}

func newEnv(t testing.TB, cfg emulator.Config) *env {
	t.Helper()
	cfg.APIKey = testKey
	srv, url := emulatortest.StartTest(t, cfg)
	var gen api.Generation
	if cfg.API == emulator.APICurrent {
		gen = api.GenerationCurrent
	}
	client, err := api.New(api.Options{
		BaseURL: url, APIKey: testKey, Generation: gen,
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond,
		MaxAttempts: 8, PollInterval: 20 * time.Millisecond, PollMax: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{srv: srv, url: url, client: client, cache: c, dir: dir}
}

// addReady adds n ready assets and returns their ids.
func (e *env) addReady(t testing.TB, n int, tags ...string) []string {
	t.Helper()
	var ids []string
	for i := range n {
		a, err := e.srv.AddAsset(fmt.Sprintf("A %d-DOF robotic arm number %d", 3+i%5, i), "", tags, api.StatusReady)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	return ids
}

func (e *env) sync(t *testing.T, opts gsync.Options) (*gsync.Summary, []gsync.Event) {
	t.Helper()
	var mu stdsync.Mutex
	var evs []gsync.Event
	opts.OnEvent = func(ev gsync.Event) {
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
	}
	sum, err := gsync.Run(context.Background(), e.client, e.cache, opts)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return sum, evs
}

// checkCached asserts that every (id, format) is in the cache, byte-identical
// to what the emulator serves.
func (e *env) checkCached(t *testing.T, ids []string, fs []formats.Format) {
	t.Helper()
	for _, id := range ids {
		for _, f := range fs {
			ent, err := e.cache.Entry(id, string(f))
			if err != nil {
				t.Errorf("%s/%s not cached: %v", id, f, err)
				continue
			}
			want, err := e.srv.ExportBytes(id, f)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(want)
			if ent.Filename == "" {
				t.Errorf("%s/%s: the server's filename hint was not kept", id, f)
			}
			if got := fmt.Sprintf("%x", sum); ent.Hash != got || ent.Size != int64(len(want)) {
				t.Errorf("%s/%s: cached sha256 %s size %d, emulator serves %s size %d", id, f, ent.Hash, ent.Size, got, len(want))
			}
			blob := filepath.Join(e.dir, "blobs", ent.Hash[:2], ent.Hash)
			b, err := os.ReadFile(blob)
			if err != nil {
				t.Errorf("%s/%s: %v", id, f, err)
			} else if !bytes.Equal(b, want) {
				t.Errorf("%s/%s: blob %s differs from the emulator's bytes", id, f, blob)
			}
		}
	}
}

func statsDelta(a, b emulator.Stats) emulator.Stats {
	d := func(x, y emulator.RouteStats) emulator.RouteStats {
		return emulator.RouteStats{Requests: y.Requests - x.Requests, Errors: y.Errors - x.Errors}
	}
	return emulator.Stats{List: d(a.List, b.List), Get: d(a.Get, b.Get), Create: d(a.Create, b.Create),
		Export: d(a.Export, b.Export), Download: d(a.Download, b.Download),
		DownloadAuthorization: b.DownloadAuthorization - a.DownloadAuthorization}
}

// TestRequestEconomy: a first sync of N ready assets in F formats sends
// ListPages(N) list, at most N get, N×F export and N×F download requests; a
// second sends only the list requests.
func TestRequestEconomy(t *testing.T) {
	bogus := formats.Format("obj") // offered by no asset: listing and gets only
	for _, tc := range []struct {
		name    string
		n       int
		formats []formats.Format // wanted; nil: all
		fetched int              // formats fetched per asset
	}{
		{"three assets all formats", 3, nil, 3},
		{"two formats", 4, []formats.Format{formats.IsaacURDF, formats.MuJoCo}, 2},
		{"two pages nothing to fetch", 150, []formats.Format{bogus}, 0},
		{"one full page", 100, []formats.Format{formats.MuJoCo}, 1},
		{"three pages", 201, []formats.Format{formats.IsaacURDF}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.n*tc.fetched > 50 {
				t.Skip("stores many files: not in -short")
			}
			e := newEnv(t, emulator.Config{Seed: 1})
			ids := e.addReady(t, tc.n)
			files := tc.n * tc.fetched
			sum, _ := e.sync(t, gsync.Options{Formats: tc.formats})
			st := e.srv.Stats()
			pages := gsync.ListPages(tc.n)
			if st.List.Requests != int64(pages) || st.Get.Requests > int64(tc.n) ||
				st.Export.Requests != int64(files) || st.Download.Requests != int64(files) || st.Create.Requests != 0 {
				t.Errorf("first sync sent list %d get %d export %d download %d create %d; want list %d, get ≤ %d, export %d, download %d, create 0",
					st.List.Requests, st.Get.Requests, st.Export.Requests, st.Download.Requests, st.Create.Requests, pages, tc.n, files, files)
			}
			if st.DownloadAuthorization != 0 {
				t.Errorf("%d download requests carried the API key", st.DownloadAuthorization)
			}
			if sum.New != files || sum.Failed != 0 || sum.Seen != tc.n || !sum.Complete {
				t.Errorf("summary %+v; want %d new, 0 failed, %d seen, complete", sum, files, tc.n)
			}
			if tc.fetched > 0 {
				want := tc.formats
				if want == nil {
					want = formats.All
				}
				e.checkCached(t, ids, want)
			}

			sum2, _ := e.sync(t, gsync.Options{Formats: tc.formats})
			d := statsDelta(st, e.srv.Stats())
			if d.List.Requests != int64(pages) || d.Get.Requests+d.Export.Requests+d.Download.Requests+d.Create.Requests != 0 {
				t.Errorf("second sync sent %+v; want only %d list requests", d, pages)
			}
			if sum2.New != 0 || sum2.Skipped != files {
				t.Errorf("second summary: %d new, %d skipped; want 0 and %d", sum2.New, sum2.Skipped, files)
			}
		})
	}
}

// TestStatuses: pending and processing assets are recorded and left for
// later; failed ones are shown with their reason; none makes the sync fail.
func TestStatuses(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 7})
	ready := e.addReady(t, 2)
	pend, _ := e.srv.AddAsset("A gripper still pending", "p", nil, api.StatusPending)
	proc, _ := e.srv.AddAsset("A quadruped processing", "q", nil, api.StatusProcessing)
	failed, _ := e.srv.AddAsset("An impossible robot", "f", nil, api.StatusFailed)
	sum, evs := e.sync(t, gsync.Options{Formats: []formats.Format{formats.MuJoCo}})
	if sum.Ready != 2 || sum.Pending != 2 || sum.GenFailed != 1 || sum.New != 2 || !sum.OK() {
		t.Fatalf("summary %+v", sum)
	}
	var reason string
	pending := map[string]bool{}
	for _, ev := range evs {
		switch ev.Type {
		case gsync.EventGenerationFailed:
			if ev.ID == failed.ID {
				reason = ev.Reason
			}
		case gsync.EventPending:
			pending[ev.ID] = true
		}
	}
	if reason == "" || reason == "the server gave no reason" {
		t.Errorf("failed asset shown with reason %q; want the server's reason", reason)
	}
	if !pending[pend.ID] || !pending[proc.ID] {
		t.Errorf("pending events for %v; want %s and %s", pending, pend.ID, proc.ID)
	}
	metas, err := e.cache.Assets()
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, m := range metas {
		status[m.ID] = m.Status
		if m.ID == failed.ID && m.Error == "" {
			t.Errorf("failed asset recorded without its reason")
		}
	}
	for id, want := range map[string]api.Status{pend.ID: api.StatusPending, proc.ID: api.StatusProcessing, failed.ID: api.StatusFailed, ready[0]: api.StatusReady} {
		if status[id] != string(want) {
			t.Errorf("cache records %s as %q; want %q", id, status[id], want)
		}
	}
	// Rerun: the failed asset's reason is known, so no get for it.
	before := e.srv.Stats()
	e.sync(t, gsync.Options{Formats: []formats.Format{formats.MuJoCo}})
	if d := statsDelta(before, e.srv.Stats()); d.Get.Requests != 0 {
		t.Errorf("rerun sent %d get requests; want 0", d.Get.Requests)
	}
}

// TestWait: with Wait, assets generated during the sync are waited for and
// fetched.
func TestWait(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 3, GenDelay: 300 * time.Millisecond})
	a, err := e.client.Create(context.Background(), api.CreateRequest{Prompt: "A two-finger gripper"})
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := e.sync(t, gsync.Options{Wait: true, Formats: []formats.Format{formats.IsaacURDF}})
	if sum.New != 1 || sum.Pending != 0 || !sum.OK() {
		t.Fatalf("summary %+v; want the created asset fetched", sum)
	}
	e.checkCached(t, []string{a.ID}, []formats.Format{formats.IsaacURDF})
}

// TestVanishedAndPrune: an asset gone from the account is marked, kept
// without Prune, removed with it.
func TestVanishedAndPrune(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 5})
	ids := e.addReady(t, 3)
	opts := gsync.Options{Formats: []formats.Format{formats.MuJoCo}}
	e.sync(t, opts)
	if !e.srv.Delete(ids[1]) {
		t.Fatal("delete failed")
	}
	sum, _ := e.sync(t, opts)
	if sum.Vanished != 1 || sum.Pruned != 0 {
		t.Fatalf("summary %+v; want 1 vanished, 0 pruned", sum)
	}
	if _, err := e.cache.Entry(ids[1], string(formats.MuJoCo)); err != nil {
		t.Fatalf("vanished asset removed without --prune: %v", err)
	}
	m, err := e.cache.Asset(ids[1])
	if err != nil || !m.Vanished {
		t.Fatalf("vanished asset not marked: %+v, %v", m, err)
	}
	dry, _ := e.sync(t, gsync.Options{Prune: true, DryRun: true})
	if dry.Pruned != 0 {
		t.Fatalf("dry run pruned %d", dry.Pruned)
	}
	sum, _ = e.sync(t, gsync.Options{Formats: opts.Formats, Prune: true})
	if sum.Pruned != 1 {
		t.Fatalf("summary %+v; want 1 pruned", sum)
	}
	if _, err := e.cache.Entry(ids[1], string(formats.MuJoCo)); err == nil {
		t.Fatal("pruned asset still cached")
	}
	e.checkCached(t, []string{ids[0], ids[2]}, opts.Formats)
}

// TestDryRun: nothing is exported, downloaded or written.
func TestDryRun(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 9})
	e.addReady(t, 4)
	sum, evs := e.sync(t, gsync.Options{DryRun: true})
	st := e.srv.Stats()
	if st.Export.Requests+st.Download.Requests != 0 {
		t.Errorf("dry run sent %d exports and %d downloads", st.Export.Requests, st.Download.Requests)
	}
	if sum.Planned != 4*len(formats.All) || sum.New != 0 {
		t.Errorf("dry run summary %+v; want %d planned", sum, 4*len(formats.All))
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == gsync.EventPlan {
			n++
		}
	}
	if n != sum.Planned {
		t.Errorf("%d would_fetch events; want %d", n, sum.Planned)
	}
	if metas, _ := e.cache.Assets(); len(metas) != 0 {
		t.Errorf("dry run recorded %d assets in the cache", len(metas))
	}

	// A file the index knows but whose copy on disk is gone: the dry run
	// would fetch it again, and knows its size.
	fs := []formats.Format{formats.MuJoCo}
	e.sync(t, gsync.Options{Formats: fs})
	entries, err := e.cache.Entries()
	if err != nil || len(entries) != 4 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
	lost := entries[0]
	if err := os.Remove(e.cache.DownloadPath(lost)); err != nil {
		t.Fatal(err)
	}
	sum, evs = e.sync(t, gsync.Options{Formats: fs, DryRun: true})
	if sum.Planned != 1 || sum.Skipped != 3 || sum.PlannedBytes != lost.Size {
		t.Errorf("dry run over a lost file: %+v; want 1 planned of %d bytes, 3 cached", sum, lost.Size)
	}
	for _, ev := range evs {
		if ev.Type == gsync.EventPlan && (ev.ID != lost.AssetID || ev.Size != lost.Size) {
			t.Errorf("would_fetch %s size %d; want %s size %d", ev.ID, ev.Size, lost.AssetID, lost.Size)
		}
	}
}

// TestFilters: --format and --tag choose what is fetched.
func TestFilters(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 11})
	arms := e.addReady(t, 2, "arm")
	grips := e.addReady(t, 2, "gripper")
	sum, _ := e.sync(t, gsync.Options{Tags: []string{"gripper"}, Formats: []formats.Format{formats.IsaacUSD}})
	if sum.New != 2 {
		t.Fatalf("summary %+v; want 2 new", sum)
	}
	e.checkCached(t, grips, []formats.Format{formats.IsaacUSD})
	for _, id := range arms {
		if _, err := e.cache.Entry(id, string(formats.IsaacUSD)); !errors.Is(err, cache.ErrNotCached) {
			t.Errorf("%s (not tagged gripper) cached: %v", id, err)
		}
	}
	for _, id := range grips {
		if _, err := e.cache.Entry(id, string(formats.MuJoCo)); !errors.Is(err, cache.ErrNotCached) {
			t.Errorf("%s mujoco cached though only usd was asked for: %v", id, err)
		}
	}
}

// TestFaults: with 5xx, 429 bursts, truncated downloads and URLs that expire
// before slow downloads end, the sync converges and every file is
// byte-identical to the emulator's.
func TestFaults(t *testing.T) {
	n := 30
	if testing.Short() {
		n = 12
	}
	// Bodies are 1 to 25 KiB: at 16 KiB/s the larger ones outlive their
	// 1 s URL, which matters when a cut-short body must start over.
	e := newEnv(t, emulator.Config{Seed: 13, URLTTL: time.Second, Slow: 16 << 10,
		ErrorRate: 0.10, RateLimit: 100, TruncateRate: 0.05})
	ids := e.addReady(t, n)
	var sum *gsync.Summary
	var err error
	for round := 1; round <= 3; round++ {
		sum, err = gsync.Run(context.Background(), e.client, e.cache, gsync.Options{Concurrency: 16})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if sum.OK() {
			break
		}
		t.Logf("round %d: %d failed: %v", round, sum.Failed, sum.Failures)
	}
	if !sum.OK() {
		t.Fatalf("sync did not converge in 3 rounds: %v", sum.Failures)
	}
	st := e.srv.Stats()
	t.Logf("stats with faults: %+v", st)
	if st.Download.Errors+st.Export.Errors+st.Get.Errors+st.List.Errors == 0 {
		t.Errorf("no fault was injected (stats %+v): the test proves nothing", st)
	}
	if st.DownloadAuthorization != 0 {
		t.Errorf("%d download requests carried the API key", st.DownloadAuthorization)
	}
	e.checkCached(t, ids, formats.All)
}

// TestExpiredURLMidDownload: a download that outlives its URL gets a fresh
// URL, and the file still arrives whole. Every first download is cut
// short; at the first restart the clock the emulator and the engine share
// moves past the URL's 1 s life, so the restart finds the URL expired.
func TestExpiredURLMidDownload(t *testing.T) {
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	e := newEnv(t, emulator.Config{Seed: 17, URLTTL: time.Second, Slow: 64 << 10, TruncateRate: 0, Now: now})
	ids := e.addReady(t, 2)
	if err := e.srv.SetFaults(emulator.Faults{TruncateRate: 1, Slow: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	var once stdsync.Once
	sum, err := gsync.Run(context.Background(), e.client, e.cache, gsync.Options{
		Formats: []formats.Format{formats.MuJoCo}, Attempts: 20, Now: now,
		OnEvent: func(ev gsync.Event) {
			if ev.Type == gsync.EventRetry {
				once.Do(func() {
					skew.Store(int64(2 * time.Second))
					e.srv.SetFaults(emulator.Faults{Slow: 1 << 20})
				})
			}
		}})
	if err != nil || !sum.OK() {
		t.Fatalf("sync: %v, failures %v", err, sum.Failures)
	}
	st := e.srv.Stats()
	if st.Export.Requests <= int64(len(ids)) {
		t.Errorf("%d export requests for %d files: want fresh URLs after expiry", st.Export.Requests, len(ids))
	}
	e.checkCached(t, ids, []formats.Format{formats.MuJoCo})
}

// TestRefusedURL: a URL the client believes valid but the download host
// refuses (403, here because the server's clock jumped past the expiry) is
// replaced by a fresh export, and the file arrives whole.
func TestRefusedURL(t *testing.T) {
	var skew atomic.Int64
	e := newEnv(t, emulator.Config{Seed: 29, Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	ids := e.addReady(t, 3)
	// Every first download is cut short; on the first retry the server's
	// clock has moved an hour on, so the retried URL is refused.
	if err := e.srv.SetFaults(emulator.Faults{TruncateRate: 1}); err != nil {
		t.Fatal(err)
	}
	var once stdsync.Once
	sum, err := gsync.Run(context.Background(), e.client, e.cache, gsync.Options{
		Formats: []formats.Format{formats.IsaacURDF}, Concurrency: 1,
		OnEvent: func(ev gsync.Event) {
			if ev.Type == gsync.EventRetry {
				once.Do(func() {
					skew.Store(int64(time.Hour))
					e.srv.SetFaults(emulator.Faults{})
				})
			}
		}})
	if err != nil || !sum.OK() {
		t.Fatalf("sync: %v, failures %v", err, sum.Failures)
	}
	st := e.srv.Stats()
	if st.Download.Errors < 1 || st.Export.Requests < int64(len(ids))+1 {
		t.Errorf("stats %+v: want a refused download and a fresh export after it", st)
	}
	e.checkCached(t, ids, []formats.Format{formats.IsaacURDF})
}

// TestServerDown: the sync fails fast with an error and the cache is left
// exactly as it was.
func TestServerDown(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 19})
	e.addReady(t, 2)
	e.sync(t, gsync.Options{Formats: []formats.Format{formats.MuJoCo}})
	before := snapshot(t, e.dir)

	client, err := api.New(api.Options{BaseURL: "http://127.0.0.1:1", APIKey: testKey, MaxAttempts: 3, BaseBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = gsync.Run(context.Background(), client, e.cache, gsync.Options{})
	if err == nil {
		t.Fatal("sync against a dead server succeeded")
	}
	if after := snapshot(t, e.dir); !sameFiles(before, after) {
		t.Errorf("the cache changed:\nbefore %v\nafter  %v", before, after)
	}
}

// snapshot maps every file under dir (but the lock files, which flock
// touches) to its size and modification time.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || filepath.Ext(p) == ".lock" {
			return nil
		}
		m[p] = fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	return m
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCancelAndRerun: a sync cancelled midway keeps what it finished; the
// rerun fetches only the rest.
func TestCancelAndRerun(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 23, Slow: 256 << 10})
	// Enough files that the cancel lands while some are still to fetch
	// (files downloaded before it are still stored).
	ids := e.addReady(t, 48)
	ctx, cancel := context.WithCancel(context.Background())
	var mu stdsync.Mutex
	var finished []string
	_, err := gsync.Run(ctx, e.client, e.cache, gsync.Options{Concurrency: 4, Formats: []formats.Format{formats.MuJoCo}, OnEvent: func(ev gsync.Event) {
		if ev.Type == gsync.EventDone {
			mu.Lock()
			finished = append(finished, ev.ID)
			if len(finished) == 3 {
				cancel()
			}
			mu.Unlock()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled sync returned %v; want context.Canceled", err)
	}
	entries, _ := e.cache.Entries()
	if len(entries) < 3 || len(entries) >= len(ids) {
		t.Fatalf("%d entries after the cancel; want between 3 and %d", len(entries), len(ids)-1)
	}
	if err := e.srv.SetFaults(emulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	// Requests the cancelled run had written to its sockets may reach the
	// server after Run returned: count from when the server is quiet.
	before := e.quietStats()
	sum, _ := e.sync(t, gsync.Options{Formats: []formats.Format{formats.MuJoCo}})
	d := statsDelta(before, e.srv.Stats())
	if want := int64(len(ids) - len(entries)); d.Download.Requests != want || sum.New != int(want) || sum.Skipped != len(entries) {
		t.Errorf("rerun downloaded %d (%d new, %d skipped); want %d new and %d skipped", d.Download.Requests, sum.New, sum.Skipped, want, len(entries))
	}
	// URLs minted for the interrupted downloads are reused, not asked again.
	if d.Export.Requests >= d.Download.Requests && d.Download.Requests > 0 {
		t.Logf("rerun exports %d for %d downloads", d.Export.Requests, d.Download.Requests)
	}
	e.checkCached(t, ids, []formats.Format{formats.MuJoCo})
}

// deletingRemote is the real client with a hook: after the first list page
// it deletes an asset on the emulator, as if it vanished while we listed.
type deletingRemote struct {
	*api.Client
	srv  *emulator.Server
	id   string
	once stdsync.Once
}

func (d *deletingRemote) List(ctx context.Context, limit, offset int) (*api.Page, error) {
	p, err := d.Client.List(ctx, limit, offset)
	d.once.Do(func() { d.srv.Delete(d.id) })
	return p, err
}

// TestListingChanges: an asset vanishing between list pages makes the
// listing incomplete (an asset shifts past the page boundary unseen), so
// nothing is marked vanished or pruned on its account; the next, complete
// listing marks and prunes the deleted asset only.
func TestListingChanges(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 37})
	// Tagged so that a filter on another tag fetches nothing: the test is
	// about the listing, and needs two pages.
	ids := e.addReady(t, 150, "arm")
	opts := gsync.Options{Tags: []string{"gripper"}, Prune: true}
	e.sync(t, opts)         // every asset known to the cache
	e.addReady(t, 1, "arm") // on page 2
	// Delete one on page 1 after it is read: page 2 starts one further on.
	r := &deletingRemote{Client: e.client, srv: e.srv, id: ids[10]}
	sum, err := gsync.Run(context.Background(), r, e.cache, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Complete || sum.Vanished != 0 || sum.Pruned != 0 {
		t.Fatalf("summary %+v: want an incomplete listing, nothing vanished or pruned", sum)
	}
	sum, _ = e.sync(t, opts)
	if !sum.Complete || sum.Vanished != 1 || sum.Pruned != 1 {
		t.Fatalf("summary %+v: want a complete listing with %s vanished and pruned", sum, ids[10])
	}
	metas, err := e.cache.Assets()
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 150 {
		t.Errorf("the cache knows %d assets; want 150", len(metas))
	}
	for _, m := range metas {
		if m.ID == ids[10] || m.Vanished {
			t.Errorf("asset %s (vanished %v) still in the cache", m.ID, m.Vanished)
		}
	}
	if st := e.srv.Stats(); st.Get.Requests+st.Export.Requests+st.Download.Requests != 0 {
		t.Errorf("stats %+v: want no get, export or download (tags are on the list pages)", st)
	}
}

// exportDeletingRemote is the real client with a hook: just before the
// export of one asset, that asset is deleted on the emulator.
type exportDeletingRemote struct {
	*api.Client
	srv *emulator.Server
	id  string
}

func (d *exportDeletingRemote) Export(ctx context.Context, id string, f formats.Format) (*api.Export, error) {
	if id == d.id {
		d.srv.Delete(id)
	}
	return d.Client.Export(ctx, id, f)
}

// TestDeletedMidSync: an asset deleted between the listing and its export is
// skipped, not failed; the others arrive.
func TestDeletedMidSync(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 41})
	ids := e.addReady(t, 3)
	fs := []formats.Format{formats.IsaacURDF}
	r := &exportDeletingRemote{Client: e.client, srv: e.srv, id: ids[1]}
	var skipped string
	sum, err := gsync.Run(context.Background(), r, e.cache, gsync.Options{Formats: fs, OnEvent: func(ev gsync.Event) {
		if ev.Type == gsync.EventSkip && ev.ID == ids[1] {
			skipped = ev.Reason
		}
	}})
	if err != nil || !sum.OK() || sum.New != 2 {
		t.Fatalf("sync: %v, summary %+v; want 2 new and no failure", err, sum)
	}
	if skipped == "" {
		t.Errorf("no skip event for the deleted asset %s", ids[1])
	}
	e.checkCached(t, []string{ids[0], ids[2]}, fs)
}

// TestRecordedURL: a recorded export URL is reused while it lives beyond the
// margin; one expiring within the margin, or refused by the download host,
// is replaced by a fresh export.
func TestRecordedURL(t *testing.T) {
	for _, tc := range []struct {
		name        string
		expiresIn   time.Duration // of the recorded URL, by the client's clock
		tamper      bool          // break the signature: the host answers 403
		wantExports int64
	}{
		{"reused", time.Hour, false, 0},
		{"within the margin", time.Minute, false, 1},
		{"refused", time.Hour, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 43, URLTTL: 2 * time.Hour})
			ids := e.addReady(t, 1)
			f := formats.MuJoCo
			ex, err := e.client.Export(context.Background(), ids[0], f)
			if err != nil {
				t.Fatal(err)
			}
			u := ex.URL
			if tc.tamper {
				u = strings.Replace(u, "sig=", "sig=00", 1)
			}
			if err := e.cache.RecordURL(ids[0], string(f), u, time.Now().Add(tc.expiresIn)); err != nil {
				t.Fatal(err)
			}
			before := e.srv.Stats()
			sum, _ := e.sync(t, gsync.Options{Formats: []formats.Format{f}, URLMargin: 2 * time.Minute})
			d := statsDelta(before, e.srv.Stats())
			if !sum.OK() || sum.New != 1 || d.Export.Requests != tc.wantExports {
				t.Errorf("%d exports (summary %+v); want %d", d.Export.Requests, sum, tc.wantExports)
			}
			e.checkCached(t, ids, []formats.Format{f})
		})
	}
}

// etagRemote is the real client whose downloads report another ETag than
// the emulator's: either a hex string that is no checksum of the body (an
// opaque ETag), or, with corruptOnce, a correct one for a body corrupted in
// transit the first time.
type etagRemote struct {
	*api.Client
	mu          stdsync.Mutex
	downloads   int
	corruptOnce bool
}

func (r *etagRemote) DownloadFrom(ctx context.Context, url string, w io.Writer, from api.Resume, progress func(done, total int64)) (*api.Download, error) {
	r.mu.Lock()
	r.downloads++
	first := r.downloads == 1
	r.mu.Unlock()
	if r.corruptOnce && first {
		// Flip the first byte on its way to w; the ETag stays the server's.
		return r.Client.DownloadFrom(ctx, url, &flipFirst{w: w}, from, progress)
	}
	d, err := r.Client.DownloadFrom(ctx, url, w, from, progress)
	if d != nil && !r.corruptOnce {
		d.ETag = `"` + strings.Repeat("ab", 16) + `"`
	}
	return d, err
}

type flipFirst struct {
	w    io.Writer
	done bool
}

func (f *flipFirst) Write(p []byte) (int, error) {
	if !f.done && len(p) > 0 {
		f.done = true
		q := append([]byte{p[0] ^ 0xff}, p[1:]...)
		return f.w.Write(q)
	}
	return f.w.Write(p)
}

// TestETagVerification: a body corrupted in transit fails its ETag checksum
// and is fetched again; an opaque hex ETag that matches no checksum is
// accepted once the same body has come twice.
func TestETagVerification(t *testing.T) {
	for _, tc := range []struct {
		name          string
		corruptOnce   bool
		wantDownloads int
	}{
		{"corrupt body refetched", true, 2},
		{"opaque ETag accepted", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 47})
			ids := e.addReady(t, 1)
			fs := []formats.Format{formats.MuJoCo}
			r := &etagRemote{Client: e.client, corruptOnce: tc.corruptOnce}
			sum, err := gsync.Run(context.Background(), r, e.cache, gsync.Options{Formats: fs})
			if err != nil || !sum.OK() {
				t.Fatalf("sync: %v %+v", err, sum)
			}
			if r.downloads != tc.wantDownloads {
				t.Errorf("%d downloads; want %d", r.downloads, tc.wantDownloads)
			}
			e.checkCached(t, ids, fs)
		})
	}
}

// TestSyncValidatesWithoutUnpacking: the Validator reads each URDF and MJCF
// through the download shown as its tree, and nothing is unpacked: a sync
// writes one file per download.
func TestSyncValidatesWithoutUnpacking(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 11})
	e.addReady(t, 4)
	var mu stdsync.Mutex
	read := map[string]int{}
	v := func(ctx context.Context, path string, files gsync.Files) gsync.Validation {
		rc, err := files.Open(path)
		if err != nil {
			return gsync.Validation{Errors: 1, Summary: []string{err.Error()}}
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return gsync.Validation{Errors: 1, Summary: []string{err.Error()}}
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s is on disk: the sync unpacked the tree", path)
		}
		mu.Lock()
		read[path] = len(b)
		mu.Unlock()
		return gsync.Validation{Valid: len(b) > 0}
	}
	sum, evs := e.sync(t, gsync.Options{Validator: v})
	if !sum.OK() || sum.New != 12 {
		t.Fatalf("summary %+v", sum)
	}
	validated := 0
	for _, ev := range evs {
		if ev.Type != gsync.EventDone || ev.Format == formats.IsaacUSD {
			continue
		}
		validated++
		if ev.Valid == nil || !*ev.Valid || read[ev.Path] == 0 {
			t.Errorf("%s %s: valid %v, %d bytes read through Files", ev.ID, ev.Format, ev.Valid, read[ev.Path])
		}
	}
	if validated != 8 || len(read) != 8 {
		t.Errorf("%d models validated, %d read by the Validator; want 8 (4 URDF, 4 MJCF)", validated, len(read))
	}
	// Each verdict is in the entry's index record (written with it).
	recorded, _ := e.cache.Entries()
	for _, en := range recorded {
		want := en.Format != string(formats.IsaacUSD)
		if (en.Validation != nil) != want || want && !en.Validation.Valid {
			t.Errorf("%s %s: validation %+v in the index", en.AssetID, en.Format, en.Validation)
		}
	}
	trees, err := os.ReadDir(filepath.Join(e.cache.Root(), "trees"))
	if err != nil || len(trees) != 0 {
		t.Errorf("trees/ holds %d entries after a sync (%v), want none", len(trees), err)
	}
	// A model's tree appears when someone asks for it.
	entries, _ := e.cache.Entries()
	p, err := e.cache.Unpack(context.Background(), entries[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}

// TestSyncReusesConnections: a sync keeps its connections alive instead of
// dialing (a TLS handshake, against the real API) for most requests.
func TestSyncReusesConnections(t *testing.T) {
	srv, err := emulator.New(emulator.Config{Seed: 5, APIKey: testKey, MaxPerAssetRate: emulatortest.MaxPerAssetRate})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := emulatortest.CheckPerAssetRate(srv); err != nil {
			t.Error(err)
		}
	})
	var conns atomic.Int64
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	for i := range 100 {
		if _, err := srv.AddAsset(fmt.Sprintf("a quadruped robot number %d", i), "", nil, api.StatusReady); err != nil {
			t.Fatal(err)
		}
	}
	client, err := api.New(api.Options{BaseURL: ts.URL, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sum, err := gsync.Run(context.Background(), client, c, gsync.Options{})
	if err != nil || !sum.OK() || sum.New != 300 {
		t.Fatalf("sync: %v %+v", err, sum)
	}
	// 701 requests (1 list, 100 get, 300 export, 300 download), at most 17
	// in flight (8 downloads, 8 gets, the listing). Go's transport may dial
	// a few more when a connection is handed back just after a request
	// started dialing; keeping only 2 idle connections per host dialed 51
	// times for a third of these requests.
	if n := conns.Load(); n > 4*gsync.DefaultConcurrency {
		t.Errorf("%d connections for 701 requests: connections are not reused", n)
	}
}

// quietStats returns the server's stats once they have not changed for
// 100 ms: requests an interrupted client wrote to its sockets before it
// stopped may reach the server after it has.
func (e *env) quietStats() emulator.Stats {
	before := e.srv.Stats()
	for quiet := 0; quiet < 5; {
		time.Sleep(20 * time.Millisecond)
		if now := e.srv.Stats(); reflect.DeepEqual(now, before) {
			quiet++
		} else {
			before, quiet = now, 0
		}
	}
	return before
}

// slotRemote is the real client that records how many export requests and
// downloads are in flight at once, and holds the first download until
// want export requests have been answered (or 5 s passed).
type slotRemote struct {
	*api.Client
	want               int // export requests to wait for
	mu                 stdsync.Mutex
	exports, downloads int // in flight
	maxExp, maxDown    int
	exported           int // export requests answered
	firstDown          bool
	overlapped         bool // want were answered while the first download was held
}

func (r *slotRemote) Export(ctx context.Context, id string, f formats.Format) (*api.Export, error) {
	r.mu.Lock()
	r.exports++
	r.maxExp = max(r.maxExp, r.exports)
	r.mu.Unlock()
	ex, err := r.Client.Export(ctx, id, f)
	r.mu.Lock()
	r.exports--
	r.exported++
	r.mu.Unlock()
	return ex, err
}

func (r *slotRemote) DownloadFrom(ctx context.Context, url string, w io.Writer, from api.Resume, progress func(done, total int64)) (*api.Download, error) {
	r.mu.Lock()
	r.downloads++
	r.maxDown = max(r.maxDown, r.downloads)
	first := !r.firstDown
	r.firstDown = true
	r.mu.Unlock()
	if first {
		for t0 := time.Now(); time.Since(t0) < 5*time.Second; time.Sleep(time.Millisecond) {
			r.mu.Lock()
			all := r.exported >= r.want
			r.overlapped = all
			r.mu.Unlock()
			if all {
				break
			}
		}
	}
	d, err := r.Client.DownloadFrom(ctx, url, w, from, progress)
	r.mu.Lock()
	r.downloads--
	r.mu.Unlock()
	return d, err
}

// TestExportsBesideDownloads: a file's export request does not wait for a
// download slot, so the next URL is on hand while a download runs; export
// requests and downloads are each bounded by Concurrency.
func TestExportsBesideDownloads(t *testing.T) {
	for _, conc := range []int{1, 3} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			e := newEnv(t, emulator.Config{Seed: 53})
			ids := e.addReady(t, 6)
			// Two: the first download's own, and another file's.
			r := &slotRemote{Client: e.client, want: 2}
			sum, err := gsync.Run(context.Background(), r, e.cache, gsync.Options{Concurrency: conc})
			if err != nil || !sum.OK() || sum.New != 18 {
				t.Fatalf("sync: %v %+v", err, sum)
			}
			if !r.overlapped {
				t.Errorf("no other file's export request was answered while the first download was held: exports wait for download slots")
			}
			if r.maxExp > conc || r.maxDown > conc {
				t.Errorf("in flight at most %d exports and %d downloads; want at most %d of each", r.maxExp, r.maxDown, conc)
			}
			e.checkCached(t, ids, nil)
		})
	}
}

// lockWaitStore is the real cache, except that the store of one file
// (first) waits, as if on its key's lock, until every other file is
// stored (or 5 s passed): the files that hold a download slot are the ones
// downloading.
type lockWaitStore struct {
	*cache.Cache
	first  string // id NUL format of the waiting file
	others int    // files to wait for
	mu     stdsync.Mutex
	stored int
	waited bool // the others were stored while first waited
}

func (s *lockWaitStore) StoreChecked(ctx context.Context, id, format string, fetch cache.FetchFunc, check cache.Check) (cache.Entry, error) {
	if id+"\x00"+format == s.first {
		cache.NotifyLockWait(ctx) // as the cache does before it waits for a key's lock
		for t0 := time.Now(); time.Since(t0) < 5*time.Second; time.Sleep(time.Millisecond) {
			s.mu.Lock()
			s.waited = s.stored >= s.others
			s.mu.Unlock()
			if s.waited {
				break
			}
		}
		return s.Cache.StoreChecked(ctx, id, format, fetch, check)
	}
	e, err := s.Cache.StoreChecked(ctx, id, format, fetch, check)
	s.mu.Lock()
	s.stored++
	s.mu.Unlock()
	return e, err
}

// TestLockWaitHoldsNoSlot: a file whose store waits (on its key's lock,
// say, announced with cache.NotifyLockWait) before its download starts
// gives its download slot back, so the other
// files download meanwhile, even at concurrency 1.
func TestLockWaitHoldsNoSlot(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 59})
	ids := e.addReady(t, 3)
	// The first file queued, whichever that is: the one the sync
	// planned first (assets in listing order, formats in the asset's).
	a, err := e.client.Get(context.Background(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	s := &lockWaitStore{Cache: e.cache, first: ids[0] + "\x00" + string(a.Formats[0]), others: 3*len(ids) - 1}
	sum, err := gsync.Run(context.Background(), e.client, s, gsync.Options{Concurrency: 1})
	if err != nil || !sum.OK() || sum.New != 3*len(ids) {
		t.Fatalf("sync: %v %+v", err, sum)
	}
	if !s.waited {
		t.Errorf("the other files were not stored while one file's store waited before its download: it held the only download slot")
	}
	e.checkCached(t, ids, nil)
}

// TestStartMeansDownloading: a file's EventStart comes once it holds a
// download slot, so that the files started and not yet received (what the
// terminal display shows as active downloads) never outnumber
// Concurrency, although many more are in flight (exporting, waiting for a
// slot, being stored).
func TestStartMeansDownloading(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 61})
	ids := e.addReady(t, 12)
	const conc = 2
	var mu stdsync.Mutex
	receiving := map[string]bool{}
	most, starts := 0, 0
	sum, err := gsync.Run(context.Background(), e.client, e.cache, gsync.Options{Concurrency: conc,
		OnEvent: func(ev gsync.Event) {
			mu.Lock()
			defer mu.Unlock()
			key := ev.ID + " " + string(ev.Format)
			switch ev.Type {
			case gsync.EventStart:
				starts++
				receiving[key] = true
			case gsync.EventProgress:
				if ev.Size > 0 && ev.Bytes >= ev.Size {
					delete(receiving, key)
				}
			case gsync.EventDone, gsync.EventFail, gsync.EventRetry:
				delete(receiving, key)
			}
			most = max(most, len(receiving))
		}})
	if err != nil || !sum.OK() || sum.New != 3*len(ids) {
		t.Fatalf("sync: %v %+v", err, sum)
	}
	if starts != 3*len(ids) {
		t.Errorf("%d start events for %d files", starts, 3*len(ids))
	}
	if most > conc {
		t.Errorf("%d files started and still receiving at once; want at most Concurrency (%d)", most, conc)
	}
}

// TestWaitBounded: --wait waits for an asset that never settles at most
// MaxWait, polling with backoff (a handful of gets, not a tight loop), then
// reports it pending; the rest of the run is not held.
func TestWaitBounded(t *testing.T) {
	e := newEnv(t, emulator.Config{Seed: 9})
	e.addReady(t, 1)
	stuck, _ := e.srv.AddAsset("A gripper pending for good", "s", nil, api.StatusPending)
	start := time.Now()
	sum, evs := e.sync(t, gsync.Options{Formats: []formats.Format{formats.MuJoCo}, Wait: true, MaxWait: 300 * time.Millisecond})
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the wait took %v, bounded by 300ms", d)
	}
	if sum.New != 1 || sum.Pending != 1 {
		t.Errorf("summary %+v, want 1 new and 1 pending", sum)
	}
	var reason string
	for _, ev := range evs {
		if ev.Type == gsync.EventPending && ev.ID == stuck.ID {
			reason = ev.Reason
		}
	}
	if reason != "still not ready when waiting stopped" {
		t.Errorf("pending reason %q", reason)
	}
	// Polls from 20 ms growing to 50 ms, for 300 ms: at most about a dozen.
	if n := e.srv.Stats().PerAsset.Assets[stuck.ID]["get"].Requests; n < 2 || n > 20 {
		t.Errorf("%d gets of the stuck asset while waiting 300ms", n)
	}
}
