package sync

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/backoff"
	"github.com/antimlabs/gizmo/internal/plural"
	"github.com/antimlabs/gizmo/sync/api"
)

// fetcher gets single files into the cache: an export URL, a download
// streamed into the cache with the ETag check and restarts, the
// validation. Fetch uses one on its own; a Run hands it the files it plans.
type fetcher struct {
	*tally
	remote FileRemote
	store  FileStore
	opts   Options

	// urls holds the recorded export URLs (id NUL format → URL), read once
	// by a Run with the cache's entries; nil when fetching without
	// planning (Fetch), which reads the one it needs.
	urls map[string]cache.RecordedURL

	// net holds a slot per download in flight: Concurrency of them. A
	// file takes its slot once the cache is ready for the body (the key's
	// lock held, the temp file open) and gives it back when its body is
	// in, before the cache verifies and stores it. api holds one per
	// export request in flight, Concurrency of them too: a file asks for
	// its URL before it takes a download slot, so downloads follow one
	// another without waiting on an export request each.
	net, api chan struct{}
}

// newFetcher makes the fetcher of a Run or a Fetch; opts has its defaults.
func newFetcher(remote FileRemote, store FileStore, opts Options, t *tally) *fetcher {
	return &fetcher{tally: t, remote: remote, store: store, opts: opts,
		net: make(chan struct{}, opts.Concurrency), api: make(chan struct{}, opts.Concurrency)}
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
	opts = opts.withDefaults()
	t := newTally(opts)
	f := newFetcher(remote, store, opts, t)
	start := opts.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency * publishFactor)
	for i, it := range items {
		if opts.DryRun {
			t.count(func(s *Summary) { s.Planned++ })
			t.emit(Event{Type: EventPlan, ID: it.ID, Name: it.Name, Format: it.Format})
			continue
		}
		if gctx.Err() != nil {
			break
		}
		t.emit(Event{Type: EventQueued, ID: it.ID, Name: it.Name, Format: it.Format, Count: i + 1})
		g.Go(func() error {
			return f.fetch(gctx, job{id: it.ID, name: it.Name, format: it.Format})
		})
	}
	err := g.Wait()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return t.finish(ctx, start, err)
}

// FetchFile gets one file into store the way Fetch gets each of its
// files (a recorded export URL while it is usable, else a fresh one, the
// ETag check, cut-short bodies resumed or restarted within
// Options.Attempts, the Validator's verdict recorded) and returns its
// entry. On failure it returns the error of the last attempt, whose
// api and cache sentinels (api.ErrNotFound, api.ErrNotReady,
// api.ErrUnauthorized, cache.ErrHostileArchive...) callers branch on. A
// file already stored costs an export request and no download: a caller
// that must send no request for it asks the cache first. Of Options it
// uses URLMargin, Attempts, Validator, OnEvent (start, progress, retries,
// done; no summary) and Now.
func FetchFile(ctx context.Context, remote FileRemote, store FileStore, it Item, opts Options) (cache.Entry, error) {
	opts = opts.withDefaults()
	opts.Concurrency = 1
	f := newFetcher(remote, store, opts, newTally(opts))
	j := job{id: it.ID, name: it.Name, format: it.Format}
	d, err := f.fetchFile(ctx, j)
	if err != nil {
		return cache.Entry{}, err
	}
	return f.stored(ctx, j, d.entry, d.bytes), nil
}

// fetch gets one file into the cache (fetchFile) and reports it: done,
// failed after Attempts tries, or gone from the account. Only ctx ending
// stops the run.
func (f *fetcher) fetch(ctx context.Context, j job) error {
	d, err := f.fetchFile(ctx, j)
	switch {
	case err == nil:
		f.stored(ctx, j, d.entry, d.bytes)
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, api.ErrNotFound):
		f.goneMidway(j.id, j.format, j.name)
		return nil
	}
	f.fail(j.id, j.format, err.Error())
	return nil
}

