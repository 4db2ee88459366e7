package xmlpos

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// The fast path reads the well-formed subset of XML that robot files use
// (an XML declaration and other processing instructions, elements with
// ASCII names and quoted attributes, text with the predefined and numeric
// character references, comments and CDATA sections) straight from the
// bytes, without encoding/xml's per-byte reader and per-token copies.
//
// It accepts a document only when encoding/xml would accept it too and
// gives exactly the tree and positions parseSlow gives: it mirrors the
// decoder's rules (see encoding/xml's rawToken and text) for everything it
// reads and gives up on anything else, a DOCTYPE, a non-ASCII name, a
// malformed or unusual construct, so that Parse falls back to parseSlow,
// which reports errors and reads odd documents as before.
//
// Names and values that need no rewriting are substrings of one copy of
// the document, and the tree's elements, texts, attributes and child lists
// are cut from slabs rather than allocated one by one or grown by
// appending, so a typical document costs a few dozen allocations instead
// of several per element.

// parseFast parses data on the fast path; ok is false when data has
// anything the fast path does not read, and the caller must use parseSlow.
func parseFast(data []byte) (d *Doc, ok bool, err error) {
	return parseFastString(string(data), false)
}

// parseFastString is parseFast over a string, whose bytes the tree's
// names and values share; noSpace leaves out white-space-only text.
func parseFastString(src string, noSpace bool) (d *Doc, ok bool, err error) {
	s := scanners.Get().(*scanner)
	defer s.release()
	s.noSpace = noSpace
	if !s.parse(src) {
		if s.refused != nil {
			return nil, false, s.refused
		}
		return nil, false, nil
	}
	return s.doc, true, nil
}

// scanners keeps scanners for reuse, for their scratch slices.
var scanners = sync.Pool{New: func() any { return new(scanner) }}

// scanner is the fast path's state over one document.
type scanner struct {
	src string // the document; names and values are substrings of it
	i   int    // offset of the next byte to read
	doc *Doc

	// Line counting is lazy: line and lineStart hold for offset counted.
	line, lineStart, counted int

	elements int           // elements started
	tag      int           // offset of the start tag being read
	tagName  string        // its local name
	refused  *SyntaxError  // set when the document is refused, not handed to parseSlow
	nodes    int           // elements, comments, processing instructions, CDATA sections
	noSpace  bool          // leave out white-space-only text (Options.NoSpace)
	open     []openElement // the open elements, innermost last
	pending  []etree.Token // children of the open elements, not added yet
	attrs    []rawAttr     // scratch: the attributes of the tag being read
	buf      []byte        // scratch: values being rewritten
	elemSlab slab[etree.Element]
	textSlab slab[etree.CharData]
	attrSlab slab[etree.Attr]
	kidSlab  slab[etree.Token]
}

// openElement is an element whose end tag is still to come.
type openElement struct {
	e       *etree.Element
	pending int // where its children start in scanner.pending
}

// rawAttr is an attribute as read, before it is added to its element.
type rawAttr struct {
	space, key, value string
}

// slab hands out slices of a few large allocations.
type slab[T any] struct {
	free  []T
	next  int // the size of the next allocation
	chunk []T // the latest allocation, whole
}

// maxSlab bounds a slab's allocations, so that the unused end of the
// last one stays small.
const maxSlab = 4096

// take returns n new items whose slice has no room to grow into the
// next ones.
func (s *slab[T]) take(n int) []T {
	if n > len(s.free) {
		size := max(n, s.next)
		s.free = make([]T, size)
		s.chunk = s.free
		s.next = min(max(2*size, 16), maxSlab)
	}
	t := s.free[:n:n]
	s.free = s.free[n:]
	return t
}

