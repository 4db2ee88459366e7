package sync

import (
	"errors"
	"fmt"
)

// ErrEndlessList matches a listing that a server keeps going: pages that
// bring nothing new, or far more pages than its total promised.
var ErrEndlessList = errors.New("the listing does not end")

// maxListPages bounds every listing, whatever the server's total says: a
// million items at 99 new ones a page, with room to step back.
const maxListPages = 11_000

// maxStalePages is how many pages in a row may bring nothing new.
const maxStalePages = 3

// listBound stops a listing that the server keeps going: listAll calls
// page once per page read. what names the listing ("assets").
type listBound struct {
	what         string
	pages, stale int
	firstTotal   int // -1: the server gave no total
}

// page accounts for one more page of n items, of which fresh were not seen
// before, given with total (-1 for none). It returns an error matching
// ErrEndlessList once the server sent maxStalePages pages in a row with
// nothing new, or about twice the pages the first page's total calls for
// (items created while the list is read are allowed for), or maxListPages
// in all.
func (b *listBound) page(n, total, fresh int) error {
	b.pages++
	if b.pages == 1 {
		b.firstTotal = total
	}
	if n > 0 && fresh == 0 {
		b.stale++
	} else {
		b.stale = 0
	}
	if b.stale >= maxStalePages {
		return fmt.Errorf("list %s: %w: the server sent %d pages in a row with nothing new on them (it may ignore the offset); try again, or report it to the API's operators", b.what, ErrEndlessList, b.stale)
	}
	limit := maxListPages
	if b.firstTotal >= 0 {
		limit = min(limit, 2*(b.firstTotal/PageSize+1)+10)
	}
	if b.pages > limit {
		return fmt.Errorf("list %s: %w: read %d pages for an account that had %d %s when the listing started; try again, or report it to the API's operators", b.what, ErrEndlessList, b.pages, max(b.firstTotal, 0), b.what)
	}
	return nil
}
