// Package termtext makes untrusted text (asset names, prompts, tags, a
// server's messages) safe to print on a terminal or into a text report:
// control characters, escape sequences, text-direction overrides and
// invalid UTF-8 are shown as Go escapes (\x1b, \u202e) instead of acting.
// Machine-readable output (JSON) keeps the text exact and does not use it.
package termtext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean returns s with every unsafe rune escaped: tabs are kept, newlines
// and carriage returns are escaped like any control character. s is
// returned as is when it is safe (no allocation).
func Clean(s string) string {
	return clean(s, false)
}

// Lines is Clean for a message of several lines: newlines are kept (a
// carriage return is still escaped, so a line cannot overwrite another).
func Lines(s string) string {
	return clean(s, true)
}

func clean(s string, keepNewlines bool) string {
	safe := true
	for _, r := range s {
		if unsafe(r, keepNewlines) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && unsafe(r, keepNewlines):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r, keepNewlines):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafe reports whether r must not reach a terminal as is.
func unsafe(r rune, keepNewlines bool) bool {
	switch {
	case r == utf8.RuneError:
		return true // also an invalid byte, as range gives it
	case r == '\t', r == '\n' && keepNewlines:
		return false
	case unicode.IsControl(r): // C0, DEL and C1 (0x9b is a one-byte CSI)
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi overrides and isolates
		return true
	}
	return false
}
