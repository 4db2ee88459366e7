package validate

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/antimlabs/gizmo/internal/plural"
)

// MaxLine bounds a line WriteText prints, in bytes (past the message's
// own bound, a long file name or element path).
const MaxLine = 4096

// WriteText prints reports the way `gizmo validate` does: one line per
// problem, file:line:col: error|warning: message [rule], in file then
// position order, a note per thing not checked, then the summary line.
// quiet leaves out warnings and notes, and the summary when nothing failed.
// File names are shown relative to the working directory when they are
// below it. Control characters in names and messages are shown escaped
// (see Clean) and lines are cut at MaxLine bytes.
func WriteText(w io.Writer, reports []Report, quiet bool) error {
	var b strings.Builder
	for _, r := range reports {
		ps := append([]Problem(nil), r.Errors...)
		if !quiet {
			ps = append(ps, r.Warnings...)
		}
		for _, p := range ordered(ps) {
			b.WriteString(Cut(Clean(relative(p).String()), MaxLine) + "\n")
		}
		if quiet {
			continue
		}
		for _, n := range r.NotChecked {
			b.WriteString(Cut(Clean(fmt.Sprintf("%s: note: not checked: %s", relPath(r.Path), n)), MaxLine) + "\n")
		}
	}
	if s := Summarize(reports); !quiet || s.Errors > 0 {
		b.WriteString(s.String() + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ordered sorts problems by file (in order of first appearance), then line
// and column; problems without a line come first in their file.
func ordered(ps []Problem) []Problem {
	rank := map[string]int{}
	for _, p := range ps {
		if _, ok := rank[p.File]; !ok {
			rank[p.File] = len(rank)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if rank[a.File] != rank[b.File] {
			return rank[a.File] < rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return ps
}

// Summary counts a validation run.
type Summary struct {
	Files, FilesWithErrors, Errors, Warnings int
}

// Summarize counts reports.
func Summarize(reports []Report) Summary {
	var s Summary
	for _, r := range reports {
		s.Files++
		s.Errors += len(r.Errors)
		s.Warnings += len(r.Warnings)
		if len(r.Errors) > 0 {
			s.FilesWithErrors++
		}
	}
	return s
}

// String is the summary line: "3 files: 1 with errors (2 errors), 1 warning".
func (s Summary) String() string {
	out := plural.Count(s.Files, "file", "files") + ": "
	if s.FilesWithErrors > 0 {
		out += fmt.Sprintf("%d with errors (%s)", s.FilesWithErrors, plural.Count(s.Errors, "error", "errors"))
	} else {
		out += "no errors"
	}
	return out + ", " + plural.Count(s.Warnings, "warning", "warnings")
}

func relative(p Problem) Problem {
	p.File = relPath(p.File)
	return p
}

// relPath shows an absolute path relative to the working directory when it
// lies below it, as compilers do.
func relPath(path string) string {
	if !filepath.IsAbs(path) {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
