package sync

import (
	"context"
	"slices"

	"github.com/antimlabs/gizmo/cache"
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
	// Complete is set when every page answered with the same total and
	// the distinct assets add up to it: only then may assets missing from
	// the listing be taken as gone.
	Complete bool
	Pages    int // the pages read
}

// List reads every page of the account's listing, PageSize assets a page,
// stopping a server that keeps the list going (api.ListBound). On an error
// the listing holds what the pages before it gave.
func List(ctx context.Context, remote Lister) (Listing, error) {
	var l Listing
	seen := make(map[string]bool)
	total, stable := -1, true
	offset := 0
	var bound api.ListBound
	for {
		p, err := remote.List(ctx, PageSize, offset)
		if err != nil {
			return l, err // the client names the page
		}
		l.Pages++
		if err := bound.Page(p, unseen(p.Assets, seen), PageSize); err != nil {
			return l, err
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
			l.Assets = append(l.Assets, a)
		}
		offset += len(p.Assets)
		if offset >= p.Total {
			break
		}
	}
	l.Complete = stable && len(l.Assets) == total
	return l, nil
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
