package sync

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	stdsync "sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/internal/backoff"
	"github.com/antimlabs/gizmo/internal/plural"
	"github.com/antimlabs/gizmo/sync/api"
)

// PageSize is the list page size the engine asks for: the API's maximum.
const PageSize = 100

// Defaults for Options.
const (
	DefaultConcurrency = 8
	DefaultURLMargin   = 2 * time.Minute
	DefaultAttempts    = 8
	// DefaultMaxWait bounds Options.Wait's wait for one asset.
	DefaultMaxWait = 30 * time.Minute
)

// Options says what Run syncs and how.
type Options struct {
	// Formats are the wanted formats; empty means every format an asset offers.
	Formats []formats.Format
	// Tags, when set, limit fetching to assets carrying at least one of them.
	// Every listed asset is still recorded.
	Tags []string
	// Concurrency bounds the downloads (and, separately, the metadata
	// requests, and the export requests) in flight. 0 means
	// DefaultConcurrency. Files whose
	// download is over and that are being verified, stored and validated
	// do not count: up to publishFactor times as many run meanwhile, so
	// that the disk's flushes overlap the next downloads.
	Concurrency int
	// Wait polls pending and processing assets until they settle and fetches
	// those that become ready, waiting at most MaxWait for each (0 means
	// DefaultMaxWait).
	Wait    bool
	MaxWait time.Duration
	// Prune removes vanished assets from the cache (after a complete listing).
	Prune bool
	// DryRun reports what would be fetched and changes nothing: no export, no
	// download, no write to the cache.
	DryRun bool
	// URLMargin is how long before its expiry a recorded export URL stops
	// being reused (clock skew plus download time). 0 means DefaultURLMargin.
	URLMargin time.Duration
	// Attempts bounds the tries per file (fresh URL after a 403, restart
	// after a cut-short download or a failed verification). 0 means
	// DefaultAttempts.
	Attempts int
	// Validator, when set, checks every stored URDF and MJCF model; the
	// outcome is recorded in the cache.
	Validator Validator
	// OnEvent receives every event, one at a time. May be nil.
	OnEvent func(Event)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// run is the state of one Run.
type run struct {
	remote Remote
	store  Store
	opts   Options
	now    func() time.Time

	// The per-file fetch uses only these: Run sets them to remote and
	// store, Fetch to what it is given.
	fremote FileRemote
	fstore  FileStore

	mu  stdsync.Mutex // guards sum and serializes OnEvent
	sum Summary

	cached map[string]cache.Entry // id NUL format → entry, read once
	// urls holds the recorded export URLs (id NUL format → URL), read once
	// with the entries; nil when fetching without planning (Fetch), which
	// reads the one it needs.
	urls map[string]cache.RecordedURL

	// net holds a slot per download in flight: Concurrency of them. A
	// file takes its slot once the cache is ready for the body (the key's
	// lock held, the temp file open) and gives it back when its body is
	// in, before the cache verifies and stores it. api holds one per
	// export request in flight, Concurrency of them too: a file asks for
	// its URL before it takes a download slot, so downloads follow one
	// another without waiting on an export request each.
	net, api chan struct{}

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
	r := newRun(remote, store, opts)
	r.remote, r.store = remote, store
	start := r.now()
	return r.finish(ctx, start, r.run(ctx))
}

// Item is one file for Fetch: an asset (its name is for events and
// messages) in a format.
type Item struct {
	ID     string
	Name   string
	Format formats.Format
}

// Fetch gets the given files into store the way Run gets each file: a
// recorded export URL while it is usable (else a fresh one), the ETag
// check, cut-short bodies restarted within Options.Attempts, and, with a
// Validator, the verdict recorded. It lists nothing and asks for no asset:
// the caller has decided what the cache lacks (a file already stored costs
// an export and no download). Of Options it uses Concurrency, URLMargin,
// Attempts, Validator, OnEvent, Now and DryRun (which plans the files and
// fetches none). Files that fail are listed in Summary.Failures; an asset
// deleted from the account meanwhile is an EventSkip. The error is ctx's.
func Fetch(ctx context.Context, remote FileRemote, store FileStore, items []Item, opts Options) (*Summary, error) {
	r := newRun(remote, store, opts)
	start := r.now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.Concurrency * publishFactor)
	for i, it := range items {
		if r.opts.DryRun {
			r.count(func(s *Summary) { s.Planned++ })
			r.emit(Event{Type: EventPlan, ID: it.ID, Name: it.Name, Format: it.Format})
			continue
		}
		if gctx.Err() != nil {
			break
		}
		r.emit(Event{Type: EventQueued, ID: it.ID, Name: it.Name, Format: it.Format, Count: i + 1})
		g.Go(func() error {
			return r.fetch(gctx, job{id: it.ID, name: it.Name, format: it.Format})
		})
	}
	err := g.Wait()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return r.finish(ctx, start, err)
}

