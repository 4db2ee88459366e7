package agent

import (
	"context"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
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

// The sync's events keep /status's queue and downloads.
func TestSyncEventsFollowQueueAndDownloads(t *testing.T) {
	a := New(Config{}, Deps{})
	ev := func(typ gsync.EventType, id string, f formats.Format) {
		a.syncEvent(gsync.Event{Type: typ, ID: id, Format: f})
	}
	ev(gsync.EventQueued, "a", formats.MuJoCo)
	ev(gsync.EventQueued, "b", formats.MuJoCo)
	ev(gsync.EventQueued, "c", formats.MuJoCo)
	ev(gsync.EventStart, "a", formats.MuJoCo)
	ev(gsync.EventStart, "b", formats.MuJoCo)
	if s := a.Status(); s.Queue != 3 || len(s.Downloads) != 2 {
		t.Fatalf("queue %d, downloads %v; want 3 and 2", s.Queue, s.Downloads)
	}
	ev(gsync.EventDone, "a", formats.MuJoCo)
	ev(gsync.EventFail, "c", formats.MuJoCo) // failed before its download
	ev(gsync.EventFail, "z", "")             // an asset, not a queued file
	if s := a.Status(); s.Queue != 1 || len(s.Downloads) != 1 || s.Downloads[0] != "b mjcf" {
		t.Errorf("queue %d, downloads %v; want 1 and [b mjcf]", s.Queue, s.Downloads)
	}
}
