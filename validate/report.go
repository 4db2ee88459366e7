package validate

import (
	"fmt"
	"unicode/utf8"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/termtext"
)

// Severity says whether a problem makes a simulator fail (Error) or only
// misbehave (Warning). --strict turns warnings into errors.
type Severity string

// The severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Problem is one finding in one file.
type Problem struct {
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"`    // stable id, e.g. "urdf-joint-limit"
	Message  string   `json:"message"` // what is wrong and what to do
	File     string   `json:"file"`    // the file the problem is in (an included file, a zip entry)
	Line     int      `json:"line"`    // 1-based; 0 when unknown
	Col      int      `json:"col"`     // 1-based; 0 when unknown
	Element  string   `json:"element"` // element path, e.g. "/robot/joint[@name='j1']/limit"
	// Via is the chain that brought the element into the model, nearest
	// first, links joined by ", ": "included from main.xml:3", "attached
	// by <attach ...> at main.xml:7", "copy 2 of 3 ... made by <replicate>
	// at main.xml:5". Empty for an element written in the model file.
	Via string `json:"via,omitempty"`
	// First marks the error the reference loader (MuJoCo) would report:
	// it stops at one error, gizmo lists them all.
	First bool `json:"first,omitempty"`
}

// String formats the problem like a compiler: file:line:col: severity:
// message [rule], then the chain that brought the element in (Via) and the
// mark of the error the simulator reports first.
func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, p.Line)
		if p.Col > 0 {
			loc = fmt.Sprintf("%s:%d", loc, p.Col)
		}
	}
	out := fmt.Sprintf("%s: %s: %s [%s]", loc, p.Severity, p.Message, p.Rule)
	if p.Via != "" {
		out += " (" + p.Via + ")"
	}
	if p.First {
		out += " <- the simulator reports this error first"
	}
	return out
}

// Report is the result of validating one model file.
type Report struct {
	Path     string       `json:"path"`
	Format   formats.Kind `json:"format"`
	Valid    bool         `json:"valid"`
	Errors   []Problem    `json:"errors"`
	Warnings []Problem    `json:"warnings"`
	// NotChecked lists what gizmo could not check in this file (for example
	// the contents of a binary USD crate), so nothing passes by pretending.
	NotChecked []string `json:"not_checked,omitempty"`
}

// MaxMessage bounds a problem's message, in bytes: a longer one (a list
// of two million link names) is cut, saying how much was left out.
const MaxMessage = 2000

// Add files a problem under errors or warnings and keeps Valid current.
// A message over MaxMessage bytes is cut.
func (r *Report) Add(p Problem) {
	if p.File == "" {
		p.File = r.Path
	}
	p.Message = Cut(p.Message, MaxMessage)
	if p.Severity == Error {
		r.Errors = append(r.Errors, p)
	} else {
		r.Warnings = append(r.Warnings, p)
	}
	r.Valid = len(r.Errors) == 0
}

// Strict returns a copy of the report with warnings promoted to errors.
func (r Report) Strict() Report {
	out := r
	out.Errors = append([]Problem(nil), r.Errors...)
	for _, w := range r.Warnings {
		w.Severity = Error
		out.Errors = append(out.Errors, w)
	}
	out.Warnings = nil
	out.Valid = len(out.Errors) == 0
	return out
}

// Cut returns s if it is at most max bytes long, else its first bytes (up
// to a whole character) followed by how many bytes were left out.
func Cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:i], len(s)-i)
}

// Clean makes s safe to print on a terminal: control characters (escape
// sequences, carriage returns, newlines), text-direction overrides and
// invalid UTF-8 are shown as Go escapes (\x1b, \u202e) instead of acting.
func Clean(s string) string { return termtext.Clean(s) }
