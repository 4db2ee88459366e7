package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/internal/plural"
	"github.com/antimlabs/gizmo/internal/termtext"
	gsync "github.com/antimlabs/gizmo/sync"
)

// Reporter renders the sync engine's events. Its Event method is the engine's Options.OnEvent; Close stops
// any redrawing and leaves the output tidy.
type Reporter interface {
	Event(gsync.Event)
	Close()
}

// ReportMode selects how a Reporter renders.
type ReportMode int

// The report modes.
const (
	// ReportLines writes one line per finished item (fetched, failed,
	// pending, vanished...) and a closing summary: for logs and pipes.
	ReportLines ReportMode = iota
	// ReportTerminal draws an overall bar and one line per active download
	// (bytes, rate, ETA), redrawn in place, above which finished items
	// scroll.
	ReportTerminal
	// ReportJSON writes one JSON object per event and per line (progress
	// events left out).
	ReportJSON
)

// NewSyncReporter returns a Reporter writing to w. quiet keeps only failures and
// the summary (ReportLines and ReportTerminal); verbose adds skipped files
// and retries.
func NewSyncReporter(w io.Writer, mode ReportMode, quiet, verbose bool) Reporter {
	switch mode {
	case ReportJSON:
		b := newBatched(w)
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false) // as every --json output: names keep their < > &
		return &jsonReporter{b: b, enc: enc}
	case ReportTerminal:
		t := &termReporter{w: w, quiet: quiet, verbose: verbose, active: map[string]*active{}, done: make(chan struct{}), now: time.Now}
		t.start = t.now()
		t.wg.Add(1)
		go t.loop()
		return t
	}
	return &lineReporter{b: newBatched(w), quiet: quiet, verbose: verbose}
}

// batchDelay is how long a reporter's line may wait in its buffer: a sync
// finishes hundreds of files a second, and one write(2) per line was a
// tenth of its output's cost in system calls.
const batchDelay = 100 * time.Millisecond

// batched buffers the lines of a reporter and writes them at most
// batchDelay after the first of them, at the summary, and at Close.
// Callers serialise Write and flush with the reporter's mutex (mu), which
// the timer takes too.
type batched struct {
	mu    *sync.Mutex
	w     io.Writer
	buf   []byte
	timer *time.Timer
}

func newBatched(w io.Writer) *batched { return &batched{mu: new(sync.Mutex), w: w} }

// Write keeps p for the next flush. Callers hold mu.
func (b *batched) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if b.timer == nil {
		b.timer = time.AfterFunc(batchDelay, func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.flush()
		})
	}
	return len(p), nil
}

// flush writes what is kept. Callers hold mu.
func (b *batched) flush() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf) // the output is gone (a closed pipe): nothing to tell it with
		b.buf = b.buf[:0]
	}
}

type jsonReporter struct {
	b   *batched
	enc *json.Encoder
}

func (j *jsonReporter) Event(e gsync.Event) {
	if e.Type == gsync.EventProgress || e.Type == gsync.EventQueued {
		return
	}
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	_ = j.enc.Encode(e)
	if e.Type == gsync.EventSummary {
		j.b.flush()
	}
}

func (j *jsonReporter) Close() {
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	j.b.flush()
}

// lineReporter writes one line per finished item.
type lineReporter struct {
	b              *batched
	quiet, verbose bool
}

func (l *lineReporter) Event(e gsync.Event) {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	if s := itemLine(e, l.quiet, l.verbose); s != "" {
		l.b.Write(append([]byte(s), '\n'))
	}
	if e.Type == gsync.EventSummary {
		l.b.Write([]byte(SyncSummary(e.Summary)))
		l.b.flush()
	}
}

func (l *lineReporter) Close() {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	l.b.flush()
}

// itemLine is the log line of a finished item, or "" for events that do not
// get one. What the server named (ids, names, reasons) is made safe for a
// terminal: escape sequences are shown, not obeyed.
func itemLine(e gsync.Event, quiet, verbose bool) string {
	return termtext.Clean(itemText(e, quiet, verbose))
}

