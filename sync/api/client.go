package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "gizmo (+https://github.com/antimlabs/gizmo)"

// maxJSONBody bounds a JSON answer of the API.
const maxJSONBody = 32 << 20

// Options configure a Client. Only BaseURL is required.
type Options struct {
	BaseURL    string // e.g. https://api.gizmo.antimlabs.com/v1
	APIKey     string // sent as a Bearer token on API requests only
	UserAgent  string // e.g. "gizmo/1.2.0"; DefaultUserAgent when empty
	HTTPClient *http.Client

	// MaxAttempts bounds the tries of one call, the first included
	// (default 6). MaxBackoff caps one backoff delay (default 10s);
	// BaseBackoff is the ceiling of the first one (default 200ms), doubling
	// with every retry. MaxRetryAfter caps a 429's Retry-After (default 60s).
	MaxAttempts   int
	MaxBackoff    time.Duration
	BaseBackoff   time.Duration
	MaxRetryAfter time.Duration

	// PollInterval is WaitReady's first delay between polls (default 1s);
	// it grows by half each poll up to PollMax (default 10s), with jitter.
	PollInterval time.Duration
	PollMax      time.Duration

	// RequestTimeout bounds one attempt of an API request, from sending it
	// to the last byte of its answer (default DefaultRequestTimeout); an
	// attempt that times out is retried once. IdleTimeout is how long a
	// download may receive nothing, headers included (default
	// DefaultIdleTimeout); a download that keeps receiving has no total
	// deadline. Both apply on top of the caller's context.
	RequestTimeout time.Duration
	IdleTimeout    time.Duration
	// MaxDownload bounds one download's size (default DefaultMaxDownload;
	// negative: no bound). A larger Content-Length is refused before a
	// byte is read, and a body without one is cut off past it.
	MaxDownload int64

	Logger *slog.Logger // nil: silent

	// Generation is the API generation the server speaks (generation.go):
	// GenerationAlpha when empty. With GenerationCurrent the client calls
	// /v1/ paths below BaseURL's host (a BaseURL ending in /v1 is taken
	// as the same server), and List, Get, Export and Download speak that
	// generation (current.go).
	Generation Generation

	// Budget, when set, is the rate-limit pacing state shared with other
	// processes on the same API URL and key (pace.go); nil paces this
	// process alone.
	Budget Budget

	// Clock is the time source of backoffs, the rate gate and WaitReady's
	// polls; nil is the real clock. Tests pass a fake one.
	Clock Clock
}

// Clock tells the time and waits. Sleep returns early with ctx's error when
// ctx is done.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Client calls the Gizmo API. It is safe for concurrent use; all its
// goroutines share one rate gate.
type Client struct {
	base         string // without a trailing slash
	key          string
	ua           string
	hc           *http.Client
	log          *slog.Logger
	retry        retrier
	gate         gate
	pollInterval time.Duration
	pollMax      time.Duration
	reqTimeout   time.Duration
	idleTimeout  time.Duration
	maxDownload  int64 // 0: no bound
	gen          Generation
	pace         pacer // paces requests from the X-RateLimit-* headers (pace.go)
}

// New returns a Client for o.BaseURL.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(o.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("API URL %q: want an http:// or https:// URL such as https://api.gizmo.antimlabs.com/v1", o.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("API URL %q: must not carry a query, fragment or user info", RedactURL(o.BaseURL))
	}
	for _, r := range o.APIKey {
		if r <= ' ' || r == 0x7f {
			return nil, errors.New("API key contains whitespace or control characters: check how it was set")
		}
	}
	c := &Client{
		base:         strings.TrimRight(u.String(), "/"),
		key:          o.APIKey,
		ua:           o.UserAgent,
		hc:           o.HTTPClient,
		log:          o.Logger,
		retry:        newRetrier(o),
		pollInterval: o.PollInterval,
		pollMax:      o.PollMax,
		reqTimeout:   o.RequestTimeout,
		idleTimeout:  o.IdleTimeout,
		maxDownload:  o.MaxDownload,
	}
	switch {
	case c.maxDownload == 0:
		c.maxDownload = DefaultMaxDownload
	case c.maxDownload < 0:
		c.maxDownload = 0
	}
	if c.reqTimeout <= 0 {
		c.reqTimeout = DefaultRequestTimeout
	}
	if c.idleTimeout <= 0 {
		c.idleTimeout = DefaultIdleTimeout
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection for every request a sync has in flight (the
		// default keeps 2 per host, and a sync's dozens of workers then
		// open a new connection, a new TLS handshake, for most requests).
		t.MaxIdleConnsPerHost = maxIdlePerHost
		c.hc = &http.Client{Transport: t}
	}
	// The redirect policy keeps the key on the API's host; a caller's
	// client gets it too (a shallow copy, so the caller's is not changed).
	hc := *c.hc
	hc.CheckRedirect = checkRedirect
	c.hc = &hc
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.pollInterval <= 0 {
		c.pollInterval = DefaultPollInterval
	}
	if c.pollMax <= 0 {
		c.pollMax = DefaultPollMax
	}
	c.pollMax = max(c.pollMax, c.pollInterval)
	if err := c.setGeneration(o.Generation); err != nil {
		return nil, err
	}
	c.pace.init(c.retry, o.Budget, func(msg string, args ...any) { c.log.Info(msg, args...) })
	return c, nil
}

