package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// The current generation's export formats, as the wire names them, and the
// project's name for each. It serves no URDF.
var wireFormats = []struct {
	wire string
	f    formats.Format
}{{"mjcf", formats.MuJoCo}, {"usd", formats.IsaacUSD}, {"sdf", formats.GazeboSDF}}

// WireFormat is the current generation's name of a format ("mjcf", "usd",
// "sdf"); false for a format it does not serve (URDF).
func WireFormat(f formats.Format) (string, bool) {
	for _, w := range wireFormats {
		if w.f == f {
			return w.wire, true
		}
	}
	return "", false
}

// formatOfWire is the project's format for a wire name; unknown names are
// kept as they come.
func formatOfWire(s string) formats.Format {
	for _, w := range wireFormats {
		if w.wire == s || string(w.f) == s {
			return w.f
		}
	}
	return formats.Format(s)
}

// CurrentStatus maps a status of the current generation (an asset's, a
// scene's or a job's) to the asset statuses the rest of gizmo knows;
// unknown ones are kept as they come.
func CurrentStatus(s string) Status {
	switch strings.ToLower(s) {
	case "queued", "pending", "created":
		return StatusPending
	case "running", "processing", "in_progress", "generating":
		return StatusProcessing
	case "ready", "succeeded", "success", "completed", "complete", "done":
		return StatusReady
	case "failed", "error", "cancelled", "canceled":
		return StatusFailed
	}
	return Status(s)
}

// wireAsset is an asset as the current generation shows it; the fields
// nobody documents are read tolerantly.
type wireAsset struct {
	ID        string          `json:"id"`
	AssetID   string          `json:"asset_id"`
	SceneID   string          `json:"scene_id"`
	JobID     string          `json:"job_id"`
	Status    string          `json:"status"`
	Name      string          `json:"name"`
	Prompt    string          `json:"prompt"`
	Tags      []string        `json:"tags"`
	CreatedAt json.RawMessage `json:"created_at"`
	Formats   []string        `json:"formats"`
	Error     json.RawMessage `json:"error"`
}

func (w wireAsset) asset() Asset {
	a := Asset{ID: w.ID, Status: CurrentStatus(w.Status), Name: w.Name, Prompt: w.Prompt, Tags: w.Tags,
		CreatedAt: epochTime(w.CreatedAt), SceneID: w.SceneID, JobID: w.JobID}
	if a.ID == "" {
		a.ID = w.AssetID
	}
	if a.Name == "" {
		a.Name = a.Prompt
	}
	for _, f := range w.Formats {
		a.Formats = append(a.Formats, formatOfWire(f))
	}
	if len(w.Error) > 0 && string(w.Error) != "null" {
		var s string
		var obj struct {
			Message string `json:"message"`
		}
		switch {
		case json.Unmarshal(w.Error, &s) == nil:
			a.Error = s
		case json.Unmarshal(w.Error, &obj) == nil:
			a.Error = obj.Message
		}
	}
	return a
}

// epochTime reads a timestamp: Unix seconds (as the current generation
// sends), or an RFC 3339 string; zero when it is neither.
func epochTime(raw json.RawMessage) time.Time {
	if len(raw) == 0 {
		return time.Time{}
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil && n > 0 {
		sec := int64(n)
		if n > 1e12 { // milliseconds
			sec = int64(n / 1000)
		}
		return time.Unix(sec, 0).UTC()
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
		if n, err := strconv.ParseFloat(s, 64); err == nil && n > 0 {
			return time.Unix(int64(n), 0).UTC()
		}
	}
	return time.Time{}
}

// currentList reads one page of GET /v1/assets. The documents give no
// pagination: limit and offset are sent, and a server that ignores them
// (a page longer than asked for, another offset) ends the listing at what
// it sent rather than looping.
func (c *Client) currentList(ctx context.Context, limit, offset int) (*Page, error) {
	p := listPath("/v1/assets", limit, offset)
	var ans struct {
		Assets []wireAsset `json:"assets"`
		Items  []wireAsset `json:"items"`
		Data   []wireAsset `json:"data"`
		Total  *int        `json:"total"`
		Offset *int        `json:"offset"`
	}
	op := fmt.Sprintf("list assets (offset %d)", offset)
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: p, out: &ans}); err != nil {
		return nil, err
	}
	items := ans.Assets
	if items == nil {
		items = ans.Items
	}
	if items == nil {
		items = ans.Data
	}
	if items == nil {
		// No list at all (an empty one is "assets": []): a server that
		// answers any JSON object, not an empty account.
		return nil, fmt.Errorf("%s: %w: the server at %s answered a JSON object without an assets list; %s", op, ErrNotAPI, c.base, notAPIHint)
	}
	page := &Page{Assets: []Asset{}, Limit: limit, Offset: offset}
	for _, w := range items {
		page.Assets = append(page.Assets, w.asset())
	}
	ignored := ans.Offset != nil && *ans.Offset != offset || limit > 0 && len(page.Assets) > limit
	switch {
	case ignored && offset > 0:
		// The server ignores the paging: this page repeats the first.
		page.Assets, page.Total = []Asset{}, offset
	case ignored:
		page.Total = len(page.Assets)
		page.Limit = len(page.Assets)
	case ans.Total != nil:
		page.Total = *ans.Total
		if err := checkPage(page, limit, offset, c.base); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	case limit > 0 && len(page.Assets) == limit:
		page.Total = offset + len(page.Assets) + 1 // no total: read on
	default:
		page.Total = offset + len(page.Assets)
	}
	return page, nil
}

