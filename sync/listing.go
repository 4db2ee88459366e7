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

// maxStepsBack bounds how often List steps back because assets vanished
// under it; each step waits a backoff first (stepBackBase, doubling, full
// jitter, at most stepBackMax).
const maxStepsBack = 20

var (
	stepBackBase = 100 * time.Millisecond
	stepBackMax  = 5 * time.Second
)

// List reads every page of the account's listing, PageSize assets a page:
// the one listing of gizmo (sync, prepare and `gizmo ls --all` read it).
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
// error the listing holds what the pages before it gave.
func List(ctx context.Context, remote Lister) (Listing, error) {
	var l Listing
	seen := make(map[string]bool)
	total, stable := -1, true
	offset, stepsBack, overlapped := 0, 0, false
	var bound listBound
	for {
		p, err := remote.List(ctx, PageSize, offset)
		if err != nil {
			return l, err // the client names the page
		}
		l.Pages++
		if total >= 0 && p.Total != total {
			stable = false
		}
		total = p.Total
		gap := overlapped && offset > 0 && p.Total > 0 &&
			(len(p.Assets) == 0 || !seen[p.Assets[0].ID])
		if gap {
			// The page does not join the part already read: assets
			// vanished before it. Step back and read again.
			stable = false
			if stepsBack++; stepsBack > maxStepsBack {
				return l, fmt.Errorf("list assets: the listing keeps changing while it is read (stepped back %d times); try again", maxStepsBack)
			}
			offset = max(0, min(offset-PageSize, p.Total-1))
			d := backoff.Exponential(stepsBack, stepBackBase, stepBackMax, rand.Int64N)
			if err := backoff.Sleep(ctx, d); err != nil {
				return l, fmt.Errorf("list assets: %w", err)
			}
			continue
		}
		if err := bound.page(p, unseen(p.Assets, seen), PageSize); err != nil {
			return l, err
		}
		if len(p.Assets) == 0 {
			break
		}
		for _, a := range p.Assets {
			if a.ID == "" || seen[a.ID] {
				continue
			}
			seen[a.ID] = true
			l.Assets = append(l.Assets, a)
		}
		next := offset + len(p.Assets)
		if next >= p.Total {
			break
		}
		// Overlap one asset so that the next page can prove it joins this
		// one (a page of one asset cannot overlap and still advance).
		overlapped = len(p.Assets) > 1
		offset = next
		if overlapped {
			offset--
		}
	}
	l.Complete = stable && len(l.Assets) == total
	return l, nil
}

// ListPages is how many pages List reads for an account of n assets that
// does not change meanwhile: one page of PageSize, then PageSize-1 new
// assets a page (pages overlap by one), and one page for no assets.
func ListPages(n int) int {
	if n <= PageSize {
		return 1
	}
	return 1 + (n-PageSize+PageSize-2)/(PageSize-1)
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