// stored reports a freshly stored file as done, with its validation: the
// verdict the cache recorded with it (check), or, for a file another
// process stored meanwhile without one, a validation now. It returns the
// entry with that verdict.
func (f *fetcher) stored(ctx context.Context, j job, e cache.Entry, n int64) cache.Entry {
	ev := Event{Type: EventDone, ID: j.id, Name: j.name, Format: j.format, Size: e.Size, SHA256: e.Hash, Path: f.store.ModelPath(e), Bytes: n}
	if f.opts.Validator != nil && validatable(e) {
		v := e.Validation
		if v == nil {
			// nil again when ctx ends meanwhile: nothing is recorded.
			if v = f.verdict(ctx, e); v != nil {
				if err := f.store.SetValidation(j.id, string(j.format), *v); err != nil {
					ev.Reason = fmt.Sprintf("validation not recorded: %v", err)
				}
			}
		}
		if v != nil {
			ev.Valid = &v.Valid
			e.Validation = v
		}
		if v != nil && !v.Valid && ev.Reason == "" {
			ev.Reason = fmt.Sprintf("%s (see gizmo validate %s)", plural.Count(v.Errors, "validation error", "validation errors"), ev.Path)
		}
	}
	f.count(func(s *Summary) { s.New++; s.Bytes += n })
	f.emit(ev)
	return e
}

// fetchFile gets one file into the cache: an export URL (a recorded one
// while it is usable, else a fresh one), a download streamed into the
// cache, which verifies and commits it (and runs the validation). A 403
// on the download gets a fresh URL; a cut-short or unverifiable download
// is restarted; after Attempts tries the last error is returned.
func (f *fetcher) fetchFile(ctx context.Context, j job) (d downloaded, err error) {
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
		// refused counts the fresh URLs in a row refused (403) before a
		// byte came: when the tries end so, the clock may be off.
		refused int
	)
	defer func() {
		// A URL that did not bring the file home is kept for the next
		// run (after an interruption, say). One that did is of no more use.
		if unrecorded && url != "" {
			_ = f.store.RecordURL(j.id, string(j.format), url, expires)
		}
	}()
	for attempt := 1; attempt <= f.opts.Attempts; attempt++ {
		if attempt > 1 {
			slot.release() // no slot held while waiting
			if err := backoff.Sleep(ctx, retryDelay(attempt)); err != nil {
				return d, err
			}
		}
		if url != "" && !expires.IsZero() && !f.now().Before(expires) {
			url, unrecorded = "", false // expired while we were trying
		}
		if url == "" && recordedOK {
			recordedOK = false
			if u, exp, ok := f.recordedURL(j); ok && f.now().Add(f.opts.URLMargin).Before(exp) {
				url, expires, fromRecord = u, exp, true
			}
		}
		if url == "" {
			ex, err := f.export(ctx, j)
			if err != nil {
				if ctx.Err() != nil {
					return d, ctx.Err()
				}
				lastErr = err
				if !retryable(err) {
					break
				}
				f.emit(Event{Type: EventRetry, ID: j.id, Name: j.name, Format: j.format, Reason: err.Error()})
				continue
			}
			url, expires, unrecorded = ex.URL, ex.ExpiresAt, true
		}
		// The slot is taken by download once the cache is ready for the
		// body (the key's lock held, the temp file open), not here: a
		// file waiting on its key's lock holds no slot. EventStart comes
		// with the first slot: the download starts.
		slot = &netSlot{net: f.net}
		onSlot := func() {
			if !started {
				started = true
				f.emit(Event{Type: EventStart, ID: j.id, Name: j.name, Format: j.format})
			}
		}
		d, err = f.download(ctx, j, url, expires, prevMismatch, f.opts.Attempts-attempt, slot, onSlot)
		attempt += d.restarts // each restart is an attempt
		if d.mismatch != "" {
			prevMismatch = d.mismatch
		}
		if err == nil {
			unrecorded = false
			return d, nil
		}
		if ctx.Err() != nil {
			return d, ctx.Err()
		}
		lastErr = err
		if errors.Is(err, api.ErrURLExpired) && !fromRecord && d.bytes == 0 && d.restarts == 0 {
			refused++
		} else {
			refused = 0
		}
		if errors.Is(err, api.ErrURLExpired) || fromRecord {
			// Ask for a fresh one: a recorded URL that failed may point at
			// a host that is gone (the client has retried it already).
			url, unrecorded, fromRecord = "", false, false
		} else if !retryable(err) && !errors.Is(err, api.ErrTruncated) && isAPIError(err) ||
			errors.Is(err, cache.ErrHostileArchive) || errors.Is(err, cache.ErrNoModel) || hostileServer(err) {
			break // 401, 404, a hostile archive or server...: trying again will not help
		}
		if attempt < f.opts.Attempts {
			f.emit(Event{Type: EventRetry, ID: j.id, Name: j.name, Format: j.format, Reason: err.Error()})
		}
	}
	if refused >= 2 && errors.Is(lastErr, api.ErrURLExpired) {
		lastErr = fmt.Errorf("%w; fresh URLs were refused too: check the computer's clock", lastErr)
	}
	return d, lastErr
}

