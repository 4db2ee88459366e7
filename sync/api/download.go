package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

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