// currentGet reads GET /v1/assets/{id}: {"ok", "asset": {...}}, or the
// asset at the top level.
func (c *Client) currentGet(ctx context.Context, id string) (*Asset, error) {
	var ans struct {
		Asset *wireAsset `json:"asset"`
		wireAsset
	}
	op := "get " + id
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/v1/assets/" + url.PathEscape(id), out: &ans}); err != nil {
		var e *Error
		if errors.As(err, &e) && e.StatusCode == http.StatusNotFound && e.Code == "asset_not_found" {
			// The id may be a scene's: a scene is fetched, exported and
			// placed as an asset is (its export's root model is the scene).
			if sc, serr := c.GetScene(ctx, id); serr == nil {
				a := sc.AsAsset()
				return &a, nil
			}
		}
		return nil, err
	}
	w := ans.wireAsset
	if ans.Asset != nil {
		w = *ans.Asset
	}
	a := w.asset()
	if a.ID == "" {
		a.ID = id
	}
	if a.ID != id {
		return nil, fmt.Errorf("%s: %w: the server at %s answered with asset %q; %s", op, ErrNotAPI, c.base, snippet(a.ID, 40), notAPIHint)
	}
	return &a, nil
}

// exportPath marks the URLs currentExport makes: the export itself, done
// by Download as a POST whose answer is the ZIP.
const exportPath = "/export"

// currentExport makes no request: the current generation answers an
// export with the ZIP itself, so the "download URL" is the export route,
// which Download calls (one request per file, no separate download). It
// never expires. An id this client has seen as a scene's (listed or read)
// goes to the scene route; any other is tried as an asset's, then as a
// scene's.
func (c *Client) currentExport(id string, f formats.Format) (*Export, error) {
	wire, ok := WireFormat(f)
	if !ok {
		return nil, fmt.Errorf("export %s/%s: %w: the current generation of the API exports mjcf, usd and sdf, not %s; ask for one of those (--format mjcf, usd or sdf)",
			id, f, ErrNotInGeneration, f.Short())
	}
	if _, scene := c.scenes.Load(id); scene {
		return &Export{URL: c.base + "/v1/scenes/" + url.PathEscape(id) + exportPath + "?format=" + wire}, nil
	}
	return &Export{URL: c.base + "/v1/assets/" + url.PathEscape(id) + exportPath + "?format=" + wire}, nil
}

// SceneExportURL is the "download URL" of a scene's export in the current
// generation, for Download (a scene is exported as an asset is).
func (c *Client) SceneExportURL(id string, f formats.Format) (string, error) {
	wire, ok := WireFormat(f)
	if !ok {
		return "", fmt.Errorf("export scene %s/%s: %w: scenes export as mjcf, usd or sdf", id, f, ErrNotInGeneration)
	}
	return c.base + "/v1/scenes/" + url.PathEscape(id) + exportPath + "?format=" + wire, nil
}

// exportTarget tells whether rawURL is an export route of this client's
// API (made by currentExport or SceneExportURL): only such a URL gets the
// key, and only on the client's own scheme and host.
func (c *Client) exportTarget(rawURL string) (exportReq, bool) {
	if c.gen != GenerationCurrent || !strings.HasPrefix(rawURL, c.base+"/v1/") {
		return exportReq{}, false
	}
	u, err := url.Parse(rawURL)
	if err != nil || !strings.HasSuffix(u.Path, exportPath) {
		return exportReq{}, false
	}
	wire := u.Query().Get("format")
	if wire == "" {
		return exportReq{}, false
	}
	return exportReq{url: rawURL, path: u.EscapedPath(), wire: wire}, true
}

// exportReq is one export of the current generation.
type exportReq struct {
	url  string // the full URL, with ?format=
	path string // its path, for messages
	wire string // the format as the wire names it
}