// release drops s's document and returns s to the pool, unless its
// scratch slices have grown too big to keep.
func (s *scanner) release() {
	if cap(s.pending) > maxSlab || cap(s.attrs) > maxSlab || cap(s.buf) > 1<<16 {
		return
	}
	clear(s.pending[:cap(s.pending)])
	clear(s.open[:cap(s.open)])
	clear(s.attrs[:cap(s.attrs)])
	*s = scanner{open: s.open[:0], pending: s.pending[:0], attrs: s.attrs[:0], buf: s.buf[:0]}
	scanners.Put(s)
}

// parse reads src into s.doc; false means parseSlow must read it.
func (s *scanner) parse(src string) bool {
	s.src, s.line = src, 1
	elems := s.sizeSlabs()
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = MaxDepth
	s.doc = &Doc{Document: doc}
	_ = elems
	for s.i < len(s.src) {
		var ok bool
		if s.src[s.i] != '<' {
			ok = s.text()
		} else if s.i+1 >= len(s.src) {
			return false
		} else {
			switch s.src[s.i+1] {
			case '/':
				ok = s.endTag()
			case '?':
				ok = s.procInst()
			case '!':
				ok = s.bang()
			default:
				ok = s.startTag()
			}
		}
		if !ok {
			return false
		}
	}
	if len(s.open) != 0 || s.elements == 0 {
		return false
	}
	s.adopt(&doc.Element, 0)
	s.doc.sortChunks()
	return true
}

// node counts one more node (see MaxNodes); past the bound it refuses the
// document, for parseSlow would only say the same, slower.
func (s *scanner) node() bool {
	s.nodes++
	if s.nodes > maxNodes {
		s.refused = tooManyNodes(s.posAt(s.i))
		return false
	}
	return true
}

// notePos records where e, just taken from the element slab, starts: in
// the position list of the slab's allocation e is in, which is e's index
// in it (elements are taken in order).
func (s *scanner) notePos(e *etree.Element, p Pos) {
	cs := s.doc.chunks
	if len(cs) == 0 || &cs[len(cs)-1].elems[0] != &s.elemSlab.chunk[0] {
		s.doc.chunks = append(cs, posChunk{elems: s.elemSlab.chunk, pos: make([]pos32, 0, len(s.elemSlab.chunk))})
		cs = s.doc.chunks
	}
	c := &cs[len(cs)-1]
	c.pos = append(c.pos, pos32{int32(p.Line), int32(p.Col)})
}

// sizeSlabs sizes the slabs' first allocations for the document from
// counts of its markup: every element starts with a '<' that does not
// start an end tag, a text ends at a '<' or at the end, and every
// attribute has an '='. (CDATA sections can make more texts; the slabs
// then grow.) It returns the bound on the number of elements, at most one
// per 4 bytes ("<a/>"), to size the position map.
func (s *scanner) sizeSlabs() int {
	lt := strings.Count(s.src, "<")
	elems := min(lt-strings.Count(s.src, "</"), len(s.src)/4)
	s.elemSlab.next = min(elems, maxSlab)
	s.textSlab.next = min(lt+1, maxSlab)
	s.attrSlab.next = min(strings.Count(s.src, "="), maxSlab)
	s.kidSlab.next = min(elems+lt+1, maxSlab)
	return elems
}

// add makes t a child of the innermost open element, or of the document;
// adopt adds it when its parent's children are all known.
func (s *scanner) add(t etree.Token) {
	s.pending = append(s.pending, t)
}

// adopt gives e the pending children from index from on, in a slice of
// their number, as etree's AddChild would one by one.
func (s *scanner) adopt(e *etree.Element, from int) {
	kids := s.pending[from:]
	if len(kids) > 0 {
		e.Child = s.kidSlab.take(len(kids))[:0]
		for _, t := range kids {
			e.AddChild(t)
		}
	}
	clear(kids)
	s.pending = s.pending[:from]
}

// posAt returns the line and byte column of offset i, which must not be
// before the offset of the previous call.
func (s *scanner) posAt(i int) Pos {
	seg := s.src[s.counted:i]
	if n := strings.Count(seg, "\n"); n > 0 {
		s.line += n
		s.lineStart = s.counted + strings.LastIndexByte(seg, '\n') + 1
	}
	s.counted = i
	return Pos{s.line, i - s.lineStart + 1}
}

