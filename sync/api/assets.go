package api

import (
	"context"
	"errors"
	"fmt"
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

// PageSize is the largest page the API serves.
const PageSize = 100

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
