package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	stdsync "sync"

	"golang.org/x/sync/errgroup"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
)

// mirror is the state of one Run: the account's listing planned against
// the cache's index (read once), and what get and wait taught. The files
// it plans go to its fetcher.
type mirror struct {
	*tally
	remote Remote
	store  Store
	opts   Options
	fetch  *fetcher

	cached map[string]cache.Entry // id NUL format → entry, read once

	metaMu  stdsync.Mutex
	updated []cache.AssetMeta // metadata learnt from get/wait, recorded in one batch
	queued  int               // files sent to the download workers
}

// job is one file to fetch, or, with recheck, a stored file to validate
// again (no download).
type job struct {
	id      string
	name    string
	format  formats.Format
	recheck *cache.Entry
}

// Run mirrors the account behind remote into store, as opts say. It returns
// the summary and an error only for what stops the whole run: the listing
// failing before its first page (the server is down or refuses the key), a
// cache that cannot be written, or ctx ending. Files that fail are listed in
// Summary.Failures; the run goes on without them.
func Run(ctx context.Context, remote Remote, store Store, opts Options) (*Summary, error) {
	opts = opts.withDefaults()
	t := newTally(opts)
	m := &mirror{tally: t, remote: remote, store: store, opts: opts, fetch: newFetcher(remote, store, opts, t)}
	start := opts.Now()
	return t.finish(ctx, start, m.run(ctx))
}

func (m *mirror) run(ctx context.Context) error {
	listed, complete, pages, listErr := m.list(ctx)
	if listErr != nil && pages == 0 {
		return listErr
	}
	if listErr != nil {
		m.fail("", "", fmt.Sprintf("%v (listing stopped early: assets after it were not synced; run gizmo sync again)", listErr))
	}
	assetCount := len(listed)
	scenes, scenesComplete := m.listScenes(ctx)
	listed = append(listed, scenes...)
	knownList, err := m.store.Assets()
	if err != nil {
		return fmt.Errorf("read the cache index: %w", err)
	}
	known := make(map[string]cache.AssetMeta, len(knownList))
	for _, a := range knownList {
		known[a.ID] = a
	}
	entries, err := m.store.Entries()
	if err != nil {
		return fmt.Errorf("read the cache index: %w", err)
	}
	m.cached = make(map[string]cache.Entry, len(entries))
	for _, e := range entries {
		m.cached[e.AssetID+"\x00"+e.Format] = e
	}
	urls, err := m.store.URLs()
	if err != nil {
		return fmt.Errorf("read the cache index: %w", err)
	}
	m.fetch.urls = make(map[string]cache.RecordedURL, len(urls))
	for _, u := range urls {
		m.fetch.urls[u.AssetID+"\x00"+u.Format] = u
	}

	inList := make(map[string]bool, len(listed))
	records := make([]record, 0, len(listed))
	metas := make([]cache.AssetMeta, 0, len(listed))
	for _, a := range listed {
		inList[a.ID] = true
		prev, ok := known[a.ID]
		rec := mergeRecord(a, prev, ok)
		if editedScene(rec, prev, ok) {
			// Edited since its exports were cached: fetch them again.
			for k := range m.cached {
				if m.cached[k].AssetID == a.ID {
					delete(m.cached, k)
				}
			}
		}
		records = append(records, rec)
		metas = append(metas, rec.meta)
	}
	m.count(func(s *Summary) { s.Seen = assetCount; s.Complete = complete })
	m.emit(Event{Type: EventListed, Count: len(listed), Complete: complete})

	// Scenes not listed whole this time are not taken as gone: they are kept
	// out of the vanished ones, and the cache is not told the listing is
	// complete when it knows scenes (it would mark them vanished).
	if !scenesComplete {
		for _, a := range knownList {
			if a.Scene {
				inList[a.ID] = true
			}
		}
	}
	if !m.opts.DryRun {
		if err := m.store.RecordAssets(metas, complete && (scenesComplete || !knowsScenes(knownList))); err != nil {
			return fmt.Errorf("record asset metadata in the cache: %w", err)
		}
	}
	if complete {
		m.vanished(ctx, knownList, inList)
	}

	q := newQueue()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer q.close()
		return m.resolve(gctx, records, known, q)
	})
	for range m.opts.Concurrency * publishFactor {
		g.Go(func() error {
			for {
				j, ok := q.pop(gctx)
				if !ok {
					return gctx.Err()
				}
				if j.recheck != nil {
					m.fetch.recheck(gctx, j)
					continue
				}
				if err := m.fetch.fetch(gctx, j); err != nil {
					return err
				}
			}
		})
	}
	err = g.Wait()
	if !m.opts.DryRun {
		// Record what get and wait taught, even after an interruption, so
		// that the next run does not ask again.
		m.metaMu.Lock()
		upd := m.updated
		m.metaMu.Unlock()
		if len(upd) > 0 {
			if rerr := m.store.RecordAssets(upd, false); rerr != nil && err == nil {
				err = fmt.Errorf("record asset metadata in the cache: %w", rerr)
			}
		}
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}

