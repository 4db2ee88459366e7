// Package locklog reads the lock logs that gizmo processes write under
// test (testhook's GIZMO_TEST_LOCK_LOG for waits, GIZMO_TEST_HOLD_LOG for
// holds) and tells how long each wait was spent on locks one process
// held: the proof that one process (the agent) never keeps another
// waiting long, measured by its own holds rather than by the waiter's
// wall clock.
package locklog

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Line is one wait or hold: the lock file, its mode ("shared" or
// "exclusive"), the process (its first argument and PID), when it started
// and how long it took.
type Line struct {
	Path, Mode, Command string
	PID                 int
	Start               time.Time
	Took                time.Duration
}

// End is when the wait or hold ended.
func (l Line) End() time.Time { return l.Start.Add(l.Took) }

// Read reads a lock log; a missing file is an empty log. Lines of another
// shape are skipped.
func Read(path string) ([]Line, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Line
	for _, line := range strings.Split(string(b), "\n") {
		if l, ok := parse(line); ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// parse reads "LOCK:MODE MILLISECONDS COMMAND PID START_UNIX_NANO PATH".
func parse(line string) (Line, bool) {
	f := strings.SplitN(line, " ", 6)
	if len(f) < 6 {
		return Line{}, false
	}
	i := strings.LastIndexByte(f[0], ':')
	ms, err1 := strconv.ParseFloat(f[1], 64)
	pid, err2 := strconv.Atoi(f[3])
	ns, err3 := strconv.ParseInt(f[4], 10, 64)
	if i < 0 || err1 != nil || err2 != nil || err3 != nil {
		return Line{}, false
	}
	return Line{Path: f[5], Mode: f[0][i+1:], Command: f[2], PID: pid,
		Start: time.Unix(0, ns), Took: time.Duration(ms * float64(time.Millisecond))}, true
}

// Blamed is a wait of another process and how much of it the holder held
// the lock against it.
type Blamed struct {
	Wait Line
	Held time.Duration // within the wait, under the holder's conflicting holds
}

// Blame returns, for every wait of a process other than pid, the time
// within the wait during which pid held the same lock file in a
// conflicting mode (an exclusive hold, or any hold against an exclusive
// wait); waits that pid never stood in the way of are left out. Held is
// at most the wait and at most pid's holds: a wait that a loaded machine
// stretches for other reasons does not count against pid.
func Blame(waits, holds []Line, pid int) []Blamed {
	byPath := map[string][]Line{}
	for _, h := range holds {
		if h.PID == pid {
			byPath[h.Path] = append(byPath[h.Path], h)
		}
	}
	var out []Blamed
	for _, w := range waits {
		if w.PID == pid {
			continue
		}
		var spans [][2]time.Time
		for _, h := range byPath[w.Path] {
			if w.Mode != "exclusive" && h.Mode != "exclusive" {
				continue
			}
			from, to := later(w.Start, h.Start), earlier(w.End(), h.End())
			if to.After(from) {
				spans = append(spans, [2]time.Time{from, to})
			}
		}
		if d := union(spans); d > 0 {
			out = append(out, Blamed{Wait: w, Held: d})
		}
	}
	return out
}

// union is the length of the union of the spans.
func union(spans [][2]time.Time) time.Duration {
	slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	var total time.Duration
	var cur [2]time.Time
	for i, s := range spans {
		switch {
		case i == 0:
			cur = s
		case !s[0].After(cur[1]):
			cur[1] = later(cur[1], s[1])
		default:
			total += cur[1].Sub(cur[0])
			cur = s
		}
	}
	if len(spans) > 0 {
		total += cur[1].Sub(cur[0])
	}
	return total
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Percentile is the p-th percentile (0 < p ≤ 100, nearest rank) of ds; 0
// when ds is empty.
func Percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*p+99)/100-1]
}
