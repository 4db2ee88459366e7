package sync

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/internal/backoff"
	"github.com/antimlabs/gizmo/sync/api"
)

// Lister is what listing the account needs from the API.
type Lister interface {
	// List returns one page of the account's assets.
	List(ctx context.Context, limit, offset int) (*api.Page, error)
}

// Listing is the account's asset list as List read it.
type Listing struct {
	Assets []api.Asset // each id once, in the order the pages gave them
	// Complete is set when the account did not change while it was read:
	// every page answered with the same total, the pages joined without
	// stepping back, and the distinct assets add up to the total. Only
	// then may assets missing from the listing be taken as gone.
	Complete bool
	Pages    int // the pages read, those read again included
}

// SceneListing is the account's scene list as ListScenes read it; its
// fields mean what Listing's do (a server that gives no total cannot
// contradict one: its listing is complete unless List stepped back).
type SceneListing struct {
	Scenes   []api.Scene
	Complete bool
	Pages    int
}

// maxStepsBack bounds how often a listing steps back because items
// vanished under it; each step waits a backoff first (stepBackBase,
// doubling, full jitter, at most stepBackMax).
const maxStepsBack = 20

var (
	stepBackBase = 100 * time.Millisecond
	stepBackMax  = 5 * time.Second
)

// List reads every page of the account's asset list, PageSize assets a
// page: the one listing of gizmo (sync, prepare, the agent and `gizmo ls
// --all` read the assets through it, and ListScenes the scenes).
//
// Assets may appear or vanish while it reads. None is listed twice, and
// none present all along is missed: each page after the first starts one
// place before where the previous one ended and must begin with an asset
// already seen; if it does not, assets vanished before it and shifted the
// rest towards the start, so List steps back a page (after a backoff) and
// reads again. That costs one page more per 99 assets than pages that
// merely abut, which could miss an asset when as many appear as vanish.
//
// A server that keeps the listing going is stopped (ErrEndlessList), and
// one that keeps it changing gives up after maxStepsBack steps back. On an
// error the listing holds what the pages read gave.
func List(ctx context.Context, remote Lister) (Listing, error) {
	read := func(ctx context.Context, limit, offset int) ([]api.Asset, int, error) {
		p, err := remote.List(ctx, limit, offset)
		if err != nil {
			return nil, 0, err
		}
		return p.Assets, p.Total, nil
	}
	l, err := listAll(ctx, "assets", read, func(a api.Asset) string { return a.ID })
	return Listing{Assets: l.items, Complete: l.complete, Pages: l.pages}, err
}

// ListScenes reads every page of the account's scene list as List reads
// the assets (the current generation; api.ErrNotInGeneration otherwise).
func ListScenes(ctx context.Context, remote SceneLister) (SceneListing, error) {
	l, err := listAll(ctx, "scenes", remote.ListScenes, func(s api.Scene) string { return s.ID })
	return SceneListing{Scenes: l.items, Complete: l.complete, Pages: l.pages}, err
}

// pager reads one page of a listing: its items and the total the server
// gave with them (-1 when it gave none).
type pager[T any] func(ctx context.Context, limit, offset int) (items []T, total int, err error)

// listed is what listAll read.
type listed[T any] struct {
	items    []T
	complete bool
	pages    int
}

// listAll is List for any listing: what names it in errors ("assets"),
// id gives an item's id (items without one are left out).
func listAll[T any](ctx context.Context, what string, read pager[T], id func(T) string) (listed[T], error) {
	var l listed[T]
	seen := make(map[string]bool)
	total, stable := -1, true
	offset, stepsBack, overlapped := 0, 0, false
	bound := listBound{what: what}
	for {
		items, t, err := read(ctx, PageSize, offset)
		if err != nil {
			return l, err // the client names the page
		}
		l.pages++
		if l.pages > 1 && t != total {
			stable = false
		}
		total = t
		gap := overlapped && offset > 0 && total != 0 &&
			(len(items) == 0 || !seen[id(items[0])])
		if gap {
			// The page does not join the part already read: items
			// vanished before it. Step back and read again.
			stable = false
			if stepsBack++; stepsBack > maxStepsBack {
				return l, fmt.Errorf("list %s: the listing keeps changing while it is read (stepped back %d times); try again", what, maxStepsBack)
			}
			back := offset - PageSize
			if total > 0 {
				back = min(back, total-1)
			}
			offset = max(0, back)
			d := backoff.Exponential(stepsBack, stepBackBase, stepBackMax, rand.Int64N)
			if err := backoff.Sleep(ctx, d); err != nil {
				return l, fmt.Errorf("list %s: %w", what, err)
			}
			continue
		}
		fresh := 0
		for _, it := range items {
			if k := id(it); k != "" && !seen[k] {
				seen[k] = true
				l.items = append(l.items, it)
				fresh++
			}
		}
		if err := bound.page(len(items), total, fresh); err != nil {
			return l, err
		}
		if len(items) == 0 {
			break
		}
		next := offset + len(items)
		if total >= 0 && next >= total || total < 0 && len(items) < PageSize {
			break
		}
		// Overlap one item so that the next page can prove it joins this
		// one (a page of one item cannot overlap and still advance).
		overlapped = len(items) > 1
		offset = next
		if overlapped {
			offset--
		}
	}
	l.complete = stable && (total < 0 || len(l.items) == total)
	return l, nil
}

// ListPages is how many pages List reads for an account of n assets that
// does not change meanwhile: one page of PageSize, then PageSize-1 new
// assets a page (pages overlap by one), and one page for no assets.
func ListPages(n int) int {
	if n <= PageSize {
		return 1
	}
	return 1 + (n-2)/(PageSize-1)
}

// MergeAsset is what the cache records of an asset the server answered
// with, given the cache's record of it (prev, when known): a list page
// carries no formats (nor, perhaps, tags or a failure's reason), so those
// are kept from the cache while the status is unchanged. The result shares
// no slice with a or prev.
func MergeAsset(a api.Asset, prev cache.AssetMeta, known bool) cache.AssetMeta {
	return mergeRecord(a, prev, known).meta
}

// HasAnyTag tells whether an asset carrying the tags have has at least one
// of want.
func HasAnyTag(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}
