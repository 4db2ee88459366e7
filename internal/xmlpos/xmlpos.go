// Package xmlpos reads an XML document into an etree tree and remembers where
// each element starts, since etree keeps no line numbers.
//
// It decodes the bytes once, with encoding/xml's decoder: the decoder's
// position before each start tag gives that tag's line and column, and its
// tokens build the etree tree the way etree's own reader does with default
// ReadSettings, so the result is the tree etree.Document.ReadFromBytes
// would give.
//
// Most documents never reach the decoder: a hand-written scanner (fast.go)
// reads the well-formed subset robot files are written in several times
// faster, with the same tree, positions and rules, and hands anything else,
// errors included, to the decoder.
package xmlpos

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"unsafe"

	"github.com/beevik/etree"
)

// MaxDepth bounds element nesting; deeper documents are refused.
const MaxDepth = 256

// MaxNodes bounds the elements, comments, processing instructions and
// CDATA sections of a document; one with more is refused. Memory grows
// with them, not with the file's size (a 20 MB file of "<a/>" is 5 M
// elements and took 860 MB), and a robot has thousands, not millions;
// 4 M still reads a URDF of 2 M links.
const MaxNodes = 4 << 20

// maxNodes is the bound in force; tests lower it.
var maxNodes = MaxNodes

// MaxAttr bounds an attribute value, in bytes; a document with a longer one
// is refused. The largest legitimate values (MJCF inline mesh vertices,
// height fields) are a few MiB; a 100 MiB name is an attack on memory.
const MaxAttr = 16 << 20

// Pos is a position in a file, 1-based; zero means unknown.
type Pos struct {
	Line, Col int
}

// Doc is a parsed document with element positions.
type Doc struct {
	*etree.Document
	// pos holds the positions of a document read by parseSlow; chunks
	// those of one read by the fast path, whose elements come from a
	// few large allocations: 8 bytes an element instead of a map entry's
	// 60 or so (a URDF of 2 M links kept 130 MB of map).
	pos    map[*etree.Element]Pos
	chunks []posChunk // sorted by address
}

// posChunk is one allocation of elements of the fast path and the
// positions of the elements taken from it so far, in order.
type posChunk struct {
	elems []etree.Element // keeps the allocation alive: its addresses are never reused
	pos   []pos32
}

type pos32 struct{ line, col int32 }

// sortChunks orders d.chunks by address, for Pos's binary search.
func (d *Doc) sortChunks() {
	slices.SortFunc(d.chunks, func(a, b posChunk) int {
		return cmp.Compare(uintptr(unsafe.Pointer(&a.elems[0])), uintptr(unsafe.Pointer(&b.elems[0])))
	})
}

// chunkPos finds e in d.chunks.
func (d *Doc) chunkPos(e *etree.Element) (Pos, bool) {
	addr := uintptr(unsafe.Pointer(e))
	i, _ := slices.BinarySearchFunc(d.chunks, addr, func(c posChunk, a uintptr) int {
		return cmp.Compare(uintptr(unsafe.Pointer(&c.elems[0])), a)
	})
	// i is the first chunk starting after addr (or at it).
	if i < len(d.chunks) && uintptr(unsafe.Pointer(&d.chunks[i].elems[0])) == addr {
		return d.chunks[i].at(0)
	}
	if i == 0 {
		return Pos{}, false
	}
	c := d.chunks[i-1]
	off := addr - uintptr(unsafe.Pointer(&c.elems[0]))
	size := unsafe.Sizeof(etree.Element{})
	if off%size != 0 || off/size >= uintptr(len(c.elems)) {
		return Pos{}, false
	}
	return c.at(int(off / size))
}

// at returns the position of the chunk's element k, if it was taken.
func (c posChunk) at(k int) (Pos, bool) {
	if k >= len(c.pos) {
		return Pos{}, false
	}
	return Pos{int(c.pos[k].line), int(c.pos[k].col)}, true
}