// list reads every page (see List).
func (m *mirror) list(ctx context.Context) (assets []api.Asset, complete bool, pages int, err error) {
	l, err := List(ctx, m.remote)
	return l.Assets, l.Complete, l.Pages, err
}

// knowsScenes tells whether the cache knows a scene.
func knowsScenes(known []cache.AssetMeta) bool {
	for _, a := range known {
		if a.Scene {
			return true
		}
	}
	return false
}

// vanished reports the assets the cache knows that the (complete) listing
// did not show, and removes them with Prune (one removed meanwhile by
// another process is fine; one that cannot be removed is a failure).
func (m *mirror) vanished(ctx context.Context, known []cache.AssetMeta, inList map[string]bool) {
	for _, a := range known {
		if inList[a.ID] {
			continue
		}
		m.count(func(s *Summary) { s.Vanished++ })
		m.emit(Event{Type: EventVanished, ID: a.ID, Name: a.Name})
		if !m.opts.Prune || m.opts.DryRun {
			continue
		}
		if err := m.store.Remove(ctx, a.ID); err != nil && !errors.Is(err, cache.ErrNotFound) {
			m.fail(a.ID, "", fmt.Sprintf("prune from the cache: %v", err))
			continue
		}
		m.count(func(s *Summary) { s.Pruned++ })
		m.emit(Event{Type: EventPruned, ID: a.ID, Name: a.Name})
	}
}

// ReasonCached is the Reason of an EventSkip for a file already cached.
const ReasonCached = "already cached"

// The Reasons of an EventPlan: why a dry run would fetch a file. A stored
// file is never fetched again for a changed ETag (a listing carries none),
// so these are the only two.
const (
	// ReasonNew: the cache has no such file (a new asset, one ready since
	// the last sync, a format not fetched before).
	ReasonNew = "new"
	// ReasonMissing: the index has the file, but its download is gone
	// from the cache or not whole; Size is the size it had.
	ReasonMissing = "missing file"
)

const pendingReason = "not ready yet: the next gizmo sync (or gizmo sync --wait) picks it up"

// resolve decides, asset by asset, which files to fetch and queues them. It
// asks the server for an asset only when the cache does not know it as ready
// with its formats (or, with Tags, does not know its tags), when a failed
// asset's reason is unknown, or when waiting for it.
func (m *mirror) resolve(ctx context.Context, records []record, known map[string]cache.AssetMeta, q *queue) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for _, rec := range records {
		if gctx.Err() != nil {
			break
		}
		prev, wasKnown := known[rec.ID]
		switch rec.Status {
		case api.StatusReady:
			m.count(func(s *Summary) { s.Ready++ })
			if m.excluded(rec) {
				continue // filtered out by its known tags: no need to ask for more
			}
			needGet := len(rec.Formats) == 0 || !rec.listFormats && (!wasKnown || prev.Status != string(api.StatusReady))
			if m.tagsUnknown(rec) {
				needGet = true // the tags may be on the asset, not the list page
			}
			if !needGet {
				m.plan(rec, q)
				continue
			}
			g.Go(func() error {
				a, err := m.remote.Get(gctx, rec.ID)
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					if errors.Is(err, api.ErrNotFound) {
						m.goneMidway(rec.ID, "", rec.Name)
						return nil
					}
					m.fail(rec.ID, "", fmt.Sprintf("get asset: %v", err))
					return nil
				}
				m.settled(*a, prev, wasKnown, q, false)
				return nil
			})
		default:
			if m.excluded(rec) {
				continue // left out by its known tags: not reported
			}
			if m.tagsUnknown(rec) || m.unreadyAsks(rec, prev, wasKnown) {
				g.Go(func() error { return m.unready(gctx, rec, prev, wasKnown, q) })
				continue
			}
			m.unready(gctx, rec, prev, wasKnown, q) // answered without a request
		}
	}
	return g.Wait()
}

