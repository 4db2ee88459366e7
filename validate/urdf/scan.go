package urdf

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/antimlabs/gizmo/validate"
)

// blankDecl returns data with its XML declaration replaced by spaces (same
// length, so positions hold). tinyxml2, which urdfdom and Isaac Sim use,
// ignores the declaration; encoding/xml refuses versions other than 1.0
// and encodings it has no reader for, which would turn files urdfdom reads
// into errors. data is changed in place when owned, else copied.
func blankDecl(data []byte, owned bool) []byte {
	start := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		start = 3
	}
	if !bytes.HasPrefix(data[start:], []byte("<?xml")) || len(data) < start+6 || !isSpace(data[start+5]) {
		return data
	}
	// tinyxml2 ends a top-level <?...> node at its first '>'.
	end := bytes.IndexByte(data[start:], '>')
	if end < 0 {
		return data
	}
	end += start + 1
	out := data
	if !owned {
		out = make([]byte, len(data))
		copy(out, data)
	}
	for i := start; i < end; i++ {
		if out[i] != '\n' {
			out[i] = ' '
		}
	}
	return out
}

// sanitize replaces bytes that are not valid UTF-8 and control characters
// XML forbids with '?', one byte for one so positions hold. tinyxml2 reads
// bytes as they are (a Latin-1 comment, a stray control character), so
// urdfdom accepts such files; encoding/xml would refuse them.
func sanitize(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if c == '&' && !validRef(data[i:]) {
				if out == nil {
					out = append([]byte(nil), data...)
				}
				out[i] = '?'
			}
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				if out == nil {
					out = append([]byte(nil), data...)
				}
				out[i] = '?'
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
			if out == nil {
				out = append([]byte(nil), data...)
			}
			for k := 0; k < n; k++ {
				out[i+k] = '?'
			}
		}
		i += n
	}
	if out == nil {
		return data
	}
	return out
}

// ltInValues replaces a raw '<' inside a quoted attribute value with '?':
// tinyxml2 keeps it as part of the value, encoding/xml refuses the
// document. It walks the markup as the duplicate-attribute scan does.
func ltInValues(data []byte) []byte {
	var out []byte
	i := 0
	for i < len(data) {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := data[i:]
		if end, ok := nodeEnd(markupNodes, rest); ok {
			i = skipPast(data, i, end)
			continue
		}
		if bytes.HasPrefix(rest, []byte("<!")) || bytes.HasPrefix(rest, []byte("</")) {
			i = skipPast(data, i, ">")
			continue
		}
		// A start tag: quoted values run to the matching quote.
		i++
		for i < len(data) && data[i] != '>' {
			c := data[i]
			if c != '"' && c != '\'' {
				i++
				continue
			}
			end := bytes.IndexByte(data[i+1:], c)
			if end < 0 {
				return orig(out, data)
			}
			val := data[i+1 : i+1+end]
			if bytes.IndexByte(val, '<') >= 0 || hasBadRef(val) {
				if out == nil {
					out = append([]byte(nil), data...)
				}
				// tinyxml2 keeps '<' and drops an '&' that starts no
				// reference; the value shrinks, spaces after the quote
				// keep the length.
				fixed := make([]byte, 0, len(val))
			value:
				for k := 0; k < len(val); k++ {
					switch {
					case val[k] == '&' && nulRef(val[k:]):
						break value // &#0; ends the C string tinyxml2 hands on
					case val[k] == '<':
						fixed = append(fixed, '?')
					case val[k] == '&' && !validRef(val[k:]):
					default:
						fixed = append(fixed, val[k])
					}
				}
				n := copy(out[i+1:], fixed)
				out[i+1+n] = c
				for k := i + 2 + n; k < i+2+end; k++ {
					out[k] = ' '
				}
			}
			i += end + 2
		}
		i++
	}
	return orig(out, data)
}

func orig(out, data []byte) []byte {
	if out == nil {
		return data
	}
	return out
}

// nulRef reports whether b starts with a character reference to U+0000.
func nulRef(b []byte) bool {
	end := bytes.IndexByte(b, ';')
	if end < 3 || b[1] != '#' {
		return false
	}
	digits := string(b[2:end])
	base := 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	n, err := strconv.ParseUint(digits, base, 32)
	return err == nil && n == 0
}

// hasBadRef reports whether b has an '&' that starts no valid reference.
func hasBadRef(b []byte) bool {
	for k := 0; k < len(b); k++ {
		if b[k] == '&' && !validRef(b[k:]) {
			return true
		}
	}
	return false
}

