package ui

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/antimlabs/gizmo/internal/termtext"
)

// Table prints aligned columns.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table; headers may be empty for a headerless table.
func NewTable(w io.Writer, headers ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(headers) > 0 {
		t.Row(headers...)
	}
	return t
}

// Row adds one row; tabs and newlines in cells become spaces, and other
// control characters (terminal escapes in a name, say) are shown escaped.
func (t *Table) Row(cells ...string) {
	clean := make([]string, len(cells))
	for i, c := range cells {
		clean[i] = termtext.Clean(strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, c))
	}
	fmt.Fprintln(t.tw, strings.Join(clean, "\t"))
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

// OrDash is s, or "-" for an empty cell.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Truncate cuts s to n runes with an ellipsis.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
