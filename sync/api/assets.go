package api

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// Create asks for a new asset (POST /assets). The asset comes back pending;
// WaitReady waits for it.
func (c *Client) Create(ctx context.Context, r CreateRequest) (*Asset, error) {
	if c.gen == GenerationCurrent {
		return nil, fmt.Errorf("create asset: %w: the current generation creates assets as jobs (CreateJob)", ErrNotInGeneration)
	}
	var a Asset
	if err := c.do(ctx, call{op: "create asset", method: http.MethodPost, path: "/assets", body: r, out: &a, create: true}); err != nil {
		return nil, err
	}
	if a.ID == "" {
		return nil, fmt.Errorf("create asset: %w: the server at %s answered without an asset id; %s", ErrNotAPI, c.base, notAPIHint)
	}
	return &a, nil
}

// Get returns one asset with its formats (GET /assets/{id}).
func (c *Client) Get(ctx context.Context, id string) (*Asset, error) {
	if id == "" {
		return nil, errors.New("get asset: empty asset id")
	}
	if c.gen == GenerationCurrent {
		return c.currentGet(ctx, id)
	}
	var a Asset
	op := "get " + id
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/assets/" + url.PathEscape(id), out: &a}); err != nil {
		return nil, err
	}
	if a.ID != id {
		return nil, fmt.Errorf("%s: %w: the server at %s answered with asset %q; %s", op, ErrNotAPI, c.base, snippet(a.ID, 40), notAPIHint)
	}
	return &a, nil
}

// List returns one page (GET /assets). limit <= 0 leaves the server's default
// (20); the server refuses a limit above 100.
func (c *Client) List(ctx context.Context, limit, offset int) (*Page, error) {
	if c.gen == GenerationCurrent {
		return c.currentList(ctx, limit, offset)
	}
	p := listPath("/assets", limit, offset)
	var page Page
	op := fmt.Sprintf("list assets (offset %d)", offset)
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: p, out: &page}); err != nil {
		return nil, err
	}
	if page.Assets == nil {
		// No list at all (an empty account answers "assets": []): a server
		// that answers any JSON object.
		return nil, fmt.Errorf("%s: %w: the server at %s answered a JSON object without an assets list; %s", op, ErrNotAPI, c.base, notAPIHint)
	}
	if err := checkPage(&page, limit, offset, c.base); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return &page, nil
}

// PageSize is the page size All asks for: the API's maximum.
const PageSize = 100

// maxStepsBack bounds how often All steps back a page because assets
// vanished under it; each step waits a backoff first.
const maxStepsBack = 20

// All yields every asset of the account once, paging by PageSize, and stops
// when it reaches the latest total or an empty page.
//
// Assets may appear or vanish while it lists. An asset is never yielded
// twice, and none present all along is skipped: each page after the first
// starts one place before where the previous one ended, and must begin with
// an asset already seen; if it does not, assets vanished and shifted the
// rest towards the start, so All steps back a page and reads again. On an
// error it yields (Asset{}, err) once and stops.
func (c *Client) All(ctx context.Context) iter.Seq2[Asset, error] {
	return func(yield func(Asset, error) bool) {
		seen := make(map[string]bool)
		offset, stepsBack, overlapped := 0, 0, false
		var bound ListBound
		for {
			page, err := c.List(ctx, PageSize, offset)
			if err != nil {
				yield(Asset{}, err)
				return
			}
			gap := overlapped && offset > 0 && page.Total > 0 &&
				(len(page.Assets) == 0 || !seen[page.Assets[0].ID])
			if gap {
				// The page does not join the part already read: assets
				// vanished before it. Step back and read again.
				if stepsBack++; stepsBack > maxStepsBack {
					yield(Asset{}, fmt.Errorf("list assets: the listing keeps changing under the client (stepped back %d times); try again", stepsBack-1))
					return
				}
				offset = max(0, min(offset-PageSize, page.Total-1))
				if err := c.retry.sleep(ctx, c.retry.backoff(stepsBack)); err != nil {
					yield(Asset{}, fmt.Errorf("list assets: %w", err))
					return
				}
				continue
			}
			fresh := 0
			for _, a := range page.Assets {
				if !seen[a.ID] {
					fresh++
				}
			}
			if err := bound.Page(page, fresh, PageSize); err != nil {
				yield(Asset{}, err)
				return
			}
			if len(page.Assets) == 0 {
				return
			}
			for _, a := range page.Assets {
				if a.ID == "" || seen[a.ID] {
					continue
				}
				seen[a.ID] = true
				if !yield(a, nil) {
					return
				}
			}
			next := offset + len(page.Assets)
			if next >= page.Total {
				return
			}
			// Overlap one asset so the next page can prove it joins this
			// one (a page of one asset cannot overlap and still advance).
			overlapped = len(page.Assets) > 1
			offset = next
			if overlapped {
				offset--
			}
		}
	}
}

// Export asks for a download URL (POST /assets/{id}/export). The URL is
// pre-signed and expires; request a new one when Download says ErrURLExpired.
func (c *Client) Export(ctx context.Context, id string, f formats.Format) (*Export, error) {
	if id == "" || f == "" {
		return nil, fmt.Errorf("export %q/%q: asset id and format are required", id, f)
	}
	if c.gen == GenerationCurrent {
		return c.currentExport(id, f)
	}
	var e Export
	op := fmt.Sprintf("export %s/%s", id, f)
	err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/assets/" + url.PathEscape(id) + "/export",
		body: map[string]string{"format": string(f)}, out: &e})
	if err != nil {
		return nil, err
	}
	if e.URL == "" {
		return nil, fmt.Errorf("%s: %w: the server at %s answered without a download_url; %s", op, ErrNotAPI, c.base, notAPIHint)
	}
	return &e, nil
}

// WaitReady polls the asset until its status is ready or failed, with a
// growing, jittered delay, until ctx is done. onStatus (optional) sees every
// poll's answer. A failed generation returns the asset and an error matching
// ErrGenerationFailed. Other errors (the context's included) come with the
// last asset seen, nil when none was.
func (c *Client) WaitReady(ctx context.Context, id string, onStatus func(Asset)) (*Asset, error) {
	delay := c.pollInterval
	var last *Asset
	for {
		a, err := c.Get(ctx, id)
		if err != nil {
			if last != nil && ctx.Err() != nil {
				return last, fmt.Errorf("wait for asset %s (still %s): %w", id, last.Status, ctx.Err())
			}
			return last, err
		}
		last = a
		if onStatus != nil {
			onStatus(*a)
		}
		switch a.Status {
		case StatusReady:
			return a, nil
		case StatusFailed:
			reason := ""
			if a.Error != "" {
				reason = ": " + a.Error
			}
			return a, fmt.Errorf("asset %s: %w%s", id, ErrGenerationFailed, reason)
		}
		d := delay/2 + time.Duration(c.retry.jitter(int64(delay/2)+1))
		if err := c.retry.sleep(ctx, d); err != nil {
			return a, fmt.Errorf("wait for asset %s (still %s): %w", id, a.Status, err)
		}
		delay = min(delay*3/2, c.pollMax)
	}
}