func itemText(e gsync.Event, quiet, verbose bool) string {
	switch e.Type {
	case gsync.EventQueued, gsync.EventStart, gsync.EventProgress:
		return "" // several per file, never a line: spare them the formatting
	}
	what := e.ID
	if e.Format != "" {
		what += " " + string(e.Format)
	}
	if e.Name != "" {
		what += fmt.Sprintf(" (%s)", e.Name)
	}
	switch e.Type {
	case gsync.EventFail:
		if e.ID == "" {
			return "failed: " + e.Reason
		}
		return fmt.Sprintf("failed   %s: %s", what, e.Reason)
	}
	if quiet {
		return ""
	}
	switch e.Type {
	case gsync.EventDone:
		s := fmt.Sprintf("fetched  %s %s", what, Bytes(e.Size))
		if e.Valid != nil {
			if *e.Valid {
				s += ", valid"
			} else {
				s += ", INVALID"
			}
		}
		if e.Reason != "" {
			s += ": " + e.Reason
		}
		return s
	case gsync.EventPlan:
		// The size only where known: listings do not give it.
		var why []string
		if e.Reason != "" {
			why = append(why, e.Reason)
		}
		if e.Size > 0 {
			why = append(why, Bytes(e.Size))
		}
		if len(why) == 0 {
			return "would fetch " + what
		}
		return fmt.Sprintf("would fetch %s: %s", what, strings.Join(why, ", "))
	case gsync.EventPending:
		return fmt.Sprintf("pending  %s: %s, %s", what, e.Status, e.Reason)
	case gsync.EventGenerationFailed:
		return fmt.Sprintf("generation failed %s: %s", what, e.Reason)
	case gsync.EventUnknownStatus:
		return fmt.Sprintf("unknown status %q %s: %s", e.Status, what, e.Reason)
	case gsync.EventVanished:
		return fmt.Sprintf("vanished %s: no longer in the account (gizmo sync --prune removes it from the cache)", what)
	case gsync.EventPruned:
		return fmt.Sprintf("pruned   %s", what)
	case gsync.EventSkip:
		if e.Reason != gsync.ReasonCached {
			return fmt.Sprintf("skipped  %s: %s", what, e.Reason)
		}
	}
	if !verbose {
		return ""
	}
	switch e.Type {
	case gsync.EventSkip:
		return fmt.Sprintf("skipped  %s: %s", what, e.Reason)
	case gsync.EventRetry:
		return fmt.Sprintf("retrying %s: %s", what, e.Reason)
	case gsync.EventListed:
		return fmt.Sprintf("listed   %d assets", e.Count)
	}
	return ""
}

// SyncSummary is the closing summary as text: counts, bytes, time, and every
// failure with its reason (made safe for a terminal).
func SyncSummary(s *gsync.Summary) string {
	if s == nil {
		return ""
	}
	return termtext.Lines(summaryText(s))
}

func summaryText(s *gsync.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "assets: %d seen", s.Seen)
	if s.Scenes > 0 {
		fmt.Fprintf(&b, " and %s", plural.Count(s.Scenes, "scene", "scenes"))
	}
	fmt.Fprintf(&b, ", %d ready, %d pending, %d generation failed", s.Ready, s.Pending, s.GenFailed)
	if s.Vanished > 0 {
		fmt.Fprintf(&b, ", %d vanished", s.Vanished)
		if s.Pruned > 0 {
			fmt.Fprintf(&b, " (%d pruned)", s.Pruned)
		}
	}
	b.WriteString("\n")
	if s.Planned > 0 {
		fmt.Fprintf(&b, "files: %d would be fetched", s.Planned)
		if s.PlannedBytes > 0 {
			fmt.Fprintf(&b, " (%s known)", Bytes(s.PlannedBytes))
		}
		fmt.Fprintf(&b, ", %d already cached", s.Skipped)
	} else {
		fmt.Fprintf(&b, "files: %d new, %d already cached, %d failed", s.New, s.Skipped, s.Failed)
	}
	if s.NotOffered > 0 {
		fmt.Fprintf(&b, ", %d not offered", s.NotOffered)
	}
	fmt.Fprintf(&b, "; %s in %s", Bytes(s.Bytes), s.Duration.Round(time.Millisecond))
	if s.Duration > 0 && s.Bytes > 0 {
		fmt.Fprintf(&b, " (%s/s)", Bytes(int64(float64(s.Bytes)/s.Duration.Seconds())))
	}
	b.WriteString("\n")
	if s.UnknownFormat > 0 {
		var names []string
		for _, f := range s.UnknownFormats {
			names = append(names, string(f))
		}
		files, it := "files", "them"
		if s.UnknownFormat == 1 {
			files, it = "file", "it"
		}
		fmt.Fprintf(&b, "note: %d %s in a format gizmo does not check or place (%s) not mirrored: name %s with --format %s to mirror %s\n",
			s.UnknownFormat, files, strings.Join(names, ", "), it, names[0], it)
	}
	if !s.Complete && s.Seen > 0 {
		b.WriteString("note: the listing changed or stopped while it was read; vanished assets were not marked\n")
	}
	if len(s.Failures) > 0 {
		fmt.Fprintf(&b, "%d failed:\n", len(s.Failures))
		for _, f := range s.Failures {
			switch {
			case f.ID == "":
				fmt.Fprintf(&b, "  %s\n", f.Reason)
			case f.Format == "":
				fmt.Fprintf(&b, "  %s: %s\n", f.ID, f.Reason)
			default:
				fmt.Fprintf(&b, "  %s %s: %s\n", f.ID, f.Format, f.Reason)
			}
		}
		b.WriteString("run gizmo sync again to retry them\n")
	}
	return b.String()
}