// unreadyAsks tells whether unready needs a request for an asset that is
// not ready, its tags aside: to wait for it, or to learn why it failed.
func (m *mirror) unreadyAsks(rec record, prev cache.AssetMeta, wasKnown bool) bool {
	switch rec.Status {
	case api.StatusPending, api.StatusProcessing:
		return m.opts.Wait
	case api.StatusFailed:
		return !knownFailure(rec, prev, wasKnown)
	}
	return false
}

// knownFailure: the failure's reason is known, from the list page or the
// cache (which asked for it when the asset failed).
func knownFailure(rec record, prev cache.AssetMeta, wasKnown bool) bool {
	return rec.Error != "" || (wasKnown && prev.Status == string(api.StatusFailed))
}

// unready reports an asset the listing shows as not ready: pending or
// processing (waited for with Wait), failed (with its reason, asked for
// when unknown), or of an unknown status. With Tags and no tags known for
// it, it first asks for the asset: one that does not carry the tags is not
// reported.
func (m *mirror) unready(ctx context.Context, rec record, prev cache.AssetMeta, wasKnown bool, q *queue) error {
	asked := false
	if m.tagsUnknown(rec) {
		// The tags may be on the asset, not the list page.
		a, err := m.remote.Get(ctx, rec.ID)
		switch {
		case err == nil:
			rec, asked = mergeRecord(*a, prev, wasKnown), true
			m.learnt(rec.meta)
			if !m.selected(rec) {
				return nil
			}
			if rec.Status == api.StatusReady { // ready since the listing
				m.count(func(s *Summary) { s.Ready++ })
				m.plan(rec, q)
				return nil
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, api.ErrNotFound):
			m.goneMidway(rec.ID, "", rec.Name)
			return nil
		}
		// Another failure: the asset is reported as listed.
	}
	switch rec.Status {
	case api.StatusPending, api.StatusProcessing:
		if !m.opts.Wait {
			m.count(func(s *Summary) { s.Pending++ })
			m.emit(Event{Type: EventPending, ID: rec.ID, Name: rec.Name, Status: rec.Status, Reason: pendingReason})
			return nil
		}
		wctx, cancel := context.WithTimeout(ctx, m.opts.MaxWait)
		a, err := m.remote.WaitReady(wctx, rec.ID, nil)
		cancel()
		if a == nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m.fail(rec.ID, "", fmt.Sprintf("wait for generation: %v", err))
			return nil
		}
		if a.Status == api.StatusReady {
			m.count(func(s *Summary) { s.Ready++ })
		}
		m.settled(*a, prev, wasKnown, q, true)
	case api.StatusFailed:
		if asked || knownFailure(rec, prev, wasKnown) {
			m.genFailed(rec)
			return nil
		}
		// The list page may not carry the reason; the asset does.
		a, err := m.remote.Get(ctx, rec.ID)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m.genFailed(rec)
			return nil
		}
		m.settled(*a, prev, wasKnown, q, false)
	default:
		m.unknownStatus(rec)
	}
	return nil
}

// excluded tells whether Tags leave the asset out by the tags known for it.
func (m *mirror) excluded(rec record) bool {
	return len(m.opts.Tags) > 0 && len(rec.Tags) > 0 && !HasAnyTag(rec.Tags, m.opts.Tags)
}

// tagsUnknown tells whether Tags are set and no tag is known for the asset
// (a list page may carry none: the asset may).
func (m *mirror) tagsUnknown(rec record) bool {
	return len(m.opts.Tags) > 0 && len(rec.Tags) == 0
}

// selected tells whether Tags select the asset, by the tags it carries.
func (m *mirror) selected(rec record) bool {
	return len(m.opts.Tags) == 0 || HasAnyTag(rec.Tags, m.opts.Tags)
}