// goneMidway reports an asset deleted from the account while the sync ran
// (a 404 after the listing showed it): nothing to fetch, and no failure. The
// next complete listing marks it vanished.
func (t *tally) goneMidway(id string, f formats.Format, name string) {
	t.emit(Event{Type: EventSkip, ID: id, Name: name, Format: f, Reason: "deleted from the account while syncing"})
}

// downloaded is what one download call brought: the committed entry, the
// bytes received, the restarts it made after bodies cut short, and the
// SHA-256 of a body refused for its ETag (empty when none was).
type downloaded struct {
	entry    cache.Entry
	bytes    int64
	restarts int
	mismatch string
}

// download streams url into the cache and returns the committed entry and
// the bytes received. When the ETag looks like a checksum of the body (the
// hex SHA-256 or a prefix of it of 32 digits or more, or an MD5) the body
// must match it, unless its SHA-256 is sameAs (the body that mismatched last
// time: two identical bodies mean an opaque ETag, not a corrupt transfer).
//
// A body cut short is started over in the same temp file, at most
// maxRestarts times. The download slot is taken right before each
// request, then onSlot is called.
func (f *fetcher) download(ctx context.Context, j job, url string, expires time.Time, sameAs string, maxRestarts int, slot *netSlot, onSlot func()) (d downloaded, err error) {
	var last time.Time
	progress := func(done, total int64) {
		d.bytes = done
		if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || (total > 0 && done >= total) {
			last = now
			f.emit(Event{Type: EventProgress, ID: j.id, Name: j.name, Format: j.format, Bytes: done, Size: max(total, 0)})
		}
	}
	// The slot is taken before the cache's key lock: a store that held
	// the lock while queueing for a slot would keep the lock's stripe from
	// the other processes on the cache (prepare, export) as long as it
	// queued. A store that must wait for its key's lock gives the slot
	// back while it waits (cache.WithLockWait) and takes one again for
	// its download.
	if err := slot.acquire(ctx); err != nil {
		return d, err
	}
	onSlot()
	d.entry, err = f.store.StoreChecked(cache.WithLockWait(ctx, slot.release), j.id, string(j.format), func(ctx context.Context, w cache.Writer) (string, error) {
		// The cache hashes what it is given (SHA256), and keeps parts of
		// downloads cut short: a download resumes from a part a killed
		// process left (Resume), and from what this one got before a cut.
		mh := md5.New()
		var held, total int64
		var validator string
		if off, tag, n, hm := w.Resume(); off > 0 && hm != nil {
			held, validator, total, mh = off, tag, n, hm
		}
		rewind := func() error {
			if err := w.Rewind(); err != nil {
				return err
			}
			mh.Reset()
			held, validator, total = 0, "", 0
			return nil
		}
		onStart := func(etag string, n int64) {
			total = n
			if etag != "" {
				w.SetValidator(etag, n) // a failure only costs a resume
			}
		}
		for ; ; d.restarts++ {
			dst := io.MultiWriter(w, mh)
			if err := slot.acquire(ctx); err != nil {
				return "", err
			}
			onSlot()
			dl, err := f.remote.DownloadFrom(ctx, url, dst, api.Resume{Offset: held, ETag: validator, Total: total, Rewind: rewind, OnStart: onStart}, progress)
			if err != nil {
				// A body cut short goes on from where it stopped (or starts
				// over in the same temp file) while the URL lives; anything
				// else goes back to fetchFile, and the cache keeps the part
				// for the next try to resume.
				if !errors.Is(err, api.ErrTruncated) || d.restarts >= maxRestarts ||
					ctx.Err() != nil || (!expires.IsZero() && !f.now().Before(expires)) {
					return "", err
				}
				f.emit(Event{Type: EventRetry, ID: j.id, Name: j.name, Format: j.format, Reason: err.Error()})
				if dl != nil && dl.ETag != "" && dl.Size > 0 {
					held, validator = dl.Size, dl.ETag
				} else if rerr := rewind(); rerr != nil {
					return "", err
				}
				if serr := backoff.Sleep(ctx, retryDelay(d.restarts+2)); serr != nil {
					return "", serr
				}
				continue
			}
			d.bytes = dl.Size
			// The body is in: let the next download start while the
			// cache verifies and stores this one.
			slot.release()
			if dl.Filename != "" {
				w.SetFilename(dl.Filename) // an untrusted hint, kept for display
			}
			sum := hex.EncodeToString(w.SHA256())
			if !etagMatches(dl.ETag, sum, hex.EncodeToString(mh.Sum(nil))) && sum != sameAs {
				d.mismatch = sum
				w.SetValidator("", 0) // bad bytes: nothing to resume from
				return "", fmt.Errorf("%w: ETag %s, body SHA-256 %s", errChecksum, dl.ETag, sum)
			}
			return dl.ETag, nil
		}
	}, f.check())
	slot.release()
	return d, err
}