// newRun applies the defaults of opts.
func newRun(remote FileRemote, store FileStore, opts Options) *run {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.URLMargin <= 0 {
		opts.URLMargin = DefaultURLMargin
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	r := &run{fremote: remote, fstore: store, opts: opts, now: opts.Now,
		net: make(chan struct{}, opts.Concurrency), api: make(chan struct{}, opts.Concurrency)}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// finish completes the summary of a run that started at start and ended
// with err, and reports it.
func (r *run) finish(ctx context.Context, start time.Time, err error) (*Summary, error) {
	r.mu.Lock()
	r.sum.Duration = r.now().Sub(start)
	sum := r.sum
	sum.Failures = slices.Clone(r.sum.Failures)
	r.mu.Unlock()
	slices.SortFunc(sum.Failures, func(a, b Failure) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(string(a.Format), string(b.Format)))
	})
	if err == nil || ctx.Err() != nil {
		// Interrupted runs say what they finished too.
		r.emit(Event{Type: EventSummary, Summary: &sum})
	}
	return &sum, err
}

func (r *run) run(ctx context.Context) error {
	listed, complete, pages, listErr := r.list(ctx)
	if listErr != nil && pages == 0 {
		return listErr
	}
	if listErr != nil {
		r.fail("", "", fmt.Sprintf("%v (listing stopped early: assets after it were not synced; run gizmo sync again)", listErr))
	}
	knownList, err := r.store.Assets()
	if err != nil {
		return fmt.Errorf("read the cache index: %w", err)
	}
	known := make(map[string]cache.AssetMeta, len(knownList))
	for _, m := range knownList {
		known[m.ID] = m
	}
	entries, err := r.store.Entries()
	if err != nil {
		return fmt.Errorf("read the cache index: %w", err)
	}
	r.cached = make(map[string]cache.Entry, len(entries))
	for _, e := range entries {
		r.cached[e.AssetID+"\x00"+e.Format] = e
	}
	urls, err := r.store.URLs()
	if err != nil {
		return fmt.Errorf("read the cache index: %w", err)
	}
	r.urls = make(map[string]cache.RecordedURL, len(urls))
	for _, u := range urls {
		r.urls[u.AssetID+"\x00"+u.Format] = u
	}

	inList := make(map[string]bool, len(listed))
	records := make([]record, 0, len(listed))
	metas := make([]cache.AssetMeta, 0, len(listed))
	for _, a := range listed {
		inList[a.ID] = true
		prev, ok := known[a.ID]
		rec := mergeRecord(a, prev, ok)
		records = append(records, rec)
		metas = append(metas, rec.meta)
	}
	r.count(func(s *Summary) { s.Seen = len(listed); s.Complete = complete })
	r.emit(Event{Type: EventListed, Count: len(listed), Complete: complete})

	if !r.opts.DryRun {
		if err := r.store.RecordAssets(metas, complete); err != nil {
			return fmt.Errorf("record asset metadata in the cache: %w", err)
		}
	}
	if complete {
		r.vanished(knownList, inList)
	}

	q := newQueue()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer q.close()
		return r.resolve(gctx, records, known, q)
	})
	for range r.opts.Concurrency * publishFactor {
		g.Go(func() error {
			for {
				j, ok := q.pop(gctx)
				if !ok {
					return gctx.Err()
				}
				if j.recheck != nil {
					r.recheck(gctx, j)
					continue
				}
				if err := r.fetch(gctx, j); err != nil {
					return err
				}
			}
		})
	}
	err = g.Wait()
	if !r.opts.DryRun {
		// Record what get and wait taught, even after an interruption, so
		// that the next run does not ask again.
		r.metaMu.Lock()
		upd := r.updated
		r.metaMu.Unlock()
		if len(upd) > 0 {
			if rerr := r.store.RecordAssets(upd, false); rerr != nil && err == nil {
				err = fmt.Errorf("record asset metadata in the cache: %w", rerr)
			}
		}
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}