// BaseURL is the API base URL the client calls.
func (c *Client) BaseURL() string { return c.base }

// call is one API request.
type call struct {
	op     string // for errors and logs, e.g. "get ast_1"
	method string
	path   string // relative to the base URL, escaped
	body   any    // marshalled as JSON when non-nil
	out    any    // the 2xx body is decoded into it when non-nil
	// create marks POST /assets: retried only when the server certainly did
	// not act on it (the connection was never made, or 429).
	create bool
}

// do runs a call with retries.
func (c *Client) do(ctx context.Context, cl call) error {
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("%s: %w", cl.op, err)
		}
	}
	target := c.base + cl.path
	var last error
	timeouts := 0
	for attempt := 1; ; attempt++ {
		if err := c.gate.wait(ctx, c.retry); err != nil {
			return ctxError(cl.op, err, last)
		}
		if err := c.pace.wait(ctx); err != nil {
			return ctxError(cl.op, err, last)
		}
		actx, cancel := context.WithTimeout(withAPIMark(ctx), c.reqTimeout)
		err := c.attempt(actx, cl, target, body, attempt, &last)
		cancel()
		var delay time.Duration
		switch {
		case err == nil:
			if last != nil {
				c.log.Info("gizmo api: recovered", "op", cl.op, "attempts", attempt)
			}
			return nil
		case ctx.Err() != nil:
			return ctxError(cl.op, ctx.Err(), last)
		case errors.Is(actx.Err(), context.DeadlineExceeded):
			// The attempt's own deadline, not the caller's.
			last = timeoutError(cl.op, c.base, c.reqTimeout)
			c.log.Debug("gizmo api", "op", cl.op, "method", cl.method, "url", target, "attempt", attempt, "error", last)
			if cl.create {
				return fmt.Errorf("%w (not retried: the server may have created the asset; run 'gizmo ls' before trying again)", last)
			}
			if timeouts++; timeouts >= maxTimeouts {
				return last
			}
			delay = c.retry.backoff(attempt)
		case errors.Is(err, errRetry):
			delay = c.retry.backoff(attempt)
		case errors.Is(err, errRetryGate):
			delay = 0 // the gate does the waiting, for every goroutine
		default:
			return err
		}
		if attempt >= c.retry.attempts {
			if attempt > 1 {
				return fmt.Errorf("%w (gave up after %d attempts)", last, attempt)
			}
			return last
		}
		c.log.Info("gizmo api: retrying", "op", cl.op, "attempt", attempt+1, "of", c.retry.attempts, "after", delay.Round(time.Millisecond), "cause", last)
		if err := c.retry.sleep(ctx, delay); err != nil {
			return ctxError(cl.op, err, last)
		}
	}
}

// Markers attempt returns for a failure worth another attempt (its error
// is in *last): after a backoff, or once the rate gate opens.
var (
	errRetry     = errors.New("retry after a backoff")
	errRetryGate = errors.New("retry when the gate opens")
)

