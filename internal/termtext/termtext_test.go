package termtext

import "testing"

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, clean, lines string }{
		{"arm 1", "arm 1", "arm 1"},
		{"tab\there", "tab\there", "tab\there"},
		{"bras à 6 axes, ロボット", "bras à 6 axes, ロボット", "bras à 6 axes, ロボット"},
		{"arm\x1b[2J\x1b]0;pwned\x07", `arm\x1b[2J\x1b]0;pwned\x07`, `arm\x1b[2J\x1b]0;pwned\x07`},
		{"one\ntwo", `one\x0atwo`, "one\ntwo"},
		{"over\rwrite", `over\x0dwrite`, `over\x0dwrite`},
		{"c1 \u009b31m", `c1 \u009b31m`, `c1 \u009b31m`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`, `evil\u202etxt.exe`},
		{"bad \xff byte", `bad \xff byte`, `bad \xff byte`},
		{"del\x7f", `del\x7f`, `del\x7f`},
	} {
		if got := Clean(tc.in); got != tc.clean {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.clean)
		}
		if got := Lines(tc.in); got != tc.lines {
			t.Errorf("Lines(%q) = %q, want %q", tc.in, got, tc.lines)
		}
	}
}
