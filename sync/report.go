package sync

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	stdsync "sync"
	"time"

	"github.com/antimlabs/gizmo/internal/termtext"
)

// Reporter renders events. Its Event method is Options.OnEvent; Close stops
// any redrawing and leaves the output tidy.
type Reporter interface {
	Event(Event)
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

// NewReporter returns a Reporter writing to w. quiet keeps only failures and
// the summary (ReportLines and ReportTerminal); verbose adds skipped files
// and retries.
func NewReporter(w io.Writer, mode ReportMode, quiet, verbose bool) Reporter {
	switch mode {
	case ReportJSON:
		b := newBatched(w)
		return &jsonReporter{b: b, enc: json.NewEncoder(b)}
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
	mu    *stdsync.Mutex
	w     io.Writer
	buf   []byte
	timer *time.Timer
}

func newBatched(w io.Writer) *batched { return &batched{mu: new(stdsync.Mutex), w: w} }

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

func (j *jsonReporter) Event(e Event) {
	if e.Type == EventProgress || e.Type == EventQueued {
		return
	}
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	_ = j.enc.Encode(e)
	if e.Type == EventSummary {
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

func (l *lineReporter) Event(e Event) {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	if s := itemLine(e, l.quiet, l.verbose); s != "" {
		l.b.Write(append([]byte(s), '\n'))
	}
	if e.Type == EventSummary {
		l.b.Write([]byte(SummaryText(e.Summary)))
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
func itemLine(e Event, quiet, verbose bool) string {
	return termtext.Clean(itemText(e, quiet, verbose))
}

func itemText(e Event, quiet, verbose bool) string {
	switch e.Type {
	case EventQueued, EventStart, EventProgress:
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
	case EventFail:
		if e.ID == "" {
			return "failed: " + e.Reason
		}
		return fmt.Sprintf("failed   %s: %s", what, e.Reason)
	}
	if quiet {
		return ""
	}
	switch e.Type {
	case EventDone:
		s := fmt.Sprintf("fetched  %s %s", what, FormatBytes(e.Size))
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
	case EventPlan:
		size := "size unknown"
		if e.Size > 0 {
			size = FormatBytes(e.Size)
		}
		return fmt.Sprintf("would fetch %s (%s)", what, size)
	case EventPending:
		return fmt.Sprintf("pending  %s: %s, %s", what, e.Status, e.Reason)
	case EventGenerationFailed:
		return fmt.Sprintf("generation failed %s: %s", what, e.Reason)
	case EventUnknownStatus:
		return fmt.Sprintf("unknown status %q %s: %s", e.Status, what, e.Reason)
	case EventVanished:
		return fmt.Sprintf("vanished %s: no longer in the account (gizmo sync --prune removes it from the cache)", what)
	case EventPruned:
		return fmt.Sprintf("pruned   %s", what)
	case EventSkip:
		if e.Reason != ReasonCached {
			return fmt.Sprintf("skipped  %s: %s", what, e.Reason)
		}
	}
	if !verbose {
		return ""
	}
	switch e.Type {
	case EventSkip:
		return fmt.Sprintf("skipped  %s: %s", what, e.Reason)
	case EventRetry:
		return fmt.Sprintf("retrying %s: %s", what, e.Reason)
	case EventListed:
		return fmt.Sprintf("listed   %d assets", e.Count)
	}
	return ""
}

// SummaryText is the closing summary as text: counts, bytes, time, and every
// failure with its reason (made safe for a terminal).
func SummaryText(s *Summary) string {
	if s == nil {
		return ""
	}
	return termtext.Lines(summaryText(s))
}

func summaryText(s *Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "assets: %d seen, %d ready, %d pending, %d generation failed", s.Seen, s.Ready, s.Pending, s.GenFailed)
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
			fmt.Fprintf(&b, " (%s known)", FormatBytes(s.PlannedBytes))
		}
		fmt.Fprintf(&b, ", %d already cached", s.Skipped)
	} else {
		fmt.Fprintf(&b, "files: %d new, %d already cached, %d failed", s.New, s.Skipped, s.Failed)
	}
	if s.NotOffered > 0 {
		fmt.Fprintf(&b, ", %d not offered", s.NotOffered)
	}
	fmt.Fprintf(&b, "; %s in %s", FormatBytes(s.Bytes), s.Duration.Round(time.Millisecond))
	if s.Duration > 0 && s.Bytes > 0 {
		fmt.Fprintf(&b, " (%s/s)", FormatBytes(int64(float64(s.Bytes)/s.Duration.Seconds())))
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

// FormatBytes prints a byte count with a binary unit.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// termReporter draws a live display on a terminal.
type termReporter struct {
	mu             stdsync.Mutex
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
	summary  *Summary

	done chan struct{}
	wg   stdsync.WaitGroup
}

type active struct {
	label       string
	done, total int64
	started     time.Time
}

// maxActiveLines bounds the per-download lines drawn.
const maxActiveLines = 8

func (t *termReporter) Event(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := e.ID + "\x00" + string(e.Format)
	switch e.Type {
	case EventListed:
		t.listed = true
	case EventQueued:
		t.planned = max(t.planned, e.Count)
	case EventStart:
		t.active[key] = &active{label: termtext.Clean(e.ID) + " " + e.Format.Short(), started: t.now()}
	case EventProgress:
		if a := t.active[key]; a != nil {
			a.done, a.total = e.Bytes, e.Size
		}
	case EventDone:
		if a := t.active[key]; a != nil {
			delete(t.active, key)
		}
		t.finished++
		t.bytes += e.Bytes
	case EventFail:
		if _, ok := t.active[key]; ok {
			delete(t.active, key)
			t.finished++
		}
	case EventSummary:
		t.summary = e.Summary
	}
	if e.Type == EventDone && !t.verbose && e.Valid != nil && *e.Valid {
		return // the bar shows it; only what needs attention scrolls
	}
	if e.Type == EventDone && !t.verbose && e.Valid == nil {
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
		bar(t.finished, t.planned, 30), t.finished, t.planned, FormatBytes(t.bytes+inflight), FormatBytes(int64(rate)), eta)}
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
			size = FormatBytes(a.total)
			if r > 0 {
				aeta = time.Duration(float64(a.total-a.done) / r * float64(time.Second)).Round(time.Second).String()
			}
		}
		lines = append(lines, fmt.Sprintf("  %-28s %9s / %-9s %9s/s  ETA %s", a.label, FormatBytes(a.done), size, FormatBytes(int64(r)), aeta))
	}
	return lines
}

// bar draws [#####-----] for done of total.
func bar(done, total, width int) string {
	n := 0
	if total > 0 {
		n = min(width, done*width/total)
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

func (t *termReporter) Close() {
	close(t.done)
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draw(false)
	if t.summary != nil {
		io.WriteString(t.w, SummaryText(t.summary))
	}
}