// attempt sends one try of cl. It returns nil on success, errRetry or
// errRetryGate (with the failure in *last) when another try may help, and
// any other error when none will.
func (c *Client) attempt(ctx context.Context, cl call, target string, body []byte, attempt int, last *error) error {
	req, err := http.NewRequestWithContext(ctx, cl.method, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", cl.op, err)
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err = redactErr(err)
		*last = fmt.Errorf("%s: %w", cl.op, err)
		c.log.Debug("gizmo api", "op", cl.op, "method", cl.method, "url", target, "attempt", attempt, "error", err)
		if errors.Is(err, ErrRedirect) {
			return *last
		}
		if cl.create && !notSent(err) {
			return fmt.Errorf("%s: %w (not retried: the server may have created the asset; run 'gizmo ls' before trying again)", cl.op, err)
		}
		return errRetry
	}
	c.log.Debug("gizmo api", "op", cl.op, "method", cl.method, "url", target, "attempt", attempt, "status", resp.StatusCode, "elapsed", time.Since(start).Round(time.Millisecond))
	c.pace.observe(resp)
	if resp.StatusCode/100 == 2 {
		if err := decodeAnswer(resp, cl.out, c.base); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			err = fmt.Errorf("%s: reading the answer: %w", cl.op, redactErr(err))
			if errors.Is(err, io.ErrUnexpectedEOF) && !cl.create {
				*last = err // cut short on the way: ask again
				return errRetry
			}
			return err
		}
		return nil
	}
	apiErr := readError(cl.op, resp, false)
	resp.Body.Close()
	*last = apiErr
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		d := c.retry.after429(resp.Header, attempt)
		apiErr.RetryAfter = d
		c.gate.hold(c.retry.now(), d)
		return errRetryGate
	case resp.StatusCode >= 500 && !cl.create:
		return errRetry
	case resp.StatusCode >= 500:
		return fmt.Errorf("%w (not retried: the server may have created the asset; run 'gizmo ls' before trying again)", apiErr)
	}
	if errors.Is(apiErr, ErrNotAPI) {
		apiErr.Hint = fmt.Sprintf("the server at %s has no such route: check --api-url or GIZMO_API_URL; is a path segment too many or missing, such as an extra /v1?", c.base)
	}
	return apiErr
}