// SyntaxError is a malformed document, with the position the decoder stopped at.
type SyntaxError struct {
	Pos
	Msg string
	// Limit is set when the document is refused for going past one of
	// gizmo's bounds (MaxNodes, MaxAttr), not for being malformed.
	Limit bool
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Parse reads data as XML. A malformed document yields a *SyntaxError.
func Parse(data []byte) (*Doc, error) {
	if d, ok, err := parseFast(data); ok || err != nil {
		return d, err
	}
	return parseSlow(data)
}

// Options change how ParseWith reads a document.
type Options struct {
	// Owned hands data over: data must not change afterwards, for the
	// tree's names and values may share its bytes. It saves a copy of the
	// whole document (47 MB for a URDF of 2 M links).
	Owned bool
	// NoSpace leaves out text that is only white space, for a reader that
	// never looks at text (a URDF has one such text between every two
	// elements: 2 M of them, 110 MB, for 2 M links). The elements, their
	// attributes and positions are the same; a document the fast path
	// does not read (with a DOCTYPE, say) keeps its white space.
	NoSpace bool
}

// ParseWith is Parse with options.
func ParseWith(data []byte, o Options) (*Doc, error) {
	src := ""
	switch {
	case len(data) == 0:
	case o.Owned:
		src = unsafe.String(unsafe.SliceData(data), len(data))
	default:
		src = string(data)
	}
	if d, ok, err := parseFastString(src, o.NoSpace); ok || err != nil {
		return d, err
	}
	return parseSlow(data)
}

// parseSlow is Parse with encoding/xml's decoder: it reads every document
// and reports every error, where parseFast reads only the common
// well-formed subset and gives up on the rest.
func parseSlow(data []byte) (*Doc, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.Entity = nil
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = MaxDepth
	d := &Doc{Document: doc, pos: make(map[*etree.Element]Pos)}
	b := builder{stack: []*etree.Element{&doc.Element}}
	elements, depth, nodes := 0, 0, 0
	for {
		// The decoder gives text as a token of its own, so its position
		// before a start tag is the tag's '<'.
		line, col := dec.InputPos()
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, syntaxError(dec, err)
		}
		switch tok.(type) {
		case xml.StartElement, xml.Comment, xml.ProcInst, xml.Directive:
			if nodes++; nodes > maxNodes {
				return nil, tooManyNodes(Pos{line, col})
			}
		case xml.CharData:
			if cdata(data, dec.InputOffset()) {
				if nodes++; nodes > maxNodes {
					return nil, tooManyNodes(Pos{line, col})
				}
			}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			for _, a := range t.Attr {
				if len(a.Value) > MaxAttr {
					return nil, attrTooLong(Pos{line, col}, a.Name.Local, t.Name.Local, len(a.Value))
				}
			}
			if depth == 0 && elements > 0 {
				return nil, &SyntaxError{Pos: Pos{line, col}, Msg: "more than one root element"}
			}
			depth++
			if depth > MaxDepth {
				return nil, &SyntaxError{Pos: Pos{line, col}, Msg: fmt.Sprintf("elements nested deeper than %d", MaxDepth)}
			}
			elements++
		case xml.EndElement:
			depth--
		}
		if e := b.add(tok); e != nil {
			d.pos[e] = Pos{line, col}
		}
	}
	if depth != 0 {
		l, c := dec.InputPos()
		return nil, &SyntaxError{Pos: Pos{l, c}, Msg: "unexpected end of file: an element is not closed"}
	}
	if elements == 0 {
		return nil, &SyntaxError{Pos: Pos{1, 1}, Msg: "no root element"}
	}
	if b.err != nil {
		// What etree would have refused; the checks above come first, as
		// they did when etree read the document after them.
		return nil, &SyntaxError{Pos: Pos{1, 1}, Msg: b.err.Error()}
	}
	return d, nil
}

// tooManyNodes is the error for a document with more than MaxNodes nodes.
func tooManyNodes(at Pos) *SyntaxError {
	return &SyntaxError{Pos: at, Limit: true, Msg: fmt.Sprintf("more than %d elements, comments and other nodes (a robot model has thousands)", maxNodes)}
}

