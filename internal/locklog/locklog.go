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
// "exclusive"), the key it was for when one lock file serves many ("" for
// a hold of the file itself), the process (its first argument and PID),
// when it started and how long it took.
type Line struct {
	Path, Mode, Key, Command string
	PID                      int
	Start                    time.Time
	Took                     time.Duration
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

// parse reads "LOCK:MODE MILLISECONDS COMMAND PID START_UNIX_NANO KEY PATH".
func parse(line string) (Line, bool) {
	f := strings.SplitN(line, " ", 7)
	if len(f) < 7 {
		return Line{}, false
	}
	key := f[5]
	if key == "-" {
		key = ""
	}
	i := strings.LastIndexByte(f[0], ':')
	ms, err1 := strconv.ParseFloat(f[1], 64)
	pid, err2 := strconv.Atoi(f[3])
	ns, err3 := strconv.ParseInt(f[4], 10, 64)
	if i < 0 || err1 != nil || err2 != nil || err3 != nil {
		return Line{}, false
	}
	return Line{Path: f[6], Mode: f[0][i+1:], Key: key, Command: f[2], PID: pid,
		Start: time.Unix(0, ns), Took: time.Duration(ms * float64(time.Millisecond))}, true
}

// Blamed is a wait of another process and how much of it the holder held
// the lock against it.
type Blamed struct {
	Wait Line
	// Held is the time within the wait under the holder's conflicting
	// holds, but for SameKey.
	Held time.Duration
	// SameKey is the time within the wait during which the holder held
	// the very key the wait was for (storing the same file): the wait
	// stands for the work the waiter would otherwise do itself.
	SameKey time.Duration
}

// Blame returns, for every wait of a process other than pid, the time
// within the wait during which pid held the same lock file in a
// conflicting mode (an exclusive hold, or any hold against an exclusive
// wait), split into the time pid held the key the wait was for and the
// rest; waits that pid never stood in the way of are left out. Both are
// at most the wait and at most pid's holds: a wait that a loaded machine
// stretches for other reasons does not count against pid.
func Blame(waits, holds []Line, pid int) []Blamed {
	files := map[string][]Line{} // holds of lock files, by path
	keys := map[string][]Line{}  // holds of keys, by path and key
	for _, h := range holds {
		switch {
		case h.PID != pid:
		case h.Key == "":
			files[h.Path] = append(files[h.Path], h)
		default:
			keys[h.Path+"\x00"+h.Key] = append(keys[h.Path+"\x00"+h.Key], h)
		}
	}
	var out []Blamed
	for _, w := range waits {
		if w.PID == pid {
			continue
		}
		var held []span
		for _, h := range files[w.Path] {
			if w.Mode == "exclusive" || h.Mode == "exclusive" {
				held = append(held, span{h.Start, h.End()})
			}
		}
		held = clip(merge(held), w.Start, w.End())
		var same []span
		if w.Key != "" {
			for _, h := range keys[w.Path+"\x00"+w.Key] {
				same = append(same, span{h.Start, h.End()})
			}
		}
		sameKey := length(intersect(held, merge(same)))
		if all := length(held); all > 0 {
			out = append(out, Blamed{Wait: w, Held: all - sameKey, SameKey: sameKey})
		}
	}
	return out
}

type span struct{ from, to time.Time }

// merge sorts spans and joins those that overlap.
func merge(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 && !s.from.After(out[n-1].to) {
			out[n-1].to = later(out[n-1].to, s.to)
			continue
		}
		out = append(out, s)
	}
	return out
}

// clip keeps the parts of merged spans between from and to.
func clip(spans []span, from, to time.Time) []span {
	var out []span
	for _, s := range spans {
		if s = (span{later(s.from, from), earlier(s.to, to)}); s.to.After(s.from) {
			out = append(out, s)
		}
	}
	return out
}

// intersect is the overlap of two lists of merged spans.
func intersect(a, b []span) []span {
	var out []span
	for _, x := range a {
		out = append(out, clip(b, x.from, x.to)...)
	}
	return out
}

func length(spans []span) time.Duration {
	var d time.Duration
	for _, s := range spans {
		d += s.to.Sub(s.from)
	}
	return d
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
