package agent

import (
	"context"
	"testing"
	"time"
)

// A project's events are debounced: a check waits for DebounceQuiet
// without events, and at most DebounceMax after the first one.
func TestDebounce(t *testing.T) {
	cases := []struct {
		name  string
		every time.Duration // an event this often while waiting (0: none)
		want  time.Duration // when the check runs, after the first event
	}{
		{"a single event", 0, DebounceQuiet},
		{"a burst ends", 20 * time.Millisecond, DebounceMax},
		{"events slower than the quiet time", 80 * time.Millisecond, DebounceQuiet},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := newFakeClock()
			a := New(Config{}, Deps{Clock: clk})
			p := newProj(a, "/p")
			start := clk.Now()
			done := make(chan time.Time, 1)
			go func() {
				p.debounce(context.Background())
				done <- clk.Now()
			}()
			for {
				select {
				case at := <-done:
					if got := at.Sub(start); got != c.want {
						t.Errorf("check after %v, want %v", got, c.want)
					}
					return
				case d := <-clk.created:
					// The debouncer waits d: an event comes first, or
					// the time passes.
					if c.every > 0 && c.every < d {
						clk.Advance(c.every)
						p.wantCheck()
					} else {
						clk.Advance(d)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the debouncer neither waits nor returns")
				}
			}
		})
	}
}