// list reads every page. complete is true when every page answered with
// the same total and the distinct assets add up to it: only then may assets
// missing from the listing be taken as gone. pages counts the pages read.
func (r *run) list(ctx context.Context) (assets []api.Asset, complete bool, pages int, err error) {
	seen := make(map[string]bool)
	total, stable := -1, true
	offset := 0
	var bound api.ListBound // a server that keeps the list going is stopped
	for {
		p, err := r.remote.List(ctx, PageSize, offset)
		if err != nil {
			return assets, false, pages, err // the client names the page
		}
		pages++
		if err := bound.Page(p, unseen(p.Assets, seen), PageSize); err != nil {
			return assets, false, pages, err
		}
		if total >= 0 && p.Total != total {
			stable = false
		}
		total = p.Total
		if len(p.Assets) == 0 {
			break
		}
		for _, a := range p.Assets {
			if a.ID == "" || seen[a.ID] {
				continue
			}
			seen[a.ID] = true
			assets = append(assets, a)
		}
		offset += len(p.Assets)
		if offset >= p.Total {
			break
		}
	}
	return assets, stable && len(assets) == total, pages, nil
}

// unseen counts the assets whose ids are not in seen.
func unseen(assets []api.Asset, seen map[string]bool) int {
	n := 0
	for _, a := range assets {
		if !seen[a.ID] {
			n++
		}
	}
	return n
}

// vanished reports the assets the cache knows that the (complete) listing
// did not show, and removes them with Prune (one removed meanwhile by
// another process is fine; one that cannot be removed is a failure).
func (r *run) vanished(known []cache.AssetMeta, inList map[string]bool) {
	for _, m := range known {
		if inList[m.ID] {
			continue
		}
		r.count(func(s *Summary) { s.Vanished++ })
		r.emit(Event{Type: EventVanished, ID: m.ID, Name: m.Name})
		if !r.opts.Prune || r.opts.DryRun {
			continue
		}
		if err := r.store.Remove(m.ID); err != nil && !errors.Is(err, cache.ErrNotFound) {
			r.fail(m.ID, "", fmt.Sprintf("prune from the cache: %v", err))
			continue
		}
		r.count(func(s *Summary) { s.Pruned++ })
		r.emit(Event{Type: EventPruned, ID: m.ID, Name: m.Name})
	}
}

// ReasonCached is the Reason of an EventSkip for a file already cached.
const ReasonCached = "already cached"

const pendingReason = "not ready yet: the next gizmo sync (or gizmo sync --wait) picks it up"

// resolve decides, asset by asset, which files to fetch and queues them. It
// asks the server for an asset only when the cache does not know it as ready
// with its formats (or, with Tags, does not know its tags), when a failed
// asset's reason is unknown, or when waiting for it.
func (r *run) resolve(ctx context.Context, records []record, known map[string]cache.AssetMeta, q *queue) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.Concurrency)
	for _, rec := range records {
		if gctx.Err() != nil {
			break
		}
		prev, wasKnown := known[rec.ID]
		switch rec.Status {
		case api.StatusReady:
			r.count(func(s *Summary) { s.Ready++ })
			if len(r.opts.Tags) > 0 && len(rec.Tags) > 0 && !hasAnyTag(rec.Tags, r.opts.Tags) {
				continue // filtered out by its known tags: no need to ask for more
			}
			needGet := len(rec.Formats) == 0 || !rec.listFormats && (!wasKnown || prev.Status != string(api.StatusReady))
			if len(r.opts.Tags) > 0 && len(rec.Tags) == 0 {
				needGet = true // the tags may be on the asset, not the list page
			}
			if !needGet {
				r.plan(rec, q)
				continue
			}
			g.Go(func() error {
				a, err := r.remote.Get(gctx, rec.ID)
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					if errors.Is(err, api.ErrNotFound) {
						r.goneMidway(rec.ID, "", rec.Name)
						return nil
					}
					r.fail(rec.ID, "", fmt.Sprintf("get asset: %v", err))
					return nil
				}
				r.settled(*a, prev, wasKnown, q, false)
				return nil
			})
		case api.StatusPending, api.StatusProcessing:
			if !r.opts.Wait {
				r.count(func(s *Summary) { s.Pending++ })
				r.emit(Event{Type: EventPending, ID: rec.ID, Name: rec.Name, Status: rec.Status, Reason: pendingReason})
				continue
			}
			g.Go(func() error {
				wctx, cancel := context.WithTimeout(gctx, r.opts.MaxWait)
				a, err := r.remote.WaitReady(wctx, rec.ID, nil)
				cancel()
				if a == nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					r.fail(rec.ID, "", fmt.Sprintf("wait for generation: %v", err))
					return nil
				}
				if a.Status == api.StatusReady {
					r.count(func(s *Summary) { s.Ready++ })
				}
				r.settled(*a, prev, wasKnown, q, true)
				return nil
			})
		case api.StatusFailed:
			if rec.Error != "" || (wasKnown && prev.Status == string(api.StatusFailed)) {
				r.genFailed(rec)
				continue
			}
			// The list page may not carry the reason; the asset does.
			g.Go(func() error {
				a, err := r.remote.Get(gctx, rec.ID)
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					r.genFailed(rec)
					return nil
				}
				r.settled(*a, prev, wasKnown, q, false)
				return nil
			})
		default:
			r.unknownStatus(rec)
		}
	}
	return g.Wait()
}

