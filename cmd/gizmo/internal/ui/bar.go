package ui

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Bar draws [#####-----] for done of total, width cells wide.
func Bar(done, total int64, width int) string {
	n := 0
	if total > 0 {
		n = int(min(int64(width), max(done, 0)*int64(width)/total))
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

// ProgressBar draws one download's progress on a terminal line, at most
// ten times a second. A nil *ProgressBar does nothing.
type ProgressBar struct {
	w     io.Writer
	label string
	last  time.Time
}

// NewProgressBar returns a bar labelled label drawing on w when on is true,
// nil otherwise.
func NewProgressBar(w io.Writer, on bool, label string) *ProgressBar {
	if !on {
		return nil
	}
	return &ProgressBar{w: w, label: label}
}

// Update is a download progress callback: done bytes of total (0 when
// unknown).
func (p *ProgressBar) Update(done, total int64) {
	if p == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = now
	if total <= 0 {
		fmt.Fprintf(p.w, "\r\033[K%s  %s", p.label, Bytes(done))
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s  %s %3d%%  %s / %s", p.label, Bar(done, total, 30),
		done*100/total, Bytes(done), Bytes(total))
}

// End clears the bar's line.
func (p *ProgressBar) End() {
	if p == nil {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
}
