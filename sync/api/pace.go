package api

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// pacer spends the rate-limit budget the server announces (the
// X-RateLimit-Limit, -Remaining and -Reset headers) evenly over what is
// left of the window, so that a client with many workers never runs into
// a 429 while the headers come. It is shared by every goroutine of the
// Client and, with Options.Budget, by every process that shares the budget
// (the same API URL and key). Without the headers it does nothing (the
// 429s and their Retry-After, through the rate gate, are then all there
// is).
//
// -Reset is read as seconds until the reset, or as the Unix time of the
// reset when it is that large; the server rounds it up, so the window the
// pacer sees ends at or after the server's.
type pacer struct {
	mu     sync.Mutex
	r      retrier
	state  PaceState // this process's, when there is no shared budget
	budget Budget
	log    func(msg string, args ...any)
	// seen is set once an answer carried the headers: until then wait
	// costs nothing (no lock, no budget file), as against a server that
	// never sends them (the alpha generation).
	seen atomic.Bool
	// joined reads the shared budget once, at the first request: another
	// process may be pacing a window already.
	joined sync.Once
}

// Budget is a pacing state shared with other processes: Update runs f on
// it atomically with respect to every other holder (a locked file, say).
// When Update fails the client paces on its own.
type Budget interface {
	Update(ctx context.Context, f func(*PaceState)) error
}

// PaceState is what pacing knows of the current rate-limit window.
type PaceState struct {
	Known     bool      `json:"known"`     // a window is being paced
	Limit     int       `json:"limit"`     // requests per window
	Remaining int       `json:"remaining"` // what may still be sent in the window
	Reset     time.Time `json:"reset"`     // when the window resets
	Next      time.Time `json:"next"`      // the earliest time the next request may go
	// Window is the length of a window, as the first answer of one tells
	// it (the time to its reset), rounded to the second.
	Window time.Duration `json:"window"`
}

func (p *pacer) init(r retrier, b Budget, log func(string, ...any)) {
	p.r, p.budget, p.log = r, b, log
}

// resetMargin is waited beyond a window's reset before its first request
// (plus up to as much again in jitter, so waiting workers do not leave at
// the same instant).
const resetMargin = 50 * time.Millisecond

// reserve counts one request at now and says how long to wait before it
// goes; again is true when it must ask again after the wait (the window
// had nothing left).
func (s *PaceState) reserve(now time.Time, jitter func(int64) int64) (wait time.Duration, again bool) {
	if s.Known && !now.Before(s.Reset) {
		s.Known = false // the window is over; the next answer opens one
	}
	if !s.Known {
		return 0, false
	}
	if s.Remaining <= 0 {
		return s.Reset.Sub(now) + resetMargin + time.Duration(jitter(int64(resetMargin))), true
	}
	slot := now
	if s.Next.After(slot) {
		slot = s.Next
	}
	interval := max(s.Reset.Sub(slot), 0) / time.Duration(s.Remaining)
	s.Next = slot.Add(interval)
	s.Remaining--
	return slot.Sub(now), false
}

// observe takes in an answer's headers.
func (s *PaceState) observe(now time.Time, limit int, okLimit bool, rem int, reset time.Time, limited bool) {
	if okLimit {
		s.Limit = limit
	}
	sameWindow := s.Known && reset.Sub(s.Reset) < time.Second && s.Reset.Sub(reset) < time.Second
	switch {
	case sameWindow:
		s.Remaining = min(s.Remaining, rem)
		if reset.After(s.Reset) {
			s.Reset = reset
		}
	case !s.Known || reset.After(s.Reset):
		// A new window (or the first one seen).
		s.Known, s.Remaining, s.Reset = true, rem, reset
		if w := reset.Sub(now).Round(time.Second); w > s.Window {
			s.Window = w
		}
		if s.Next.After(now) {
			s.Next = now
		}
	}
	if limited {
		s.Remaining = 0
	}
}

// update runs f on the shared budget, or on this process's state when
// there is none or it fails.
func (p *pacer) update(ctx context.Context, f func(*PaceState)) {
	if p.budget != nil {
		if err := p.budget.Update(ctx, f); err == nil {
			return
		} else if ctx.Err() == nil && p.log != nil {
			p.log("gizmo api: the shared rate-limit budget is unusable; pacing this process alone", "error", err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.state)
}

// wait blocks until the next request may go, and counts it.
func (p *pacer) wait(ctx context.Context) error {
	if p.budget != nil && !p.seen.Load() {
		p.joined.Do(func() {
			now := p.r.now()
			_ = p.budget.Update(ctx, func(s *PaceState) {
				if s.Known && now.Before(s.Reset) {
					p.seen.Store(true)
				}
			})
		})
	}
	if !p.seen.Load() {
		return ctx.Err()
	}
	for {
		var d time.Duration
		var again bool
		p.update(ctx, func(s *PaceState) { d, again = s.reserve(p.r.now(), p.r.jitter) })
		if err := p.r.sleep(ctx, d); err != nil {
			return err
		}
		if !again {
			return ctx.Err()
		}
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
	p.seen.Store(true)
	now := p.r.now()
	var reset time.Time
	if rst > 1e9 { // a Unix time
		reset = time.Unix(0, int64(rst*1e9))
	} else {
		reset = now.Add(time.Duration(math.Ceil(rst * float64(time.Second))))
	}
	limited := resp.StatusCode == http.StatusTooManyRequests
	apply := func(s *PaceState) { s.observe(now, limit, okL, rem, reset, limited) }
	p.update(context.Background(), apply)
	if p.budget != nil {
		// Keep this process's view too, for Pace.
		p.mu.Lock()
		apply(&p.state)
		p.mu.Unlock()
	}
}

// Pace reports what the client knows of the rate limit: requests per
// window, what is left, and when the window resets; ok is false before any
// answer carried the headers.
func (c *Client) Pace() (limit, remaining int, reset time.Time, ok bool) {
	p := &c.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.Limit, p.state.Remaining, p.state.Reset, p.state.Known
}

// RateWindow reports the rate limit as the headers told it: requests per
// window, and the window's length; ok is false before any answer carried
// the headers.
func (c *Client) RateWindow() (limit int, window time.Duration, ok bool) {
	p := &c.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.Limit, p.state.Window, p.state.Known && p.state.Limit > 0 && p.state.Window > 0
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