// settled handles an asset read from the server (get or wait): keeps what it
// says for the index and plans its files when it is ready.
func (r *run) settled(a api.Asset, prev cache.AssetMeta, wasKnown bool, q *queue, waited bool) {
	rec := mergeRecord(a, prev, wasKnown)
	r.metaMu.Lock()
	r.updated = append(r.updated, rec.meta)
	r.metaMu.Unlock()
	switch rec.Status {
	case api.StatusReady:
		r.plan(rec, q)
	case api.StatusFailed:
		r.genFailed(rec)
	case api.StatusPending, api.StatusProcessing:
		r.count(func(s *Summary) { s.Pending++ })
		reason := pendingReason
		if waited {
			reason = "still not ready when waiting stopped"
		}
		r.emit(Event{Type: EventPending, ID: rec.ID, Name: rec.Name, Status: rec.Status, Reason: reason})
	default:
		r.unknownStatus(rec)
	}
}

func (r *run) genFailed(rec record) {
	r.count(func(s *Summary) { s.GenFailed++ })
	reason := rec.Error
	if reason == "" {
		reason = "the server gave no reason"
	}
	r.emit(Event{Type: EventGenerationFailed, ID: rec.ID, Name: rec.Name, Status: rec.Status, Reason: reason})
}

func (r *run) unknownStatus(rec record) {
	r.emit(Event{Type: EventUnknownStatus, ID: rec.ID, Name: rec.Name, Status: rec.Status,
		Reason: "status unknown to this version of gizmo: recorded, not fetched"})
}

// plan queues the files of a ready asset that the cache lacks.
func (r *run) plan(rec record, q *queue) {
	if len(r.opts.Tags) > 0 && !hasAnyTag(rec.Tags, r.opts.Tags) {
		return
	}
	want := rec.Formats
	if len(r.opts.Formats) == 0 {
		// By default the formats gizmo checks and places; the others
		// (gazebo_sdf, or one a newer server lists) get one note in the
		// summary, and are mirrored when Formats names them.
		want = nil
		for _, f := range rec.Formats {
			if f.Known() {
				want = append(want, f)
				continue
			}
			r.count(func(s *Summary) {
				s.UnknownFormat++
				if !slices.Contains(s.UnknownFormats, f) {
					s.UnknownFormats = append(s.UnknownFormats, f)
				}
			})
		}
	} else {
		want = nil
		for _, f := range r.opts.Formats {
			if slices.Contains(rec.Formats, f) {
				want = append(want, f)
				continue
			}
			r.count(func(s *Summary) { s.NotOffered++ })
			r.emit(Event{Type: EventSkip, ID: rec.ID, Name: rec.Name, Format: f, Reason: "the asset does not offer this format"})
		}
	}
	for _, f := range want {
		e, indexed := r.cached[rec.ID+"\x00"+string(f)]
		if indexed && r.present(e) {
			r.count(func(s *Summary) { s.Skipped++ })
			r.emit(Event{Type: EventSkip, ID: rec.ID, Name: rec.Name, Format: f, Size: e.Size, Reason: ReasonCached})
			if r.needsVerdict(e) && !r.opts.DryRun {
				q.push(job{id: rec.ID, name: rec.Name, format: f, recheck: &e})
			}
			continue
		}
		if r.opts.DryRun {
			// The size is known when the index has the file but its copy
			// on disk is gone; otherwise only the download will tell.
			r.count(func(s *Summary) { s.Planned++; s.PlannedBytes += e.Size })
			r.emit(Event{Type: EventPlan, ID: rec.ID, Name: rec.Name, Format: f, Size: e.Size})
			continue
		}
		r.metaMu.Lock()
		r.queued++
		n := r.queued
		r.metaMu.Unlock()
		q.push(job{id: rec.ID, name: rec.Name, format: f})
		r.emit(Event{Type: EventQueued, ID: rec.ID, Name: rec.Name, Format: f, Count: n})
	}
}