// recordedURL is the export URL recorded for j's file: from the copy read
// at the start of a sync (one index read for all files), or from the cache.
// A URL another process records meanwhile is missed, at the cost of one
// export request.
func (f *fetcher) recordedURL(j job) (string, time.Time, bool) {
	if f.urls == nil {
		return f.store.URL(j.id, string(j.format))
	}
	u, ok := f.urls[j.id+"\x00"+string(j.format)]
	return u.URL, u.Expires, ok
}

// export asks for a download URL, with at most Concurrency export
// requests in flight (besides the downloads, which have slots of their
// own).
func (f *fetcher) export(ctx context.Context, j job) (*api.Export, error) {
	select {
	case f.api <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.api }()
	return f.remote.Export(ctx, j.id, j.format)
}

// present tells whether an indexed entry's download is in place (the
// cache's own Store checks the same before downloading; the tree is
// unpacked on first use).
func (f *fetcher) present(e cache.Entry) bool {
	st, err := os.Stat(f.store.DownloadPath(e))
	return err == nil && st.Size() == e.Size
}

// publishFactor bounds the files in flight, downloading or being stored,
// as a multiple of Concurrency (which bounds the downloads alone).
const publishFactor = 16

// netSlot is a held slot of fetcher.net; release gives it back, once.
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

// hostileServer reports an error of a server that is not the API, that
// redirects where the client will not follow, sends too much, or does not
// answer in time (the client has retried that already).
func hostileServer(err error) bool {
	return errors.Is(err, api.ErrNotAPI) || errors.Is(err, api.ErrRedirect) ||
		errors.Is(err, api.ErrTooLarge) || errors.Is(err, api.ErrTimeout)
}

// isAPIError tells whether err is an answer of the server (as opposed to a
// local failure such as a full disk, or a verification that failed).
func isAPIError(err error) bool {
	var e *api.Error
	return errors.As(err, &e)
}
