package api

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pacer spends the rate-limit budget the server announces (the
// X-RateLimit-Limit, -Remaining and -Reset headers) evenly over what is
// left of the window, so that a client with many workers never runs into
// a 429 while the headers come. It is shared by every goroutine of the
// Client. Without the headers it does nothing (the 429s and their
// Retry-After, through the rate gate, are then all there is).
//
// -Reset is read as seconds until the reset, or as the Unix time of the
// reset when it is that large; both are rounded up by the server, so the
// window the pacer sees ends at or after the server's.
type pacer struct {
	mu        sync.Mutex
	r         retrier
	known     bool      // a window is being paced
	limit     int       // requests per window
	remaining int       // what the client may still send in the window
	reset     time.Time // when the window resets
	next      time.Time // the earliest time the next request may go
}

func (p *pacer) init(r retrier) { p.r = r }

// resetMargin is waited beyond a window's reset before its first request
// (plus up to as much again in jitter, so waiting workers do not leave at
// the same instant).
const resetMargin = 50 * time.Millisecond

// wait blocks until the next request may go, and counts it.
func (p *pacer) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		now := p.r.now()
		if p.known && !now.Before(p.reset) {
			p.known = false // the window is over; the next answer opens one
		}
		if !p.known {
			p.mu.Unlock()
			return ctx.Err()
		}
		if p.remaining <= 0 {
			d := p.reset.Sub(now) + resetMargin + time.Duration(p.r.jitter(int64(resetMargin)))
			p.mu.Unlock()
			if err := p.r.sleep(ctx, d); err != nil {
				return err
			}
			continue
		}
		slot := now
		if p.next.After(slot) {
			slot = p.next
		}
		interval := max(p.reset.Sub(slot), 0) / time.Duration(p.remaining)
		p.next = slot.Add(interval)
		p.remaining--
		p.mu.Unlock()
		return p.r.sleep(ctx, slot.Sub(now))
	}
}

// observe reads a response's rate-limit headers.
func (p *pacer) observe(resp *http.Response) {
	limit, okL := headerInt(resp.Header, "X-RateLimit-Limit")
	rem, okR := headerInt(resp.Header, "X-RateLimit-Remaining")
	rst, okT := headerFloat(resp.Header, "X-RateLimit-Reset")
	if !okR || !okT {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.r.now()
	var reset time.Time
	if rst > 1e9 { // a Unix time
		reset = time.Unix(0, int64(rst*1e9))
	} else {
		reset = now.Add(time.Duration(math.Ceil(rst * float64(time.Second))))
	}
	if okL {
		p.limit = limit
	}
	sameWindow := p.known && reset.Sub(p.reset) < time.Second && p.reset.Sub(reset) < time.Second
	switch {
	case sameWindow:
		p.remaining = min(p.remaining, rem)
		if reset.After(p.reset) {
			p.reset = reset
		}
	case !p.known || reset.After(p.reset):
		// A new window (or the first one seen).
		p.known, p.remaining, p.reset = true, rem, reset
		if p.next.After(now) {
			p.next = now
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		p.remaining = 0
	}
}

// Pace reports what the client knows of the rate limit: requests per
// window, what is left, and when the window resets; ok is false before any
// answer carried the headers.
func (c *Client) Pace() (limit, remaining int, reset time.Time, ok bool) {
	p := &c.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limit, p.remaining, p.reset, p.known
}

func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func headerFloat(h http.Header, name string) (float64, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