// fetch gets one file into the cache: an export URL (a recorded one while it
// is usable, else a fresh one), a download streamed into the cache, which
// verifies and commits it, then validation. A 403 on the download gets a
// fresh URL; a cut-short or unverifiable download is restarted; after
// Attempts tries the file is listed as failed. Only ctx ending stops the run.
func (r *run) fetch(ctx context.Context, j job) (err error) {
	// The download slot, held from a download's start until its body is
	// in (download takes it and gives it back): the export request before
	// it runs under a limit of its own, and the cache's preparations
	// (its key's lock, its temp file) hold none, so that downloads never
	// wait on either.
	var slot *netSlot
	defer func() { slot.release() }() // the slot held at the end, if any
	started := false
	var (
		url        string
		expires    time.Time
		recordedOK = true  // the recorded URL may still be tried
		fromRecord = false // url is the recorded one
		unrecorded = false // url is fresh and not yet in the cache
		lastErr    error
		// prevMismatch is the SHA-256 of the last body that disagreed with
		// its ETag. The same body coming again means the ETag is opaque,
		// not a checksum: the body is taken.
		prevMismatch string
	)
	defer func() {
		// A URL that did not bring the file home is kept for the next
		// run (after an interruption, say). One that did is of no more use.
		if unrecorded && url != "" {
			_ = r.fstore.RecordURL(j.id, string(j.format), url, expires)
		}
	}()
	for attempt := 1; attempt <= r.opts.Attempts; attempt++ {
		if attempt > 1 {
			slot.release() // no slot held while waiting
			if err := backoff.Sleep(ctx, retryDelay(attempt)); err != nil {
				return err
			}
		}
		if url != "" && !expires.IsZero() && !r.now().Before(expires) {
			url, unrecorded = "", false // expired while we were trying
		}
		if url == "" && recordedOK {
			recordedOK = false
			if u, exp, ok := r.recordedURL(j); ok && r.now().Add(r.opts.URLMargin).Before(exp) {
				url, expires, fromRecord = u, exp, true
			}
		}
		if url == "" {
			ex, err := r.export(ctx, j)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				lastErr = err
				if !retryable(err) {
					break
				}
				r.emit(Event{Type: EventRetry, ID: j.id, Name: j.name, Format: j.format, Reason: err.Error()})
				continue
			}
			url, expires, unrecorded = ex.URL, ex.ExpiresAt, true
		}
		// The slot is taken by download once the cache is ready for the
		// body (the key's lock held, the temp file open), not here: a
		// file waiting on its key's lock holds no slot. EventStart comes
		// with the first slot: the download starts.
		slot = &netSlot{net: r.net}
		onSlot := func() {
			if !started {
				started = true
				r.emit(Event{Type: EventStart, ID: j.id, Name: j.name, Format: j.format})
			}
		}
		e, n, restarts, mismatch, err := r.download(ctx, j, url, expires, prevMismatch, r.opts.Attempts-attempt, slot, onSlot)
		attempt += restarts // each restart is an attempt
		if mismatch != "" {
			prevMismatch = mismatch
		}
		if err == nil {
			unrecorded = false
			r.stored(ctx, j, e, n)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		lastErr = err
		if errors.Is(err, api.ErrURLExpired) || fromRecord {
			// Ask for a fresh one: a recorded URL that failed may point at
			// a host that is gone (the client has retried it already).
			url, unrecorded, fromRecord = "", false, false
		} else if !retryable(err) && !errors.Is(err, api.ErrTruncated) && isAPIError(err) ||
			errors.Is(err, cache.ErrHostileArchive) || errors.Is(err, cache.ErrNoModel) || hostileServer(err) {
			break // 401, 404, a hostile archive or server...: trying again will not help
		}
		if attempt < r.opts.Attempts {
			r.emit(Event{Type: EventRetry, ID: j.id, Name: j.name, Format: j.format, Reason: err.Error()})
		}
	}
	if errors.Is(lastErr, api.ErrNotFound) {
		r.goneMidway(j.id, j.format, j.name)
		return nil
	}
	r.fail(j.id, j.format, lastErr.Error())
	return nil
}