// exportStream runs an export of the current generation: a POST that
// answers the ZIP, with the format in both the query and the body (the
// documents disagree on where it goes), streamed into w. Failures before a
// byte is written are retried as API calls are (429 through the rate gate,
// 5xx and connection errors with backoff); a body cut short is
// ErrTruncated, for the caller to start again from zero (a POST cannot be
// resumed). 402 is ErrPaymentRequired, not retried.
func (c *Client) exportStream(ctx context.Context, ex exportReq, w io.Writer, progress func(done, total int64)) (*Download, error) {
	op := "export " + strings.TrimPrefix(ex.path, "/v1/")
	body, _ := json.Marshal(map[string]string{"format": ex.wire})
	var last error
	var assetErr *Error // the asset route's 404, when the scene route was tried next
	timeouts := 0
	for attempt := 1; ; attempt++ {
		if err := c.gate.wait(ctx, c.retry); err != nil {
			return nil, ctxError(op, err, last)
		}
		if err := c.pace.wait(ctx); err != nil {
			return nil, ctxError(op, err, last)
		}
		dctx, watch := watchIdle(withAPIMark(ctx), c.idleTimeout)
		req, err := http.NewRequestWithContext(dctx, http.MethodPost, ex.url, strings.NewReader(string(body)))
		if err != nil {
			watch.stop()
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		req.Header.Set("User-Agent", c.ua)
		req.Header.Set("Accept", "application/zip, application/octet-stream, application/json")
		req.Header.Set("Content-Type", "application/json")
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		resp, err := c.hc.Do(req)
		var delay time.Duration
		switch {
		case err != nil:
			watch.stop()
			next, fatal := c.requestFailed(ctx, op, err, watch, last, &timeouts)
			if fatal != nil {
				return nil, fatal
			}
			last = next
			delay = c.retry.backoff(attempt)
		case resp.StatusCode != http.StatusOK:
			watch.stop()
			c.pace.observe(resp)
			apiErr := readError(op, resp, false)
			resp.Body.Close()
			last = apiErr
			switch {
			case resp.StatusCode == http.StatusTooManyRequests:
				d := c.retry.after429(resp.Header, attempt)
				apiErr.RetryAfter = d
				c.gate.hold(c.retry.now(), d)
			case resp.StatusCode >= 500:
				delay = c.retry.backoff(attempt)
			case resp.StatusCode == http.StatusPaymentRequired:
				apiErr.Hint = "the account has no credits left for exports: add credits, then run the command again"
				return nil, apiErr
			case resp.StatusCode == http.StatusNotFound && assetErr != nil:
				// Neither an asset nor a scene: the asset's 404 says it.
				return nil, assetErr
			case resp.StatusCode == http.StatusNotFound && apiErr.Code == "asset_not_found" && strings.HasPrefix(ex.path, "/v1/assets/"):
				// No such asset: the id may be a scene's, exported the same way.
				assetErr = apiErr
				ex.url = strings.Replace(ex.url, c.base+"/v1/assets/", c.base+"/v1/scenes/", 1)
				ex.path = strings.Replace(ex.path, "/v1/assets/", "/v1/scenes/", 1)
				op = "export " + strings.TrimPrefix(ex.path, "/v1/")
				if attempt >= c.retry.attempts {
					return nil, apiErr
				}
				continue
			default:
				return nil, apiErr
			}
		default:
			c.pace.observe(resp)
			c.log.Debug("gizmo export", "path", ex.path, "attempt", attempt, "status", resp.StatusCode, "length", resp.ContentLength)
			if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
				// A server that answers with a download URL after all.
				d, err := c.exportByURL(ctx, op, resp, w, progress)
				watch.stop()
				return d, err
			}
			d, err := c.stream(op, resp, watch, w, 0, progress)
			watch.stop()
			if err != nil && ctx.Err() != nil {
				return d, ctxError(op, ctx.Err(), nil)
			}
			return d, err
		}
		if attempt >= c.retry.attempts {
			if attempt > 1 {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", last, attempt)
			}
			return nil, last
		}
		c.log.Info("gizmo export: retrying", "path", ex.path, "attempt", attempt+1, "of", c.retry.attempts, "after", delay.Round(time.Millisecond), "cause", last)
		if err := c.retry.sleep(ctx, delay); err != nil {
			return nil, ctxError(op, err, last)
		}
	}
}

// exportByURL follows an export that answered JSON with a download_url (or
// url), as the alpha generation does: a GET without the key.
func (c *Client) exportByURL(ctx context.Context, op string, resp *http.Response, w io.Writer, progress func(done, total int64)) (*Download, error) {
	var e struct {
		URL  string `json:"download_url"`
		URL2 string `json:"url"`
	}
	if err := decodeAnswer(resp, &e, c.base); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	u := e.URL
	if u == "" {
		u = e.URL2
	}
	if u == "" || c.isExportLike(u) {
		return nil, fmt.Errorf("%s: %w: the export answered JSON without a ZIP or a download URL; %s", op, ErrNotAPI, notAPIHint)
	}
	return c.Download(ctx, u, w, progress)
}

// isExportLike tells whether u would be taken for an export route again.
func (c *Client) isExportLike(u string) bool {
	_, ok := c.exportTarget(u)
	return ok
}