// termReporter draws a live display on a terminal.
type termReporter struct {
	mu             sync.Mutex
	w              io.Writer
	quiet, verbose bool
	now            func() time.Time
	start          time.Time

	active   map[string]*active // by id NUL format
	queued   []string           // finished-item lines not yet printed
	drawn    int                // lines of the live display on screen
	listed   bool
	planned  int // files known to fetch
	finished int // files done or failed
	bytes    int64
	summary  *gsync.Summary

	done chan struct{}
	wg   sync.WaitGroup
}

type active struct {
	label       string
	done, total int64
	started     time.Time
}

// maxActiveLines bounds the per-download lines drawn.
const maxActiveLines = 8

func (t *termReporter) Event(e gsync.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := e.ID + "\x00" + string(e.Format)
	switch e.Type {
	case gsync.EventListed:
		t.listed = true
	case gsync.EventQueued:
		t.planned = max(t.planned, e.Count)
	case gsync.EventStart:
		t.active[key] = &active{label: termtext.Clean(e.ID) + " " + e.Format.Short(), started: t.now()}
	case gsync.EventProgress:
		if a := t.active[key]; a != nil {
			a.done, a.total = e.Bytes, e.Size
		}
	case gsync.EventDone:
		if a := t.active[key]; a != nil {
			delete(t.active, key)
		}
		t.finished++
		t.bytes += e.Bytes
	case gsync.EventFail:
		if _, ok := t.active[key]; ok {
			delete(t.active, key)
			t.finished++
		}
	case gsync.EventSummary:
		t.summary = e.Summary
	}
	if e.Type == gsync.EventDone && !t.verbose && e.Valid != nil && *e.Valid {
		return // the bar shows it; only what needs attention scrolls
	}
	if e.Type == gsync.EventDone && !t.verbose && e.Valid == nil {
		return
	}
	if s := itemLine(e, t.quiet, t.verbose); s != "" {
		t.queued = append(t.queued, s)
	}
}

func (t *termReporter) loop() {
	defer t.wg.Done()
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-t.done:
			return
		case <-tick.C:
			t.mu.Lock()
			t.draw(true)
			t.mu.Unlock()
		}
	}
}

// draw erases the live display, prints queued lines, and draws the display
// again when live.
func (t *termReporter) draw(live bool) {
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dF\x1b[J", t.drawn) // to the display's first line, erase below
	}
	for _, s := range t.queued {
		b.WriteString(s)
		b.WriteString("\n")
	}
	t.queued = t.queued[:0]
	t.drawn = 0
	if live {
		lines := t.display()
		for _, s := range lines {
			b.WriteString("\x1b[2K")
			b.WriteString(s)
			b.WriteString("\n")
		}
		t.drawn = len(lines)
	}
	io.WriteString(t.w, b.String())
}

// display is the overall bar and one line per active download.
func (t *termReporter) display() []string {
	el := t.now().Sub(t.start)
	if !t.listed {
		return []string{fmt.Sprintf("listing assets... %s", el.Round(time.Second))}
	}
	rate := 0.0
	if el > 0 {
		rate = float64(t.bytes) / el.Seconds()
	}
	var inflight int64
	for _, a := range t.active {
		inflight += a.done
	}
	rate = max(rate, float64(t.bytes+inflight)/max(el.Seconds(), 1e-3))
	eta := "--"
	if t.finished > 0 && t.planned > t.finished {
		per := el / time.Duration(t.finished)
		eta = (per * time.Duration(t.planned-t.finished)).Round(time.Second).String()
	}
	lines := []string{fmt.Sprintf("%s %d/%d files  %s  %s/s  ETA %s",
		Bar(int64(t.finished), int64(t.planned), 30), t.finished, t.planned, Bytes(t.bytes+inflight), Bytes(int64(rate)), eta)}
	keys := make([]string, 0, len(t.active))
	for k := range t.active {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i == maxActiveLines {
			lines = append(lines, fmt.Sprintf("  ... and %d more", len(keys)-i))
			break
		}
		a := t.active[k]
		d := t.now().Sub(a.started)
		r := 0.0
		if d > 0 {
			r = float64(a.done) / d.Seconds()
		}
		size, aeta := "?", "--"
		if a.total > 0 {
			size = Bytes(a.total)
			if r > 0 {
				aeta = time.Duration(float64(a.total-a.done) / r * float64(time.Second)).Round(time.Second).String()
			}
		}
		lines = append(lines, fmt.Sprintf("  %-28s %9s / %-9s %9s/s  ETA %s", a.label, Bytes(a.done), size, Bytes(int64(r)), aeta))
	}
	return lines
}

func (t *termReporter) Close() {
	close(t.done)
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draw(false)
	if t.summary != nil {
		io.WriteString(t.w, SyncSummary(t.summary))
	}
}