// goneMidway reports an asset deleted from the account while the sync ran
// (a 404 after the listing showed it): nothing to fetch, and no failure. The
// next complete listing marks it vanished.
func (r *run) goneMidway(id string, f formats.Format, name string) {
	r.emit(Event{Type: EventSkip, ID: id, Name: name, Format: f, Reason: "deleted from the account while syncing"})
}

// download streams url into the cache and returns the committed entry and
// the bytes received. When the ETag looks like a checksum of the body (the
// hex SHA-256 or a prefix of it of 32 digits or more, or an MD5) the body
// must match it, unless its SHA-256 is sameAs (the body that mismatched last
// time: two identical bodies mean an opaque ETag, not a corrupt transfer).
// mismatch carries the SHA-256 of a body refused for its ETag.
//
// A body cut short is started over in the same temp file, at most
// maxRestarts times (restarts says how many). The download slot is taken
// right before each request, then onSlot is called.
func (r *run) download(ctx context.Context, j job, url string, expires time.Time, sameAs string, maxRestarts int, slot *netSlot, onSlot func()) (e cache.Entry, got int64, restarts int, mismatch string, err error) {
	var last time.Time
	progress := func(done, total int64) {
		got = done
		if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || (total > 0 && done >= total) {
			last = now
			r.emit(Event{Type: EventProgress, ID: j.id, Name: j.name, Format: j.format, Bytes: done, Size: max(total, 0)})
		}
	}
	// The slot is taken before the cache's key lock: a store that held
	// the lock while queueing for a slot would keep the lock's stripe from
	// the other processes on the cache (prepare, export) as long as it
	// queued. A store that must wait for its key's lock gives the slot
	// back while it waits (cache.WithLockWait) and takes one again for
	// its download.
	if err := slot.acquire(ctx); err != nil {
		return e, 0, 0, "", err
	}
	onSlot()
	e, err = r.fstore.StoreChecked(cache.WithLockWait(ctx, slot.release), j.id, string(j.format), func(ctx context.Context, w io.Writer) (string, error) {
		rw, rewindable := w.(api.Rewindable)
		// The cache hashes what it is given; hash here only if it does not
		// say its sum.
		hw, _ := w.(interface{ SHA256() []byte })
		// A cache that keeps parts lets a download cut short resume: from
		// a part a killed process left (Resume), and from what this one
		// got before a cut.
		rs, _ := w.(resumableWriter)
		sh, mh := sha256.New(), md5.New()
		var held, total int64
		var validator string
		if rs != nil && hw != nil {
			if off, tag, n, hm := rs.Resume(); off > 0 && hm != nil {
				held, validator, total, mh = off, tag, n, hm
			}
		}
		rewind := func() error {
			if !rewindable {
				return errors.New("the cache cannot start this download over")
			}
			if _, err := rw.Seek(0, io.SeekStart); err != nil {
				return err
			}
			if err := rw.Truncate(0); err != nil {
				return err
			}
			sh.Reset()
			mh.Reset()
			held, validator, total = 0, "", 0
			return nil
		}
		onStart := func(etag string, n int64) {
			total = n
			if rs != nil && etag != "" {
				rs.SetValidator(etag, n) // a failure only costs a resume
			}
		}
		for ; ; restarts++ {
			dst := io.MultiWriter(w, sh, mh)
			if hw != nil {
				dst = io.MultiWriter(w, mh)
			}
			if err := slot.acquire(ctx); err != nil {
				return "", err
			}
			onSlot()
			d, err := r.fremote.DownloadFrom(ctx, url, dst, api.Resume{Offset: held, ETag: validator, Total: total, Rewind: rewind, OnStart: onStart}, progress)
			if err != nil {
				// A body cut short goes on from where it stopped (or starts
				// over in the same temp file) while the URL lives; anything
				// else goes back to fetch, and the cache keeps the part for
				// the next try to resume.
				if !errors.Is(err, api.ErrTruncated) || !rewindable || restarts >= maxRestarts ||
					ctx.Err() != nil || (!expires.IsZero() && !r.now().Before(expires)) {
					return "", err
				}
				r.emit(Event{Type: EventRetry, ID: j.id, Name: j.name, Format: j.format, Reason: err.Error()})
				if d != nil && d.ETag != "" && d.Size > 0 {
					held, validator = d.Size, d.ETag
				} else if rerr := rewind(); rerr != nil {
					return "", err
				}
				if serr := backoff.Sleep(ctx, retryDelay(restarts+2)); serr != nil {
					return "", serr
				}
				continue
			}
			got = d.Size
			// The body is in: let the next download start while the
			// cache verifies and stores this one.
			slot.release()
			if fw, ok := w.(interface{ SetFilename(string) }); ok && d.Filename != "" {
				fw.SetFilename(d.Filename) // an untrusted hint, kept for display
			}
			sum := hex.EncodeToString(sh.Sum(nil))
			if hw != nil {
				sum = hex.EncodeToString(hw.SHA256())
			}
			if !etagMatches(d.ETag, sum, hex.EncodeToString(mh.Sum(nil))) && sum != sameAs {
				mismatch = sum
				if rs != nil {
					rs.SetValidator("", 0) // bad bytes: nothing to resume from
				}
				return "", fmt.Errorf("%w: ETag %s, body SHA-256 %s", errChecksum, d.ETag, sum)
			}
			return d.ETag, nil
		}
	}, r.check())
	slot.release()
	return e, got, restarts, mismatch, err
}

