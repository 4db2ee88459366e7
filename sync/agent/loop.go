package agent

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/antimlabs/gizmo/internal/backoff"
	"github.com/antimlabs/gizmo/sync/api"
)

// Defaults of Loop.
const (
	DefaultInterval    = 5 * time.Minute
	DefaultBaseBackoff = 2 * time.Second
	DefaultMaxBackoff  = 5 * time.Minute
	// MaxRetryAfter bounds how long a server's Retry-After may hold the
	// loop back, so that a wrong header cannot park the agent for a day.
	MaxRetryAfter = time.Hour
	// JitterShare is the ± share of the interval the next pass moves by,
	// so that many agents started together do not call the API together.
	JitterShare = 0.10
)

// Loop runs Pass every Interval (± JitterShare), and sooner when Trigger
// fires. After a failed pass it waits a capped, jittered exponential backoff
// instead, or longer when the error carries the server's Retry-After. It
// logs an error once while it repeats, and logs when passes succeed again.
type Loop struct {
	Interval    time.Duration // DefaultInterval when 0
	BaseBackoff time.Duration // DefaultBaseBackoff when 0
	MaxBackoff  time.Duration // DefaultMaxBackoff when 0

	// Pass runs one pass; its error decides the next delay.
	Pass func(ctx context.Context) error
	// Trigger, when it receives, runs a pass now (POST /sync, a reload).
	Trigger <-chan struct{}
	// OnSchedule, when set, is told when the next pass is due.
	OnSchedule func(next time.Time)

	Clock Clock
	Log   *slog.Logger
	// Rand returns a value uniform in [0, n); rand.Int64N when nil.
	Rand func(n int64) int64

	failures  int       // consecutive failed passes
	failSince time.Time // when the first of them failed
	lastErr   string    // the error last logged
}

// Run runs passes until ctx ends; it returns ctx's error.
func (l *Loop) Run(ctx context.Context) error {
	l.defaults()
	for {
		err := l.Pass(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d := l.after(err)
		if l.OnSchedule != nil {
			l.OnSchedule(l.Clock.Now().Add(d))
		}
		t := l.Clock.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		case <-l.Trigger:
			t.Stop()
		}
	}
}

func (l *Loop) defaults() {
	if l.Interval <= 0 {
		l.Interval = DefaultInterval
	}
	if l.BaseBackoff <= 0 {
		l.BaseBackoff = DefaultBaseBackoff
	}
	if l.MaxBackoff <= 0 {
		l.MaxBackoff = DefaultMaxBackoff
	}
	if l.Clock == nil {
		l.Clock = RealClock{}
	}
	if l.Log == nil {
		l.Log = slog.New(slog.DiscardHandler)
	}
	if l.Rand == nil {
		l.Rand = rand.Int64N
	}
}

// after records a pass's outcome, logs what is new, and returns the delay
// before the next pass.
func (l *Loop) after(err error) time.Duration {
	now := l.Clock.Now()
	if err == nil {
		if l.failures > 0 {
			l.Log.Info("sync recovered", "failed_passes", l.failures, "down_for", now.Sub(l.failSince).Round(time.Second).String())
		}
		l.failures, l.lastErr = 0, ""
		return l.interval()
	}
	l.failures++
	if l.failures == 1 {
		l.failSince = now
	}
	d := l.backoff(err)
	if msg := err.Error(); msg != l.lastErr {
		l.lastErr = msg
		l.Log.Error("sync failed", "err", msg, "retry_in", d.Round(time.Millisecond).String(), "failed_passes", l.failures)
	} else {
		l.Log.Debug("sync failed again", "err", msg, "retry_in", d.Round(time.Millisecond).String(), "failed_passes", l.failures)
	}
	return d
}

// interval is Interval moved by up to ±JitterShare.
func (l *Loop) interval() time.Duration {
	span := int64(float64(l.Interval) * JitterShare)
	if span <= 0 {
		return l.Interval
	}
	return l.Interval - time.Duration(span) + time.Duration(l.Rand(2*span+1))
}

// backoff is the delay after the l.failures-th failed pass in a row: a
// ceiling that doubles from BaseBackoff up to MaxBackoff, jittered over its
// upper half (a pass never follows a failure at once), but never less than
// the server's Retry-After (itself at most MaxRetryAfter).
func (l *Loop) backoff(err error) time.Duration {
	ceil := backoff.Exponential(l.failures, l.BaseBackoff, l.MaxBackoff, func(k int64) int64 { return k - 1 })
	d := ceil/2 + time.Duration(l.Rand(int64(ceil/2)+1))
	if ra := retryAfter(err); ra > d {
		d = min(ra, MaxRetryAfter)
	}
	return d
}

// retryAfter is the Retry-After an API error carries, or 0.
func retryAfter(err error) time.Duration {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}
