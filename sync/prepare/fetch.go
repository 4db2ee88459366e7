package prepare

import (
	"context"
	"errors"
	"fmt"

	"github.com/antimlabs/gizmo/cache"
	gsync "github.com/antimlabs/gizmo/sync"
)

// fetch gets the files the cache lacks through the sync engine (recorded
// URLs reused, ETags checked, cut-short downloads restarted); a file that
// fails, or whose asset is gone from the account, is an error.
func (s *slow) fetch(ctx context.Context, items []gsync.Item) error {
	r, err := s.api()
	if err != nil {
		return err
	}
	gone := map[gsync.Item]bool{}
	sum, err := gsync.Fetch(ctx, r, s.cache, items, gsync.Options{
		Concurrency: fetchConcurrency,
		OnEvent: func(ev gsync.Event) {
			switch ev.Type {
			case gsync.EventStart:
				s.logf("fetching %s (%s) %s", ev.ID, ev.Name, ev.Format.Short())
			case gsync.EventRetry:
				s.logf("retrying %s (%s) %s: %s", ev.ID, ev.Name, ev.Format.Short(), ev.Reason)
			case gsync.EventSkip:
				gone[gsync.Item{ID: ev.ID, Name: ev.Name, Format: ev.Format}] = true
			}
		},
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range sum.Failures {
		errs = append(errs, fmt.Errorf("fetch asset %s (%s) %s: %s", f.ID, s.name(f.ID), f.Format.Short(), f.Reason))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, it := range items {
		if gone[it] {
			s.gone[it.ID] = true // reported as not placed
		}
	}
	return nil
}

// fetchConcurrency bounds prepare's downloads in flight.
const fetchConcurrency = 4

// fetchMissing returns the cache's entry of every needed export, fetching
// what the cache lacks: what it does not store, including an indexed
// export whose download is gone (as sync fetches it again). An asset deleted on Gizmo is placed from what the
// cache keeps; what the cache lacks of it cannot be fetched, and it is
// dropped (s.dropped).
func (s *slow) fetchMissing(ctx context.Context, needs []need) (map[need]cache.Entry, error) {
	entries := map[need]cache.Entry{}
	var missing []need
	for _, n := range needs {
		e, err := s.cache.Stored(n.id, string(n.f))
		switch {
		case err == nil:
			entries[n] = e
		case errors.Is(err, cache.ErrNotCached):
			missing = append(missing, n)
		default:
			return nil, err
		}
	}
	missing = s.dropGone(missing, func(n need) string { return n.id })
	if len(missing) == 0 {
		return entries, nil
	}
	if s.o.Offline {
		var names []string
		for _, n := range missing {
			names = append(names, fmt.Sprintf("asset %s (%s): %s", n.id, s.name(n.id), n.f.Short()))
		}
		return nil, &MissingError{Missing: names}
	}
	items := make([]gsync.Item, len(missing))
	for i, n := range missing {
		items[i] = gsync.Item{ID: n.id, Name: s.name(n.id), Format: n.f}
	}
	if err := s.fetch(ctx, items); err != nil {
		return nil, err
	}
	// Assets deleted while fetching are reported, not placed.
	missing = s.dropGone(missing, func(n need) string { return n.id })
	for _, n := range missing {
		e, err := s.cache.Stored(n.id, string(n.f))
		if err != nil {
			return nil, fmt.Errorf("fetch asset %s (%s) %s: %w", n.id, s.name(n.id), n.f.Short(), err)
		}
		entries[n] = e
		s.res.Fetched++
	}
	return entries, nil
}

// unpack makes sure the tree of what will be placed is there (a tree is
// made on first use; one stat when it is there).
func (s *slow) unpack(ctx context.Context, needs []need, entries map[need]cache.Entry) error {
	for _, n := range needs {
		if _, err := s.cache.Unpack(ctx, entries[n]); err != nil {
			return fmt.Errorf("asset %s (%s) %s: %w", n.id, s.name(n.id), n.f.Short(), err)
		}
	}
	return nil
}