// recordedURL is the export URL recorded for j's file: from the copy read
// at the start of a sync (one index read for all files), or from the cache.
// A URL another process records meanwhile is missed, at the cost of one
// export request.
func (r *run) recordedURL(j job) (string, time.Time, bool) {
	if r.urls == nil {
		return r.fstore.URL(j.id, string(j.format))
	}
	u, ok := r.urls[j.id+"\x00"+string(j.format)]
	return u.URL, u.Expires, ok
}

// export asks for a download URL, with at most Concurrency export
// requests in flight (besides the downloads, which have slots of their
// own).
func (r *run) export(ctx context.Context, j job) (*api.Export, error) {
	select {
	case r.api <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.api }()
	return r.fremote.Export(ctx, j.id, j.format)
}

// publishFactor bounds the files in flight, downloading or being stored,
// as a multiple of Concurrency (which bounds the downloads alone).
const publishFactor = 16

// netSlot is a held slot of run.net; release gives it back, once.
type netSlot struct {
	net  chan struct{}
	held bool
}

// acquire takes the slot unless it is held already, waiting until one is
// free or ctx is done.
func (s *netSlot) acquire(ctx context.Context) error {
	if s.held {
		return nil
	}
	select {
	case s.net <- struct{}{}:
		s.held = true
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *netSlot) release() {
	if s != nil && s.held {
		s.held = false
		<-s.net
	}
}

// errChecksum: a download does not match the checksum its ETag announces.
var errChecksum = errors.New("download does not match its checksum")

// etagMatches tells whether a body with these SHA-256 and MD5 sums (hex)
// fits the ETag. An ETag that is no hex checksum (weak, multipart, short,
// opaque) fits anything.
func etagMatches(etag, sha, md string) bool {
	t := strings.ToLower(strings.Trim(strings.TrimPrefix(etag, "W/"), `"`))
	if strings.HasPrefix(etag, "W/") || len(t) < 32 || len(t) > 64 {
		return true
	}
	if _, err := hex.DecodeString(t); err != nil {
		return true
	}
	return strings.HasPrefix(sha, t) || t == md
}

// stored reports a freshly stored file as done, with its validation: the
// verdict the cache recorded with it (check), or, for a file another
// process stored meanwhile without one, a validation now.
func (r *run) stored(ctx context.Context, j job, e cache.Entry, n int64) {
	ev := Event{Type: EventDone, ID: j.id, Name: j.name, Format: j.format, Size: e.Size, SHA256: e.Hash, Path: r.fstore.ModelPath(e), Bytes: n}
	if r.opts.Validator != nil && validatable(e) {
		v := e.Validation
		if v == nil {
			// nil again when ctx ends meanwhile: nothing is recorded.
			if v = r.verdict(ctx, e); v != nil {
				if err := r.fstore.SetValidation(j.id, string(j.format), *v); err != nil {
					ev.Reason = fmt.Sprintf("validation not recorded: %v", err)
				}
			}
		}
		if v != nil {
			ev.Valid = &v.Valid
		}
		if v != nil && !v.Valid && ev.Reason == "" {
			ev.Reason = fmt.Sprintf("%s (see gizmo validate %s)", plural.Count(v.Errors, "validation error", "validation errors"), ev.Path)
		}
	}
	r.count(func(s *Summary) { s.New++; s.Bytes += n })
	r.emit(ev)
}

// check is what the cache runs on a new download before recording it:
// the Validator, for URDF and MJCF models.
func (r *run) check() cache.Check {
	if r.opts.Validator == nil {
		return nil
	}
	return func(ctx context.Context, e cache.Entry, files *archive.Overlay) *cache.Validation {
		if !validatable(e) {
			return nil
		}
		return r.judge(ctx, e, files)
	}
}

// needsVerdict tells whether a stored file lacks a verdict that this run
// would give it: none recorded, or one recorded by an interrupted
// validation (earlier versions kept "context canceled" as an error).
func (r *run) needsVerdict(e cache.Entry) bool {
	return r.opts.Validator != nil && validatable(e) && (e.Validation == nil || e.Validation.Interrupted())
}

// recheck validates a stored file again and records the verdict, unless
// ctx ends meanwhile. The file was reported as cached already.
func (r *run) recheck(ctx context.Context, j job) {
	v := r.verdict(ctx, *j.recheck)
	if v == nil {
		return
	}
	if err := r.fstore.SetValidation(j.id, string(j.format), *v); err != nil && ctx.Err() == nil {
		r.emit(Event{Type: EventRetry, ID: j.id, Name: j.name, Format: j.format, Reason: fmt.Sprintf("validation not recorded: %v", err)})
	}
}

// verdict validates a stored model, read from the download where its tree
// will be: validating does not unpack it. nil when ctx ends first: a
// validation cut short is no verdict.
func (r *run) verdict(ctx context.Context, e cache.Entry) *cache.Validation {
	files, closer, err := r.fstore.Files(e)
	if err == nil {
		defer closer.Close()
	}
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return &cache.Validation{Valid: false, Errors: 1, Checked: r.now().UTC(),
			Summary: []string{fmt.Sprintf("%s: cannot be read for validation: %v", r.fstore.ModelPath(e), err)}}
	}
	return r.judge(ctx, e, files)
}

