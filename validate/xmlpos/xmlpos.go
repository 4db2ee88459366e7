// Package xmlpos reads an XML document into an etree tree and remembers where
// each element starts, since etree keeps no line numbers.
//
// It decodes the bytes twice: once with etree, once with encoding/xml's
// decoder, whose InputPos after each start tag gives that tag's line and
// column. Both see the start tags in the same document order, so the n-th
// element of one is the n-th of the other.
package xmlpos

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/beevik/etree"
)

// MaxDepth bounds element nesting; deeper documents are refused.
const MaxDepth = 256

// Pos is a position in a file, 1-based; zero means unknown.
type Pos struct {
	Line, Col int
}

// Doc is a parsed document with element positions.
type Doc struct {
	*etree.Document
	pos map[*etree.Element]Pos
}

// SyntaxError is a malformed document, with the position the decoder stopped at.
type SyntaxError struct {
	Pos
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Parse reads data as XML. A malformed document yields a *SyntaxError.
func Parse(data []byte) (*Doc, error) {
	// First pass: positions of the start tags, and well-formedness.
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.Entity = nil
	var starts []Pos
	depth := 0
	lines := lineStarts(data)
	for {
		line, col := dec.InputPos()
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			l, c := dec.InputPos()
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
				l = se.Line
			}
			return nil, &SyntaxError{Pos: Pos{l, c}, Msg: msg}
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 && len(starts) > 0 {
				return nil, &SyntaxError{Pos: Pos{line, col}, Msg: "more than one root element"}
			}
			depth++
			if depth > MaxDepth {
				return nil, &SyntaxError{Pos: Pos{line, col}, Msg: fmt.Sprintf("elements nested deeper than %d", MaxDepth)}
			}
			// InputPos before the token is just after the previous one;
			// skip leading whitespace to land on the '<'.
			starts = append(starts, startOf(data, lines, line, col))
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		l, c := dec.InputPos()
		return nil, &SyntaxError{Pos: Pos{l, c}, Msg: "unexpected end of file: an element is not closed"}
	}
	if len(starts) == 0 {
		return nil, &SyntaxError{Pos: Pos{1, 1}, Msg: "no root element"}
	}

	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = MaxDepth
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, &SyntaxError{Pos: Pos{1, 1}, Msg: err.Error()}
	}
	d := &Doc{Document: doc, pos: make(map[*etree.Element]Pos, len(starts))}
	i := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if i < len(starts) {
			d.pos[e] = starts[i]
		}
		i++
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	for _, c := range doc.ChildElements() {
		walk(c)
	}
	return d, nil
}

// lineStarts returns the byte offset at which each line of data begins.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// startOf moves from (line, col), the decoder's position before a token, to
// the '<' that starts it, skipping whitespace and text. lines holds the
// offsets of line starts, so finding the position costs no rescan.
func startOf(data []byte, lines []int, line, col int) Pos {
	off := len(data)
	if line-1 < len(lines) {
		off = lines[line-1]
	}
	off += col - 1
	for off < len(data) && data[off] != '<' {
		if data[off] == '\n' {
			line++
			col = 0
		}
		off++
		col++
	}
	return Pos{line, col}
}

// Pos returns where e starts, or the zero Pos for an element not read from
// the document (one added later, or nil).
func (d *Doc) Pos(e *etree.Element) Pos {
	if d == nil || e == nil {
		return Pos{}
	}
	return d.pos[e]
}

// Line returns the line e starts on, or 0.
func (d *Doc) Line(e *etree.Element) int { return d.Pos(e).Line }