// learnt keeps an asset's metadata read from the server, for the index.
func (m *mirror) learnt(meta cache.AssetMeta) {
	m.metaMu.Lock()
	m.updated = append(m.updated, meta)
	m.metaMu.Unlock()
}

// settled handles an asset read from the server (get or wait): keeps what it
// says for the index and plans its files when it is ready. An asset the
// Tags do not select is not reported.
func (m *mirror) settled(a api.Asset, prev cache.AssetMeta, wasKnown bool, q *queue, waited bool) {
	rec := mergeRecord(a, prev, wasKnown)
	m.learnt(rec.meta)
	if !m.selected(rec) {
		return
	}
	switch rec.Status {
	case api.StatusReady:
		m.plan(rec, q)
	case api.StatusFailed:
		m.genFailed(rec)
	case api.StatusPending, api.StatusProcessing:
		m.count(func(s *Summary) { s.Pending++ })
		reason := pendingReason
		if waited {
			reason = "still not ready when waiting stopped"
		}
		m.emit(Event{Type: EventPending, ID: rec.ID, Name: rec.Name, Status: rec.Status, Reason: reason})
	default:
		m.unknownStatus(rec)
	}
}

func (m *mirror) genFailed(rec record) {
	m.count(func(s *Summary) { s.GenFailed++ })
	reason := rec.Error
	if reason == "" {
		reason = "the server gave no reason"
	}
	m.emit(Event{Type: EventGenerationFailed, ID: rec.ID, Name: rec.Name, Status: rec.Status, Reason: reason})
}

func (m *mirror) unknownStatus(rec record) {
	m.emit(Event{Type: EventUnknownStatus, ID: rec.ID, Name: rec.Name, Status: rec.Status,
		Reason: "status unknown to this version of gizmo: recorded, not fetched"})
}

// plan queues the files of a ready asset that the cache lacks.
func (m *mirror) plan(rec record, q *queue) {
	if !m.selected(rec) {
		return
	}
	var want []formats.Format
	if len(m.opts.Formats) == 0 {
		// By default the formats gizmo checks and places; the others
		// (gazebo_sdf, or one a newer server lists) get one note in the
		// summary, and are mirrored when Formats names them.
		for _, f := range rec.Formats {
			if f.Known() {
				want = append(want, f)
				continue
			}
			m.count(func(s *Summary) {
				s.UnknownFormat++
				if !slices.Contains(s.UnknownFormats, f) {
					s.UnknownFormats = append(s.UnknownFormats, f)
				}
			})
		}
	} else {
		for _, f := range m.opts.Formats {
			if slices.Contains(rec.Formats, f) {
				want = append(want, f)
				continue
			}
			m.count(func(s *Summary) { s.NotOffered++ })
			m.emit(Event{Type: EventSkip, ID: rec.ID, Name: rec.Name, Format: f, Reason: "the asset does not offer this format"})
		}
	}
	for _, f := range want {
		e, indexed := m.cached[rec.ID+"\x00"+string(f)]
		if indexed && m.fetch.present(e) {
			m.count(func(s *Summary) { s.Skipped++ })
			m.emit(Event{Type: EventSkip, ID: rec.ID, Name: rec.Name, Format: f, Size: e.Size, Reason: ReasonCached})
			if m.fetch.needsVerdict(e) && !m.opts.DryRun {
				q.push(job{id: rec.ID, name: rec.Name, format: f, recheck: &e})
			}
			continue
		}
		if m.opts.DryRun {
			// The size is known when the index has the file but its copy
			// on disk is gone; otherwise only the download will tell.
			reason := ReasonNew
			if indexed {
				reason = ReasonMissing
			}
			m.count(func(s *Summary) { s.Planned++; s.PlannedBytes += e.Size })
			m.emit(Event{Type: EventPlan, ID: rec.ID, Name: rec.Name, Format: f, Size: e.Size, Reason: reason})
			continue
		}
		m.metaMu.Lock()
		m.queued++
		n := m.queued
		m.metaMu.Unlock()
		q.push(job{id: rec.ID, name: rec.Name, format: f})
		m.emit(Event{Type: EventQueued, ID: rec.ID, Name: rec.Name, Format: f, Count: n})
	}
}
