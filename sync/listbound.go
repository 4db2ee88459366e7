package sync

import (
	"errors"
	"fmt"

	"github.com/antimlabs/gizmo/sync/api"
)

// ErrEndlessList matches a listing that a server keeps going: pages that
// bring no new asset, or far more pages than its total promised.
var ErrEndlessList = errors.New("the asset list does not end")

// maxListPages bounds every listing, whatever the server's total says: a
// million assets at 99 new ones a page, with room to step back.
const maxListPages = 11_000

// maxStalePages is how many pages in a row may bring no new asset.
const maxStalePages = 3

// listBound stops List when the server keeps the listing going: List calls
// page once per page read. The zero value is ready to use.
type listBound struct {
	pages, stale int
	firstTotal   int
	pageSize     int
}

// page accounts for one more page, of which fresh assets were not seen
// before, read with the given page size. It returns an error matching
// ErrEndlessList once the server sent maxStalePages pages in a row with no
// new asset, or about twice the pages the first page's total calls for
// (assets created while the list is read are allowed for), or
// maxListPages in all.
func (b *listBound) page(p *api.Page, fresh, pageSize int) error {
	b.pages++
	if b.pages == 1 {
		b.firstTotal, b.pageSize = max(p.Total, 0), max(pageSize, 1)
	}
	if len(p.Assets) > 0 && fresh == 0 {
		b.stale++
	} else {
		b.stale = 0
	}
	if b.stale >= maxStalePages {
		return fmt.Errorf("list assets: %w: the server sent %d pages in a row with no asset not already listed (it may ignore the offset); try again, or report it to the API's operators", ErrEndlessList, b.stale)
	}
	if limit := min(maxListPages, 2*(b.firstTotal/b.pageSize+1)+10); b.pages > limit {
		return fmt.Errorf("list assets: %w: read %d pages for an account that had %d assets when the listing started; try again, or report it to the API's operators", ErrEndlessList, b.pages, b.firstTotal)
	}
	return nil
}
