package urdf

import (
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
)

// parseDouble reads a number the way urdfdom's strToDouble does: a
// std::stringstream in the classic locale that must consume the whole
// string. Leading white space is skipped, trailing white space is not; no
// inf, nan or hex; a value that overflows a double is refused, one that
// underflows reads as (nearly) zero.
func parseDouble(s string) (float64, bool) {
	for len(s) > 0 && (s[0] == ' ' || s[0] >= '\t' && s[0] <= '\r') {
		s = s[1:] // strings.TrimLeft(s, " \t\n\v\f\r"), without building its set
	}
	if !isDecimal(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// isDecimal matches [+-]?(digits[.digits*]|.digits)([eE][+-]?digits)?.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	mant := digits()
	if i < len(s) && s[i] == '.' {
		i++
		mant += digits()
	}
	if mant == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// eachPiece yields the pieces of a vector split the way urdfdom's
// split_string does: on single spaces only, dropping empty pieces. Tabs and
// newlines are not separators.
func eachPiece(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for {
			p, rest, more := strings.Cut(s, " ")
			if p != "" && !yield(p) {
				return
			}
			if !more {
				return
			}
			s = rest
		}
	}
}

// parseVec3 reads "x y z" as urdfdom's Vector3::init does. The error text
// follows urdfdom's.
func parseVec3(s string) ([3]float64, error) {
	var v [3]float64
	n := 0
	for p := range eachPiece(s) {
		f, ok := parseDouble(p)
		if !ok {
			return [3]float64{}, fmt.Errorf("component %q is not a number%s", p, hint(p))
		}
		if n < 3 {
			v[n] = f
		}
		n++
	}
	if n != 3 {
		return [3]float64{}, fmt.Errorf("found %d numbers, expected 3 separated by spaces%s", n, hint(s))
	}
	return v, nil
}

// colorResult is what urdfdom's Color::init makes of an rgba value.
type colorResult int

const (
	colorOK      colorResult = iota
	colorBad                 // a component is not a number or is outside [0, 1]: logged as an error
	colorNotFour             // not four components: silently ignored (default color)
)

func parseColor(s string) (colorResult, string) {
	n := 0
	for p := range eachPiece(s) {
		f, ok := parseDouble(p)
		if !ok {
			return colorBad, fmt.Sprintf("component %q is not a number%s", p, hint(p))
		}
		if f < 0 || f > 1 {
			return colorBad, fmt.Sprintf("component %s is outside [0, 1]", p)
		}
		n++
	}
	if n != 4 {
		return colorNotFour, fmt.Sprintf("has %d components, not 4", n)
	}
	return colorOK, ""
}

// parseVersion reads robot/@version as urdfdom's URDFVersion does: "x.y"
// with integers (strtol: leading space and a sign allowed, nothing after),
// and only 1.0 supported. A missing attribute means 1.0.
func parseVersion(s string) error {
	var parts []string
	// split_string on ".": a trailing empty piece is dropped.
	start := 0
	for {
		j := strings.IndexByte(s[start:], '.')
		if j < 0 {
			if start < len(s) {
				parts = append(parts, s[start:])
			}
			break
		}
		parts = append(parts, s[start:start+j])
		start += j + 1
	}
	if len(parts) != 2 {
		return fmt.Errorf("version %q is not in the form x.y; use version=\"1.0\" or drop the attribute", s)
	}
	var nums [2]uint32
	for i, p := range parts {
		if p == "" {
			return fmt.Errorf("version %q has a blank field; use version=\"1.0\"", s)
		}
		v, ok := strtol(p)
		if !ok {
			return fmt.Errorf("version %q is not two integers x.y; use version=\"1.0\"", s)
		}
		if v < 0 {
			return fmt.Errorf("version %q is negative; use version=\"1.0\"", s)
		}
		nums[i] = uint32(v)
	}
	if nums != [2]uint32{1, 0} {
		return fmt.Errorf("version %q is not supported: urdfdom reads only version 1.0", s)
	}
	return nil
}

// strtol parses a whole string as C's strtol(s, &end, 10) with *end == 0,
// clamping on overflow as strtol does.
func strtol(s string) (int64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		return 0, false
	}
	var v int64
	over := false
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxInt64-int64(c-'0'))/10 {
			over = true
		} else {
			v = v*10 + int64(c-'0')
		}
	}
	if over {
		if neg {
			return math.MinInt64, true
		}
		return math.MaxInt64, true
	}
	if neg {
		v = -v
	}
	return v, true
}

// hint adds a pointer to xacro when a value looks like an unexpanded macro.
func hint(s string) string {
	if strings.Contains(s, "${") || strings.Contains(s, "$(") {
		return " (an unexpanded xacro expression: run xacro to produce a plain URDF first)"
	}
	if strings.Contains(s, ",") {
		return " (separate numbers with spaces, not commas)"
	}
	return ""
}