// ctxError reports a cancelled or timed-out call, with the last failure seen.
func ctxError(op string, err, last error) error {
	if last != nil {
		return fmt.Errorf("%s: %w (last failure: %v)", op, err, last)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// notSent reports whether a transport error proves the request never reached
// a server: the connection could not be made.
func notSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

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

// Download streams the body of a pre-signed download URL into w. It sends no
// Authorization header: the URL carries its own signature, and its host may
// be another than the API's. It retries 429, 5xx and connection errors while
// nothing has been written to w. The result carries the size, the ETag and
// the untrusted filename hint.
//
// Errors: ErrURLExpired (403: ask Export for a new URL), ErrTruncated (the
// body ended before Content-Length: w holds a partial copy; resume it with
// DownloadFrom, or start over). progress, when non-nil, is called as bytes arrive
// with total -1 when the length is unknown.
func (c *Client) Download(ctx context.Context, rawURL string, w io.Writer, progress func(done, total int64)) (*Download, error) {
	return c.DownloadFrom(ctx, rawURL, w, Resume{}, progress)
}

// Resume says where a download picks up: w already holds Offset bytes of
// the object whose ETag is ETag.
type Resume struct {
	Offset int64
	ETag   string
	// Rewind empties w, for when the server sends the whole body instead
	// of the rest (it ignores Range, or the object changed: If-Range).
	Rewind func() error
	// OnStart, when set, is told the ETag of an answer whose body is about
	// to be written, so that a caller can record it before the first byte
	// (a process killed mid-body can then resume).
	OnStart func(etag string, total int64)
	// Total, when known (> 0), is the object's whole length: w holding
	// all of it (Offset == Total) needs no request.
	Total int64
}

// DownloadFrom is Download that asks only for the bytes w lacks: with
// from.Offset > 0 and an ETag it sends Range: bytes=Offset- and If-Range:
// ETag. A 206 answer is appended to w; a 200 answer (Range ignored, or the
// object changed since) is written over w from byte 0 after from.Rewind.
// Without an ETag nothing can be resumed safely: w is rewound and the
// whole body fetched. Download.Size counts the object's bytes in w, the
// resumed ones included; Download.Resumed tells whether the server sent
// only the rest.
func (c *Client) DownloadFrom(ctx context.Context, rawURL string, w io.Writer, from Resume, progress func(done, total int64)) (*Download, error) {
	rewind := func() error {
		if from.Offset == 0 {
			return nil
		}
		if from.Rewind == nil {
			return errors.New("download: the server sent the whole body again and the writer cannot start over")
		}
		if err := from.Rewind(); err != nil {
			return err
		}
		from.Offset = 0
		return nil
	}
	if from.Offset < 0 {
		from.Offset = 0
	}
	if from.Offset > 0 && from.ETag == "" {
		if err := rewind(); err != nil {
			return nil, err
		}
	}
	if from.Offset > 0 && from.ETag != "" && from.Total == from.Offset {
		// The part is whole (a process killed after the last byte, before
		// publishing it): the caller's checks judge it.
		return &Download{Size: from.Offset, ETag: from.ETag, Resumed: true}, nil
	}
	if ex, ok := c.exportTarget(rawURL); ok {
		if err := rewind(); err != nil { // a POST answer cannot be resumed
			return nil, err
		}
		return c.exportStream(ctx, ex, w, progress)
	}
	op := "download " + RedactURL(rawURL)
	var last error
	timeouts := 0
	for attempt := 1; ; attempt++ {
		dctx, watch := watchIdle(ctx, c.idleTimeout)
		req, err := http.NewRequestWithContext(dctx, http.MethodGet, rawURL, nil)
		if err != nil {
			watch.stop()
			return nil, fmt.Errorf("%s: %w", op, redactErr(err))
		}
		req.Header.Set("User-Agent", c.ua)
		if from.Offset > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(from.Offset, 10)+"-")
			req.Header.Set("If-Range", from.ETag)
		}
		resp, err := c.hc.Do(req)
		var delay time.Duration
		if err != nil {
			watch.stop()
			next, fatal := c.requestFailed(ctx, op, err, watch, last, &timeouts)
			if fatal != nil {
				return nil, fatal
			}
			last = next
			delay = c.retry.backoff(attempt)
		} else if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && from.Offset > 0 {
			// Nothing after the held bytes: whole when the object is as long
			// as what is held (and unchanged: If-Range does not apply to a
			// 416, the caller's checksum does); otherwise the held bytes are
			// not a prefix of it (it shrank or changed): fetch it whole.
			watch.stop()
			resp.Body.Close()
			// (net/http's ServeContent, like many servers, sends no ETag
			// with a 416.)
			if n, ok := contentRangeTotal(resp.Header.Get("Content-Range")); ok && n == from.Offset && (resp.Header.Get("ETag") == "" || resp.Header.Get("ETag") == from.ETag) {
				return &Download{Size: from.Offset, ETag: from.ETag, Resumed: true}, nil
			}
			if err := rewind(); err != nil {
				return nil, err
			}
			continue
		} else if resp.StatusCode != http.StatusOK && !(resp.StatusCode == http.StatusPartialContent && from.Offset > 0) {
			watch.stop()
			apiErr := readError(op, resp, true)
			resp.Body.Close()
			c.log.Debug("gizmo download", "url", RedactURL(rawURL), "attempt", attempt, "status", resp.StatusCode)
			last = apiErr
			switch {
			case resp.StatusCode == http.StatusTooManyRequests:
				d := c.retry.after429(resp.Header, attempt)
				apiErr.RetryAfter = d
				delay = d
			case resp.StatusCode >= 500:
				delay = c.retry.backoff(attempt)
			default:
				return nil, apiErr
			}
		} else {
			c.log.Debug("gizmo download", "url", RedactURL(rawURL), "attempt", attempt, "status", resp.StatusCode, "length", resp.ContentLength)
			base := int64(0)
			if resp.StatusCode == http.StatusPartialContent {
				if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != from.Offset {
					watch.stop()
					resp.Body.Close()
					return nil, fmt.Errorf("%s: asked for bytes from %d, the server sent Content-Range %q", op, from.Offset, resp.Header.Get("Content-Range"))
				}
				base = from.Offset
			} else if err := rewind(); err != nil {
				watch.stop()
				resp.Body.Close()
				return nil, err
			}
			if from.OnStart != nil {
				total := resp.ContentLength
				if total >= 0 {
					total += base
				}
				from.OnStart(resp.Header.Get("ETag"), total)
			}
			d, err := c.stream(op, resp, watch, w, base, progress)
			watch.stop()
			if err != nil && ctx.Err() != nil {
				return d, ctxError(op, ctx.Err(), nil)
			}
			return d, err
		}
		if attempt >= c.retry.attempts {
			return nil, last
		}
		c.log.Info("gizmo download: retrying", "url", RedactURL(rawURL), "attempt", attempt+1, "of", c.retry.attempts, "after", delay.Round(time.Millisecond), "cause", last)
		if err := c.retry.sleep(ctx, delay); err != nil {
			return nil, ctxError(op, err, last)
		}
	}
}