// text reads character data up to the next '<' or the end.
func (s *scanner) text() bool {
	end := strings.IndexByte(s.src[s.i:], '<')
	if end < 0 {
		end = len(s.src)
	} else {
		end += s.i
	}
	v, ok := s.value(s.src[s.i:end], modeText)
	if !ok {
		return false
	}
	if !s.noSpace || strings.TrimLeft(v, " \t\r\n") != "" {
		s.addText(v)
	}
	s.i = end
	return true
}

// addText adds character data; SetData marks whitespace as etree's
// reader does.
func (s *scanner) addText(v string) {
	c := &s.textSlab.take(1)[0]
	c.SetData(v)
	s.add(c)
}

// startTag reads an element's start tag, or an empty element, at '<'.
func (s *scanner) startTag() bool {
	start := s.i
	space, local, end, ok := s.nsname(s.i + 1)
	if !ok {
		return false
	}
	s.tag, s.tagName = start, local
	s.i = end
	s.attrs = s.attrs[:0]
	empty := false
	for {
		s.skipSpace()
		if s.i >= len(s.src) {
			return false
		}
		c := s.src[s.i]
		if c == '>' {
			s.i++
			break
		}
		if c == '/' {
			if s.i+1 >= len(s.src) || s.src[s.i+1] != '>' {
				return false
			}
			s.i += 2
			empty = true
			break
		}
		if !s.attr() {
			return false
		}
	}
	if len(s.open) == 0 && s.elements > 0 || len(s.open) >= MaxDepth {
		return false // a second root, or too deep: parseSlow says which
	}
	if !s.node() {
		return false
	}
	s.elements++
	// The fields newElement sets, and no parent yet: adopt adds it.
	e := &s.elemSlab.take(1)[0]
	e.Space, e.Tag = space, local
	e.Attr, e.Child = make([]etree.Attr, 0), make([]etree.Token, 0)
	if n := len(s.attrs); n > 0 {
		e.Attr = s.attrSlab.take(n)[:0]
		for _, a := range s.attrs {
			// e has no attribute of an empty name, so CreateAttr("")
			// appends one, bound to e, that then takes its name.
			at := e.CreateAttr("", a.value)
			at.Space, at.Key = a.space, a.key
		}
	}
	s.notePos(e, s.posAt(start))
	s.add(e)
	if !empty {
		s.open = append(s.open, openElement{e, len(s.pending)})
	}
	return true
}

// attr reads one name="value" of a start tag into s.attrs. A repeated
// name keeps its first place and takes the last value, as in etree's
// reader.
func (s *scanner) attr() bool {
	space, local, end, ok := s.nsname(s.i)
	if !ok {
		return false
	}
	s.i = end
	s.skipSpace()
	if s.i >= len(s.src) || s.src[s.i] != '=' {
		return false
	}
	s.i++
	s.skipSpace()
	if s.i >= len(s.src) {
		return false
	}
	q := s.src[s.i]
	if q != '"' && q != '\'' {
		return false
	}
	n := strings.IndexByte(s.src[s.i+1:], q)
	if n < 0 {
		return false
	}
	if n > MaxAttr {
		// Refused here: parseSlow would say the same after copying the
		// value twice over, byte by byte.
		s.refused = attrTooLong(s.posAt(s.tag), local, s.tagName, n)
		return false
	}
	v, ok := s.value(s.src[s.i+1:s.i+1+n], modeAttr)
	if !ok {
		return false
	}
	s.i += n + 2
	for j := range s.attrs {
		if s.attrs[j].space == space && s.attrs[j].key == local {
			s.attrs[j].value = v
			return true
		}
	}
	s.attrs = append(s.attrs, rawAttr{space, local, v})
	return true
}

