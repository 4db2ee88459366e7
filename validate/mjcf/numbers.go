package mjcf

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// parseNumbers splits text as MuJoCo's ReadAttr does; ok is false when a
// token is not a number of the kind.
func parseNumbers(text string, kind valueKind) ([]float64, bool) {
	out, err := readNumbers(text, kind)
	return out, err == nil
}

// readNumbers is parseNumbers saying why a token is refused (errRange for
// an out-of-range number).
func readNumbers(text string, kind valueKind) ([]float64, error) {
	return appendNumbers(nil, text, kind)
}

// appendNumbers is readNumbers appending to dst (a scratch buffer, for a
// list only looked at); a nil dst gets a list of the exact length.
func appendNumbers(dst []float64, text string, kind valueKind) ([]float64, error) {
	n, ascii := countFields(text)
	if !ascii {
		// Unicode spaces separate too, as strings.Fields has it.
		fields := strings.Fields(text)
		out := slices.Grow(dst, len(fields))
		for _, f := range fields {
			v, err := readNumber(f, kind)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	out := slices.Grow(dst, n)
	for i := 0; i < len(text); {
		for i < len(text) && asciiSpace(text[i]) {
			i++
		}
		start := i
		for i < len(text) && !asciiSpace(text[i]) {
			i++
		}
		if start == i {
			break
		}
		v, err := readNumber(text[start:i], kind)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// readNumber reads one field of a number list.
func readNumber(f string, kind valueKind) (float64, error) {
	if kind == kindInt {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return 0, err
		}
		return float64(v), nil
	}
	return parseReal(f)
}

// asciiSpace is strings.Fields's set of ASCII separators.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// countFields counts the space-separated fields of text as strings.Fields
// would, when text is ASCII; ascii is false (and n meaningless) otherwise.
func countFields(text string) (n int, ascii bool) {
	inField := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 0x80 {
			return 0, false
		}
		sp := asciiSpace(c)
		if !sp && !inField {
			n++
		}
		inField = !sp
	}
	return n, true
}

// errRange marks a number MuJoCo's reader (strtod) refuses as out of range:
// an overflow, or an underflow to zero or to a subnormal.
var errRange = errors.New("number out of range")

func parseReal(f string) (float64, error) {
	// strconv accepts underscores, C's strtod does not.
	if strings.Contains(f, "_") {
		return 0, fmt.Errorf("bad number")
	}
	body := f
	for len(body) > 0 && (body[0] == '+' || body[0] == '-') {
		body = body[1:] // strings.TrimLeft(f, "+-"), without building its set
	}
	if lb := strings.ToLower(body); strings.HasPrefix(lb, "nan(") && strings.HasSuffix(lb, ")") {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return v, errRange
		}
		return 0, err
	}
	if v != 0 && !math.IsInf(v, 0) && !math.IsNaN(v) && math.Abs(v) < 0x1p-1022 {
		return v, errRange // subnormal
	}
	if v == 0 && nonzeroMantissa(body) {
		return v, errRange // underflow to zero
	}
	return v, nil
}

// nonzeroMantissa says whether the number text has a nonzero digit before
// its exponent.
func nonzeroMantissa(body string) bool {
	lb := strings.ToLower(body)
	digits, stop := "123456789", "e"
	if strings.HasPrefix(lb, "0x") {
		lb, digits, stop = lb[2:], "123456789abcdef", "p"
	}
	if i := strings.Index(lb, stop); i >= 0 {
		lb = lb[:i]
	}
	return strings.ContainsAny(lb, digits)
}
