package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

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