// validRef reports whether b starts with a reference encoding/xml accepts:
// one of the five predefined entities or a character reference to a
// character XML allows. tinyxml2 passes any other '&' through as text.
func validRef(b []byte) bool {
	end := bytes.IndexByte(b, ';')
	if end < 2 || end > 12 {
		return false
	}
	name := string(b[1:end])
	switch name {
	case "amp", "lt", "gt", "quot", "apos":
		return true
	}
	if name[0] != '#' {
		return false
	}
	var n uint64
	var err error
	if len(name) > 1 && name[1] == 'x' {
		n, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(name[1:], 10, 32)
	}
	if err != nil {
		return false
	}
	r := rune(n)
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// duplicateAttr finds an element with the same attribute twice, which
// tinyxml2 (and so urdfdom and Isaac Sim) refuses but encoding/xml allows.
// It scans the bytes of a document already known to be well-formed.
func duplicateAttr(data []byte, name string) (validate.Problem, bool) {
	i := 0
	var names [][]byte
	for i < len(data) {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			break
		}
		i += j
		tagStart := i
		rest := data[i:]
		if end, ok := nodeEnd(markupNodes, rest); ok {
			i = skipPast(data, i, end)
			continue
		}
		switch {
		case bytes.HasPrefix(rest, []byte("<!")):
			// A DOCTYPE, possibly with an internal subset in brackets.
			depth := 0
			for i < len(data) {
				c := data[i]
				i++
				if c == '[' {
					depth++
				} else if c == ']' {
					depth--
				} else if c == '>' && depth <= 0 {
					break
				}
			}
			continue
		case bytes.HasPrefix(rest, []byte("</")):
			i = skipPast(data, i, ">")
			continue
		}
		// A start tag: the name, then name="value" pairs.
		i++
		for i < len(data) && !isSpace(data[i]) && data[i] != '>' && data[i] != '/' {
			i++
		}
		names = names[:0]
		for i < len(data) {
			for i < len(data) && isSpace(data[i]) {
				i++
			}
			if i >= len(data) || data[i] == '>' || data[i] == '/' {
				break
			}
			n0 := i
			for i < len(data) && data[i] != '=' && !isSpace(data[i]) {
				i++
			}
			attrName := data[n0:i]
			for _, prev := range names {
				if bytes.Equal(prev, attrName) {
					line, col := position(data, tagStart)
					return validate.Problem{Severity: validate.Error, Rule: "urdf-xml", File: name, Line: line, Col: col,
						Message: fmt.Sprintf("an element has the attribute %s twice; the XML parser urdfdom and Isaac Sim use (tinyxml2) refuses the file", attrName)}, false
				}
			}
			names = append(names, attrName)
			q := bytes.IndexAny(data[i:], "\"'")
			if q < 0 {
				break
			}
			i += q
			quote := data[i]
			i++
			if k := bytes.IndexByte(data[i:], quote); k >= 0 {
				i += k + 1
			} else {
				i = len(data)
			}
		}
		i = skipPast(data, i, ">")
	}
	return validate.Problem{}, true
}

// prologText finds character data before the root element, reading the
// prolog as tinyxml2 does: a <!...> node (DOCTYPE) ends at its first '>',
// so an internal subset holding markup leaves text behind. tinyxml2 then
// finds no element ("Error document empty", "Could not find the 'robot'
// element"), while encoding/xml accepts the document.
func prologText(data []byte, name string) (validate.Problem, bool) {
	i := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	skip := func(end string) bool {
		j := bytes.Index(data[i:], []byte(end))
		if j < 0 {
			return false
		}
		i += j + len(end)
		return true
	}
	for i < len(data) {
		c := data[i]
		switch {
		case isSpace(c):
			i++
			continue
		case c == '<':
			end, ok := nodeEnd(prologNodes, data[i:])
			if !ok {
				return validate.Problem{}, true // the root element
			}
			if !skip(end) {
				return validate.Problem{}, true
			}
			continue
		}
		line, col := position(data, i)
		end := i + 20
		if end > len(data) {
			end = len(data)
		}
		if k := bytes.IndexByte(data[i:end], '<'); k > 0 {
			end = i + k
		}
		return validate.Problem{Severity: validate.Error, Rule: "urdf-xml", File: name, Line: line, Col: col,
			Message: fmt.Sprintf("text %q before the root element (a DOCTYPE's internal subset with markup leaves text too); tinyxml2, the XML parser of urdfdom and Isaac Sim, then finds no <robot>: remove it", data[i:end])}, false
	}
	return validate.Problem{}, true
}

// node is a kind of XML node a byte scan passes over whole: the text that
// starts it and the text that ends it.
type node struct{ start, end string }

// prologNodes are the nodes tinyxml2 passes over before the root element,
// longest start first. tinyxml2 ends a top-level <?...> or <!...> node at
// its first '>'.
var prologNodes = []node{
	{"<![CDATA[", "]]>"},
	{"<!--", "-->"},
	{"<!", ">"},
	{"<?", ">"},
}

// markupNodes are the nodes the markup scans (ltInValues, duplicateAttr)
// pass over whole in a document's body.
var markupNodes = []node{
	{"<!--", "-->"},
	{"<![CDATA[", "]]>"},
	{"<?", "?>"},
}

// nodeEnd returns the text that ends the node of nodes that rest starts
// with; ok is false when rest starts none of them. Every node of a list
// passed here starts with "<!" or "<?".
func nodeEnd(nodes []node, rest []byte) (end string, ok bool) {
	if len(rest) < 2 || rest[1] != '!' && rest[1] != '?' {
		return "", false // every node starts with "<!" or "<?"
	}
	for _, n := range nodes {
		if bytes.HasPrefix(rest, []byte(n.start)) {
			return n.end, true
		}
	}
	return "", false
}

// skipPast returns the index just past the first end in data[i:], or
// len(data) when there is none.
func skipPast(data []byte, i int, end string) int {
	if j := bytes.Index(data[i:], []byte(end)); j >= 0 {
		return i + j + len(end)
	}
	return len(data)
}

// position is the 1-based line and column of byte i of data.
func position(data []byte, i int) (line, col int) {
	return 1 + bytes.Count(data[:i], []byte("\n")), i - bytes.LastIndexByte(data[:i], '\n')
}
