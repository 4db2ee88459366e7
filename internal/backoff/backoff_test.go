package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestExponential(t *testing.T) {
	ceiling := func(k int64) int64 { return k - 1 }
	floor := func(int64) int64 { return 0 }
	cases := []struct {
		name        string
		n           int
		base, limit time.Duration
		jitter      func(int64) int64
		want        time.Duration
	}{
		{"first retry at the ceiling", 1, 100 * time.Millisecond, time.Second, ceiling, 100 * time.Millisecond},
		{"doubles", 3, 100 * time.Millisecond, time.Second, ceiling, 400 * time.Millisecond},
		{"capped", 6, 100 * time.Millisecond, time.Second, ceiling, time.Second},
		{"large n stays capped", 1000, 100 * time.Millisecond, time.Second, ceiling, time.Second},
		{"full jitter floor", 3, 100 * time.Millisecond, time.Second, floor, 0},
		{"zero base", 2, 0, time.Second, ceiling, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Exponential(c.n, c.base, c.limit, c.jitter); got != c.want {
				t.Errorf("Exponential(%d, %v, %v) = %v, want %v", c.n, c.base, c.limit, got, c.want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	ceiling := func(k int64) int64 { return k - 1 }
	floor := func(int64) int64 { return 0 }
	cases := []struct {
		name   string
		n      int
		jitter func(int64) int64
		want   time.Duration
	}{
		{"first retry, floor: half the ceiling", 1, floor, 50 * time.Millisecond},
		{"first retry, ceiling", 1, ceiling, 100 * time.Millisecond},
		{"doubles", 3, floor, 200 * time.Millisecond},
		{"capped", 10, ceiling, time.Second},
		{"capped floor", 10, floor, 500 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Equal(c.n, 100*time.Millisecond, time.Second, c.jitter); got != c.want {
				t.Errorf("Equal(%d) = %v, want %v", c.n, got, c.want)
			}
		})
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v, want nil", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Errorf("Sleep(0) = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Sleep on a cancelled context took %v", d)
	}
	if err := Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(0) on a cancelled context = %v, want context.Canceled", err)
	}
}
