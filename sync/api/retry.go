package api

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/internal/backoff"
)

// Retry defaults; Options overrides them.
const (
	DefaultMaxAttempts   = 6
	DefaultBaseBackoff   = 200 * time.Millisecond
	DefaultMaxBackoff    = 10 * time.Second
	DefaultMaxRetryAfter = 60 * time.Second
	DefaultPollInterval  = time.Second
	DefaultPollMax       = 10 * time.Second
)

// retrier holds the retry policy: how many attempts, the backoff curve, and
// how to sleep. Tests shrink the durations through Options; the clock and the
// jitter source are fields so the policy itself can be tested without waiting.
type retrier struct {
	attempts      int
	base, max     time.Duration
	maxRetryAfter time.Duration
	jitter        func(n int64) int64 // uniform in [0, n)
	sleep         func(ctx context.Context, d time.Duration) error
	now           func() time.Time
}

func newRetrier(o Options) retrier {
	r := retrier{
		attempts:      o.MaxAttempts,
		base:          o.BaseBackoff,
		max:           o.MaxBackoff,
		maxRetryAfter: o.MaxRetryAfter,
		jitter:        rand.Int64N,
		sleep:         backoff.Sleep,
		now:           time.Now,
	}
	if r.attempts <= 0 {
		r.attempts = DefaultMaxAttempts
	}
	if r.base <= 0 {
		r.base = DefaultBaseBackoff
	}
	if r.max <= 0 {
		r.max = DefaultMaxBackoff
	}
	if r.maxRetryAfter <= 0 {
		r.maxRetryAfter = DefaultMaxRetryAfter
	}
	if o.Clock != nil {
		r.now, r.sleep = o.Clock.Now, o.Clock.Sleep
	}
	return r
}

// backoff is the delay before retry number n (1 for the first retry): full
// jitter, uniform in [0, min(max, base·2^(n-1))].
func (r retrier) backoff(n int) time.Duration {
	return backoff.Exponential(n, r.base, r.max, r.jitter)
}

// after429 is the wait a 429 asks for before retry number n: its
// Retry-After (capped), or the backoff when the header is absent or garbled.
func (r retrier) after429(h http.Header, n int) time.Duration {
	if d, ok := r.retryAfter(h); ok {
		return d
	}
	return r.backoff(n)
}

// retryAfter reads a 429's Retry-After header (seconds or an HTTP date),
// capped at maxRetryAfter. ok is false when the header is absent or garbled.
func (r retrier) retryAfter(h http.Header) (d time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(secs * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(r.now()), 0)
	} else {
		return 0, false
	}
	return min(d, r.maxRetryAfter), true
}

// gate is the Client's shared rate gate: a 429 closes it until a moment, and
// every request of every goroutine waits for that moment before going out.
type gate struct {
	mu    sync.Mutex
	until time.Time
}

// hold closes the gate for d from now, unless it is already closed longer.
func (g *gate) hold(now time.Time, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t := now.Add(d); t.After(g.until) {
		g.until = t
	}
}

// wait blocks until the gate is open or ctx is done.
func (g *gate) wait(ctx context.Context, r retrier) error {
	for {
		g.mu.Lock()
		d := g.until.Sub(r.now())
		g.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		if err := r.sleep(ctx, d); err != nil {
			return err
		}
	}
}