// cdata reports whether the text token that ended at offset end of data
// was a CDATA section.
func cdata(data []byte, end int64) bool {
	return end >= 3 && int(end) <= len(data) && string(data[end-3:end]) == "]]>"
}

// attrTooLong is the error for an attribute value over MaxAttr.
func attrTooLong(at Pos, attr, elem string, n int) *SyntaxError {
	return &SyntaxError{Pos: at, Limit: true, Msg: fmt.Sprintf("attribute %s of <%s> is %d MiB long, over the %d MiB gizmo reads (no model needs a value that long)", attr, elem, n>>20, MaxAttr>>20)}
}

// builder grows an etree tree from raw decoder tokens as etree v1.8.1's
// Element.readFrom does with default ReadSettings. Where etree would fail
// (an end tag that does not match its start tag) it records etree's error
// and ignores the tokens that follow.
type builder struct {
	stack []*etree.Element // open elements, the document first
	err   error
}

// add adds tok to the tree and returns the element it starts, if any.
func (b *builder) add(tok xml.Token) *etree.Element {
	if b.err != nil {
		return nil
	}
	top := b.stack[len(b.stack)-1]
	switch t := tok.(type) {
	case xml.StartElement:
		// Name fields are set directly, not through CreateElement's
		// "space:tag" string, so names such as ":x" stay as the decoder
		// split them, as in etree's reader.
		e := top.CreateElement("")
		e.Space, e.Tag = t.Name.Space, t.Name.Local
		for _, a := range t.Attr {
			setAttr(e, a)
		}
		b.stack = append(b.stack, e)
		return e
	case xml.EndElement:
		if len(b.stack) == 1 || top.Tag != t.Name.Local || top.Space != t.Name.Space {
			b.err = etree.ErrXML
			return nil
		}
		b.stack = b.stack[:len(b.stack)-1]
	case xml.CharData:
		// SetData marks whitespace-only text as etree's reader does;
		// CreateText alone would not. CDATA sections are plain text, as
		// with PreserveCData unset.
		top.CreateText("").SetData(string(t))
	case xml.Comment:
		top.CreateComment(string(t))
	case xml.Directive:
		top.CreateDirective(string(t))
	case xml.ProcInst:
		top.CreateProcInst(t.Target, string(t.Inst))
	}
	return nil
}

// setAttr adds attribute a to e, or, when e already has one of that name,
// replaces its value in place: etree keeps the first position and the last
// value of a repeated attribute.
func setAttr(e *etree.Element, a xml.Attr) {
	for i := range e.Attr {
		if e.Attr[i].Space == a.Name.Space && e.Attr[i].Key == a.Name.Local {
			e.Attr[i].Value = a.Value
			return
		}
	}
	// No attribute of e has an empty name (the decoder gives none), so
	// CreateAttr("") appends one, bound to e; it then takes the decoder's
	// name as is, for the same reason as elements do.
	at := e.CreateAttr("", a.Value)
	at.Space, at.Key = a.Name.Space, a.Name.Local
}

// Pos returns where e starts, or the zero Pos for an element not read from
// the document (one added later, or nil).
func (d *Doc) Pos(e *etree.Element) Pos {
	if d == nil || e == nil {
		return Pos{}
	}
	if p, ok := d.pos[e]; ok {
		return p
	}
	p, _ := d.chunkPos(e)
	return p
}

// Line returns the line e starts on, or 0.
func (d *Doc) Line(e *etree.Element) int { return d.Pos(e).Line }

// syntaxError is the SyntaxError for an error of dec, at the decoder's
// position (the line of an xml.SyntaxError, which it knows better).
func syntaxError(dec *xml.Decoder, err error) error {
	l, c := dec.InputPos()
	msg := err.Error()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg = se.Msg
		l = se.Line
	}
	return &SyntaxError{Pos: Pos{l, c}, Msg: msg}
}
