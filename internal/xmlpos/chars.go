package xmlpos

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Where a value is read: what ends it and which bytes it may hold.
const (
	modeText  = iota // character data: references, no "]]>"
	modeAttr         // a quoted attribute value: references, no '<'
	modeCDATA        // a CDATA section: everything as is
)

// value checks raw, the bytes of a text, attribute value or CDATA section,
// the way encoding/xml's text does, and returns its value: raw itself, or
// with references replaced and line ends as "\n" when it has any.
func (s *scanner) value(raw string, mode int) (string, bool) {
	rewrite := false
	for k := 0; k < len(raw); {
		c := raw[k]
		if plainByte[c] {
			k++
			continue
		}
		switch {
		case c == '\r':
			rewrite = true
		case c == '&':
			rewrite = rewrite || mode != modeCDATA
		case c == '<':
			if mode == modeAttr {
				return "", false
			}
		case c == ']':
			if mode == modeText && strings.HasPrefix(raw[k:], "]]>") {
				return "", false
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(raw[k:])
			if r == utf8.RuneError && size == 1 || !inCharRange(r) {
				return "", false
			}
			k += size
			continue
		default:
			return "", false // a control character
		}
		k++
	}
	if !rewrite {
		return raw, true
	}
	return s.rewrite(raw, mode != modeCDATA)
}

// rewrite returns raw, already checked, with "\r\n" and "\r" as "\n" and,
// when refs is set, character references replaced.
func (s *scanner) rewrite(raw string, refs bool) (string, bool) {
	b := s.buf[:0]
	cr := false // the previous byte was a '\r'
	for k := 0; k < len(raw); {
		c := raw[k]
		switch {
		case c == '\r':
			b = append(b, '\n')
			cr = true
			k++
			continue
		case c == '\n' && cr:
		case c == '&' && refs:
			r, n := charRef(raw[k:])
			if n == 0 {
				return "", false
			}
			b = utf8.AppendRune(b, r)
			k += n
			cr = false
			continue
		default:
			b = append(b, c)
		}
		cr = false
		k++
	}
	s.buf = b
	return string(b), true
}

// predefined are the entities encoding/xml knows without a DOCTYPE.
var predefined = [...]struct {
	ref string
	r   rune
}{{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&apos;", '\''}, {"&quot;", '"'}}

// charRef reads the reference at the start of s ("&amp;", "&#10;",
// "&#x41;") and returns its character and length, or n = 0 when encoding/xml
// would refuse it or give a character not allowed in XML.
func charRef(s string) (r rune, n int) {
	if len(s) > 1 && s[1] == '#' {
		i, base := 2, 10
		if len(s) > 2 && s[2] == 'x' {
			i, base = 3, 16
		}
		j := i
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || base == 16 && (s[j] >= 'a' && s[j] <= 'f' || s[j] >= 'A' && s[j] <= 'F')) {
			j++
		}
		if j == i || j >= len(s) || s[j] != ';' {
			return 0, 0
		}
		v, err := strconv.ParseUint(s[i:j], base, 64)
		if err != nil || v > utf8.MaxRune {
			return 0, 0
		}
		// string(rune(v)), as the decoder writes it, turns a surrogate
		// into U+FFFD.
		r = rune(v)
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		if !inCharRange(r) {
			return 0, 0
		}
		return r, j + 1
	}
	for _, p := range predefined {
		if strings.HasPrefix(s, p.ref) {
			return p.r, len(p.ref)
		}
	}
	return 0, 0
}

// inCharRange is encoding/xml's isInCharacterRange: the Char production
// of the XML specification.
func inCharRange(r rune) bool {
	return r == 0x09 ||
		r == 0x0A ||
		r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// Byte classes. plainByte: ASCII a value holds as it is in every mode
// (not '\r', '&', '<', ']' or a control character). nameStart and
// nameByte: the ASCII bytes that start and continue a name.
var plainByte, nameStart, nameByte [256]bool

func init() {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		switch c {
		case '&', '<', ']':
		default:
			plainByte[c] = true
		}
	}
	plainByte['\t'], plainByte['\n'] = true, true
	for c := 0; c < utf8.RuneSelf; c++ {
		b := byte(c)
		letter := 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || b == '_' || b == ':'
		nameStart[c] = letter
		nameByte[c] = letter || '0' <= b && b <= '9' || b == '.' || b == '-'
	}
}