// endTag reads an end tag at "</"; it must close the innermost element.
func (s *scanner) endTag() bool {
	space, local, end, ok := s.nsname(s.i + 2)
	if !ok {
		return false
	}
	s.i = end
	s.skipSpace()
	if s.i >= len(s.src) || s.src[s.i] != '>' {
		return false
	}
	s.i++
	n := len(s.open)
	if n == 0 {
		return false
	}
	top := s.open[n-1]
	if top.e.Tag != local || top.e.Space != space {
		return false
	}
	s.adopt(top.e, top.pending)
	s.open = s.open[:n-1]
	return true
}

// procInst reads a processing instruction at "<?".
func (s *scanner) procInst() bool {
	end, ok := s.name(s.i + 2)
	if !ok {
		return false
	}
	target := s.src[s.i+2 : end]
	s.i = end
	s.skipSpace()
	n := strings.Index(s.src[s.i:], "?>")
	if n < 0 {
		return false
	}
	inst := s.src[s.i : s.i+n]
	if target == "xml" && !declOK(inst) {
		return false
	}
	if !s.node() {
		return false
	}
	s.add(&etree.ProcInst{Target: target, Inst: inst})
	s.i += n + 2
	return true
}

// declOK reports whether encoding/xml accepts the XML declaration inst:
// version 1.0 and encoding UTF-8, when given.
func declOK(inst string) bool {
	if v := procInstParam("version", inst); v != "" && v != "1.0" {
		return false
	}
	enc := procInstParam("encoding", inst)
	return enc == "" || strings.EqualFold(enc, "utf-8")
}

// procInstParam is encoding/xml's procInst: the value of param="..." or
// param='...' in s, or "", found the way the decoder finds it.
func procInstParam(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// bang reads a comment or a CDATA section at "<!"; directives are left to
// parseSlow.
func (s *scanner) bang() bool {
	rest := s.src[s.i:]
	switch {
	case strings.HasPrefix(rest, "<!--"):
		body := rest[4:]
		n := strings.Index(body, "--")
		if n < 0 || n+2 >= len(body) || body[n+2] != '>' {
			return false
		}
		if !s.node() {
			return false
		}
		s.add(&etree.Comment{Data: body[:n]})
		s.i += 4 + n + 3
		return true
	case strings.HasPrefix(rest, "<![CDATA["):
		body := rest[9:]
		n := strings.Index(body, "]]>")
		if n < 0 {
			return false
		}
		v, ok := s.value(body[:n], modeCDATA)
		if !ok || !s.node() {
			return false
		}
		s.addText(v)
		s.i += 9 + n + 3
		return true
	}
	return false
}

// skipSpace skips the bytes encoding/xml's space skips.
func (s *scanner) skipSpace() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\n', '\t', '\r':
			s.i++
		default:
			return
		}
	}
}

// name returns the end of the ASCII XML name at offset i; ok is false
// when there is none there or it goes on with a non-ASCII byte.
func (s *scanner) name(i int) (end int, ok bool) {
	if i >= len(s.src) || !nameStart[s.src[i]] {
		return 0, false
	}
	end = i + 1
	for end < len(s.src) && nameByte[s.src[end]] {
		end++
	}
	if end < len(s.src) && s.src[end] >= utf8.RuneSelf {
		return 0, false
	}
	return end, true
}

// nsname reads a name at i and splits it as encoding/xml's nsname does:
// "a:b" is space a and local b, a name with an empty side of its colon
// is all local, and a name with two colons is refused.
func (s *scanner) nsname(i int) (space, local string, end int, ok bool) {
	end, ok = s.name(i)
	if !ok {
		return "", "", 0, false
	}
	n := s.src[i:end]
	c := strings.IndexByte(n, ':')
	if c < 0 {
		return "", n, end, true
	}
	if strings.IndexByte(n[c+1:], ':') >= 0 {
		return "", "", 0, false
	}
	if c == 0 || c == len(n)-1 {
		return "", n, end, true
	}
	return n[:c], n[c+1:], end, true
}
