package sync

import (
	"cmp"
	"context"
	"slices"
	"strings"
	stdsync "sync"
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// tally is what a Run or a Fetch reports: the summary it adds up and the
// events it sends, one at a time, to Options.OnEvent.
type tally struct {
	onEvent func(Event)
	now     func() time.Time

	mu  stdsync.Mutex // guards sum and serializes onEvent
	sum Summary
}

func newTally(opts Options) *tally {
	return &tally{onEvent: opts.OnEvent, now: opts.Now}
}

// count changes the summary.
func (t *tally) count(f func(*Summary)) {
	t.mu.Lock()
	f(&t.sum)
	t.mu.Unlock()
}

// emit sends e to OnEvent, stamped with the time when it has none.
func (t *tally) emit(e Event) {
	if t.onEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = t.now()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.onEvent(e)
}

// fail lists a failed file (or asset, or listing) in the summary.
func (t *tally) fail(id string, f formats.Format, reason string) {
	t.count(func(s *Summary) {
		s.Failed++
		s.Failures = append(s.Failures, Failure{ID: id, Format: f, Reason: reason})
	})
	t.emit(Event{Type: EventFail, ID: id, Format: f, Reason: reason})
}

// finish completes the summary of a run that started at start and ended
// with err, and reports it.
func (t *tally) finish(ctx context.Context, start time.Time, err error) (*Summary, error) {
	t.mu.Lock()
	t.sum.Duration = t.now().Sub(start)
	sum := t.sum
	sum.Failures = slices.Clone(t.sum.Failures)
	t.mu.Unlock()
	slices.SortFunc(sum.Failures, func(a, b Failure) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(string(a.Format), string(b.Format)))
	})
	if err == nil || ctx.Err() != nil {
		// Interrupted runs say what they finished too.
		t.emit(Event{Type: EventSummary, Summary: &sum})
	}
	return &sum, err
}