func (r *run) judge(ctx context.Context, e cache.Entry, files Files) *cache.Validation {
	v := r.opts.Validator(ctx, r.fstore.ModelPath(e), files)
	if ctx.Err() != nil {
		return nil // cut short: whatever it says is about the interruption, not the model
	}
	return &cache.Validation{Valid: v.Valid, Errors: v.Errors, Warnings: v.Warnings, Checked: r.now().UTC(), Summary: v.Summary}
}

// fail lists a failed file (or asset, or listing) in the summary.
func (r *run) fail(id string, f formats.Format, reason string) {
	r.count(func(s *Summary) {
		s.Failed++
		s.Failures = append(s.Failures, Failure{ID: id, Format: f, Reason: reason})
	})
	r.emit(Event{Type: EventFail, ID: id, Format: f, Reason: reason})
}

func (r *run) count(f func(*Summary)) {
	r.mu.Lock()
	f(&r.sum)
	r.mu.Unlock()
}

func (r *run) emit(e Event) {
	if r.opts.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opts.OnEvent(e)
}

// retryable tells whether an export error may go away on its own. The
// client has already retried 5xx and 429; one more round costs little.
func retryable(err error) bool {
	return errors.Is(err, api.ErrServer) || errors.Is(err, api.ErrRateLimited)
}

// retryDelay is the pause before attempt n of a file (n ≥ 2): from 100 ms
// doubling to 2 s, with equal jitter (never under half of that), so that
// a file's bounded attempts also bound its requests a second.
func retryDelay(n int) time.Duration {
	return backoff.Equal(n-1, 100*time.Millisecond, 2*time.Second, rand.Int64N)
}

func hasAnyTag(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// validatable tells whether a stored file's model is one the validators
// check: URDF, MJCF or SDF (as XML).
func validatable(e cache.Entry) bool {
	return e.ModelKind == formats.KindURDF || e.ModelKind == formats.KindMJCF || e.ModelKind == formats.KindSDF
}

// present tells whether an indexed entry's download is in place (the
// cache's own Store checks the same before downloading; the tree is
// unpacked on first use).
func (r *run) present(e cache.Entry) bool {
	st, err := os.Stat(r.fstore.DownloadPath(e))
	return err == nil && st.Size() == e.Size
}

// isAPIError tells whether err is an answer of the server (as opposed to a
// local failure such as a full disk, or a verification that failed).
// hostileServer reports an error of a server that is not the API, that
// redirects where the client will not follow, sends too much, or does not
// answer in time (the client has retried that already).
func hostileServer(err error) bool {
	return errors.Is(err, api.ErrNotAPI) || errors.Is(err, api.ErrRedirect) ||
		errors.Is(err, api.ErrTooLarge) || errors.Is(err, api.ErrTimeout)
}

func isAPIError(err error) bool {
	var e *api.Error
	return errors.As(err, &e)
}