// stream copies a 200 answer's body into w and checks its length.
func (c *Client) stream(op string, resp *http.Response, watch *idleWatch, w io.Writer, base int64, progress func(done, total int64)) (*Download, error) {
	defer resp.Body.Close()
	if c.maxDownload > 0 && resp.ContentLength > c.maxDownload {
		return &Download{}, fmt.Errorf("%s: %w: the server announces %s, more than the %s a download may have (--max-download)", op, ErrTooLarge, byteSize(resp.ContentLength), byteSize(c.maxDownload))
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		// No model is served as a web page: a login, proxy or error page
		// answered 200 in its place.
		return &Download{}, fmt.Errorf("%s: %w: the server answered HTTP %d with an HTML page, not the file (a login, proxy or error page?)", op, ErrNotAPI, resp.StatusCode)
	}
	d := &Download{ETag: resp.Header.Get("ETag"), Resumed: base > 0}
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil {
			d.Filename = params["filename"]
		}
	}
	total := resp.ContentLength
	cw := &countWriter{w: w, base: base, total: total, progress: progress}
	if total >= 0 {
		cw.total = base + total
	}
	if progress != nil {
		progress(base, cw.total)
	}
	// Read one byte past the size limit, to notice a body without a
	// Content-Length that runs past it. (A body longer than its
	// Content-Length is cut at that length by the HTTP framing.)
	var body io.Reader = watch.reader(resp.Body)
	if c.maxDownload > 0 {
		body = io.LimitReader(body, c.maxDownload+1)
	}
	buf := copyBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(cw, body, *buf)
	copyBufs.Put(buf)
	d.Size = base + cw.n
	if cw.err != nil {
		return d, fmt.Errorf("%s: writing: %w", op, cw.err)
	}
	if err != nil && watch.timedOut() {
		return d, fmt.Errorf("%s: %w", op, idleError(c.idleTimeout, cw.n))
	}
	if c.maxDownload > 0 && cw.n > c.maxDownload {
		return d, fmt.Errorf("%s: %w: the body runs past %s, the most a download may have (--max-download)", op, ErrTooLarge, byteSize(c.maxDownload))
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || total >= 0 && cw.n < total {
			return d, fmt.Errorf("%s: got %d of %d bytes: %w", op, cw.n, total, ErrTruncated)
		}
		return d, fmt.Errorf("%s: after %d bytes: %w (%w)", op, cw.n, redactErr(err), ErrTruncated)
	}
	if total >= 0 && cw.n != total {
		return d, fmt.Errorf("%s: got %d of %d bytes: %w", op, cw.n, total, ErrTruncated)
	}
	return d, nil
}

// copyBufs holds the buffers stream copies bodies with: io.Copy would
// allocate 32 KiB per download (a sync of 3,000 files allocated 117 MB so).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// countWriter counts bytes, reports progress and remembers a write error so
// that it is not mistaken for a network failure.
type countWriter struct {
	w        io.Writer
	n, total int64
	base     int64 // bytes held before this body (a resumed download)
	progress func(done, total int64)
	err      error
}

func (cw *countWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	if err != nil {
		cw.err = err
	}
	if cw.progress != nil && n > 0 {
		cw.progress(cw.base+cw.n, cw.total)
	}
	return n, err
}

// maxIdlePerHost is how many idle connections the default client keeps
// per host: more than a sync's requests in flight at its largest
// --concurrency default (8 downloads and 8 metadata requests).
const maxIdlePerHost = 64

// contentRangeStart reads the first byte position of a Content-Range header
// ("bytes START-END/TOTAL").
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	return n, err == nil && n >= 0
}

// contentRangeTotal reads the complete length of a Content-Range header
// ("bytes START-END/TOTAL" or "bytes */TOTAL").
func contentRangeTotal(h string) (int64, bool) {
	_, total, ok := strings.Cut(h, "/")
	if !ok || !strings.HasPrefix(h, "bytes ") {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil && n >= 0
}

// requestFailed sorts out a request that got no answer: fatal is returned
// as is (the caller's context ended, too many silent servers, a refused
// redirect); otherwise next is the error to retry after.
func (c *Client) requestFailed(ctx context.Context, op string, err error, watch *idleWatch, last error, timeouts *int) (next, fatal error) {
	switch {
	case ctx.Err() != nil:
		return nil, ctxError(op, ctx.Err(), last)
	case watch.timedOut():
		next = fmt.Errorf("%s: %w", op, idleError(c.idleTimeout, 0))
		*timeouts++
		if *timeouts >= maxTimeouts {
			return nil, next
		}
		return next, nil
	case errors.Is(err, ErrRedirect):
		return nil, fmt.Errorf("%s: %w", op, redactErr(err))
	}
	return fmt.Errorf("%s: %w", op, redactErr(err)), nil
}
