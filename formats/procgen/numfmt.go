package procgen

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// num formats a number with at most 6 significant digits, without a
// negative zero, so exports are short and stable.
func num(v float64) string {
	if math.Abs(v) < 1e-12 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// nums joins numbers with single spaces.
func nums(vs ...float64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = num(v)
	}
	return strings.Join(s, " ")
}

// printable turns white space into spaces and drops other control
// characters and invalid UTF-8.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlAttr escapes a string for a double-quoted XML attribute (or text),
// after printable.
func xmlAttr(s string) string {
	var b strings.Builder
	for _, r := range printable(s) {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
