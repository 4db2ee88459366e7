package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/testbuf"
	"github.com/antimlabs/gizmo/sync/api"
)

// loopHarness runs a Loop on a fake clock. Each pass returns the next
// scripted error; the test reads every delay the loop waits.
type loopHarness struct {
	t      *testing.T
	clk    *fakeClock
	loop   *Loop
	logs   *testbuf.Buffer
	errs   chan error
	passes chan time.Time
	stop   func()
	done   chan error
}

func newLoopHarness(t *testing.T, l *Loop) *loopHarness {
	h := &loopHarness{t: t, clk: newFakeClock(), loop: l, logs: &testbuf.Buffer{},
		errs: make(chan error), passes: make(chan time.Time, 100), done: make(chan error, 1)}
	l.Clock = h.clk
	l.Log = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	l.Pass = func(ctx context.Context) error {
		h.passes <- h.clk.Now()
		select {
		case err := <-h.errs:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { h.done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-h.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	return h
}

// pass lets the running pass end with err and returns the delay the loop
// then waits.
func (h *loopHarness) pass(err error) time.Duration {
	h.t.Helper()
	select {
	case <-h.passes:
	case <-time.After(10 * time.Second):
		h.t.Fatal("no pass started")
	}
	h.errs <- err
	select {
	case d := <-h.clk.created:
		return d
	case <-time.After(10 * time.Second):
		h.t.Fatal("the loop set no timer after a pass")
	}
	return 0
}

// wait advances the fake clock by d, firing the loop's timer.
func (h *loopHarness) wait(d time.Duration) { h.clk.Advance(d) }

func TestLoopInterval(t *testing.T) {
	const interval = 100 * time.Second
	cases := []struct {
		name string
		rand func(int64) int64
		want time.Duration
	}{
		{"jitter at its floor", func(int64) int64 { return 0 }, 90 * time.Second},
		{"jitter at its ceiling", func(n int64) int64 { return n - 1 }, 110 * time.Second},
		{"jitter in the middle", func(n int64) int64 { return n / 2 }, interval},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newLoopHarness(t, &Loop{Interval: interval, Rand: c.rand})
			for range 3 {
				if d := h.pass(nil); d != c.want {
					t.Fatalf("delay after a good pass = %v, want %v", d, c.want)
				}
				h.wait(c.want)
			}
		})
	}
}

func TestLoopJitterBounds(t *testing.T) {
	const interval = 10 * time.Second
	h := newLoopHarness(t, &Loop{Interval: interval})
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for range 300 {
		d := h.pass(nil)
		if d < 9*time.Second || d > 11*time.Second {
			t.Fatalf("delay %v is outside interval ±10%% (9s..11s)", d)
		}
		lo, hi = min(lo, d), max(hi, d)
		h.wait(d)
	}
	// 300 uniform draws over 2 s: both ends of the range are reached to
	// within a tenth of a second, unless the jitter is not applied.
	if lo > 9100*time.Millisecond || hi < 10900*time.Millisecond {
		t.Errorf("300 delays spread over %v..%v only, want about 9s..11s", lo, hi)
	}
}

func TestLoopBackoffCapAndRecovery(t *testing.T) {
	const (
		base     = 2 * time.Second
		maxDelay = 60 * time.Second
		interval = 5 * time.Minute
	)
	ceil := func(k int64) int64 { return k - 1 }
	h := newLoopHarness(t, &Loop{Interval: interval, BaseBackoff: base, MaxBackoff: maxDelay, Rand: ceil})
	down := errors.New("list assets: dial tcp 127.0.0.1:9: connection refused")
	want := []time.Duration{2, 4, 8, 16, 32, 60, 60, 60}
	var waited time.Duration
	for i, w := range want {
		d := h.pass(down)
		if d != w*time.Second {
			t.Fatalf("failure %d: delay %v, want %v (doubling from %v, capped at %v)", i+1, d, w*time.Second, base, maxDelay)
		}
		waited += d
		h.wait(d)
	}
	if n := strings.Count(h.logs.String(), "sync failed"); n != 1 {
		t.Errorf("the same error %d times was logged %d times, want once:\n%s", len(want), n, h.logs)
	}

	// A different error is news: logged once more.
	h.wait(h.pass(errors.New("list assets: HTTP 503 server_error")))
	if n := strings.Count(h.logs.String(), "level=ERROR"); n != 2 {
		t.Errorf("a new error: %d error lines, want 2:\n%s", n, h.logs)
	}

	// Recovery: logged once, with how long it was down; then the interval.
	if d := h.pass(nil); d != interval+interval/10 {
		t.Errorf("delay after recovery = %v, want the interval (with this jitter %v)", d, interval+interval/10)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "sync recovered") || !strings.Contains(logs, "failed_passes=9") {
		t.Errorf("no recovery line naming the 9 failed passes:\n%s", logs)
	}
	if !strings.Contains(logs, fmt.Sprintf("down_for=%v", waited+60*time.Second)) {
		t.Errorf("the recovery line does not say it was down for %v:\n%s", waited+60*time.Second, logs)
	}
}

func TestLoopBackoffJitter(t *testing.T) {
	h := newLoopHarness(t, &Loop{BaseBackoff: 8 * time.Second, MaxBackoff: 8 * time.Second})
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for range 200 {
		d := h.pass(errors.New("down"))
		if d < 4*time.Second || d > 8*time.Second {
			t.Fatalf("backoff %v outside the upper half of its 8s ceiling", d)
		}
		lo, hi = min(lo, d), max(hi, d)
		h.wait(d)
	}
	if hi-lo < 3*time.Second {
		t.Errorf("200 backoffs spread over %v..%v only: not jittered", lo, hi)
	}
}

func TestLoopRetryAfter(t *testing.T) {
	cases := []struct {
		name       string
		retryAfter time.Duration
		want       time.Duration
	}{
		{"longer than the backoff is honoured", 90 * time.Second, 90 * time.Second},
		{"shorter than the backoff changes nothing", time.Second, 2 * time.Second},
		{"absurd values are capped", 30 * time.Hour, MaxRetryAfter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newLoopHarness(t, &Loop{BaseBackoff: 2 * time.Second, Rand: func(k int64) int64 { return k - 1 }})
			err := fmt.Errorf("sync: %w", &api.Error{Op: "list assets", StatusCode: 429, RetryAfter: c.retryAfter})
			if d := h.pass(err); d != c.want {
				t.Errorf("delay = %v, want %v", d, c.want)
			}
		})
	}
}

func TestLoopTrigger(t *testing.T) {
	trigger := make(chan struct{})
	var scheduled []time.Time
	var mu sync.Mutex
	h := newLoopHarness(t, &Loop{Interval: time.Hour, Trigger: trigger, OnSchedule: func(next time.Time) {
		mu.Lock()
		scheduled = append(scheduled, next)
		mu.Unlock()
	}})
	start := h.clk.Now()
	h.pass(nil)
	trigger <- struct{}{}
	// The second pass runs without the clock moving.
	select {
	case at := <-h.passes:
		if !at.Equal(start) {
			t.Errorf("triggered pass ran at %v, want %v (no waiting)", at, start)
		}
		h.errs <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("a trigger did not start a pass")
	}
	<-h.clk.created
	mu.Lock()
	defer mu.Unlock()
	if len(scheduled) != 2 || scheduled[0].Sub(start) < 54*time.Minute || scheduled[0].Sub(start) > 66*time.Minute {
		t.Errorf("OnSchedule got %v, want two times about an hour after %v", scheduled, start)
	}
}
