// Package backoff holds the retry timing shared by the API client and the
// sync engine: the capped exponential delay with full jitter, and a sleep
// that ends early when its context does.
package backoff

import (
	"context"
	"time"
)

// Exponential is the delay before retry n (1 for the first retry): full
// jitter, uniform in [0, min(limit, base·2^(n-1))]. jitter(k) must return a
// value uniform in [0, k) (rand.Int64N; tests pass a fixed one).
func Exponential(n int, base, limit time.Duration, jitter func(k int64) int64) time.Duration {
	ceil := base
	for i := 1; i < n && ceil < limit; i++ {
		ceil *= 2
	}
	ceil = min(ceil, limit)
	if ceil <= 0 {
		return 0
	}
	return time.Duration(jitter(int64(ceil) + 1))
}

// Equal is the delay before retry n (1 for the first retry) with equal
// jitter: half of min(limit, base·2^(n-1)) plus a uniform share of the other
// half. Unlike full jitter it never comes near zero, so that a bounded
// number of retries also bounds the request rate: what a loop retrying one
// file or polling one asset uses. jitter is as for Exponential.
func Equal(n int, base, limit time.Duration, jitter func(k int64) int64) time.Duration {
	ceil := Exponential(n, base, limit, func(k int64) int64 { return k - 1 })
	half := ceil / 2
	return half + time.Duration(jitter(int64(ceil-half)+1))
}

// Sleep waits for d or until ctx is done, and returns ctx.Err() in the
// latter case. A d of zero or less returns ctx.Err() at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
