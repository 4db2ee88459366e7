package ui

import (
	"strings"
	"testing"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{5 << 20, "5.0 MiB"},
		{3 << 30, "3.0 GiB"},
		{2 << 40, "2.0 TiB"}, // the commands' copy stopped at GiB ("2048.0 GiB")
	} {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		want        string
	}{
		{0, 0, "[----]"},
		{0, 4, "[----]"},
		{2, 4, "[##--]"},
		{4, 4, "[####]"},
		{9, 4, "[####]"},  // more than the total never overflows
		{-1, 4, "[----]"}, // nor does a negative count
	} {
		if got := Bar(tc.done, tc.total, 4); got != tc.want {
			t.Errorf("Bar(%d, %d) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
}

func TestTableCleansCells(t *testing.T) {
	var b strings.Builder
	tb := NewTable(&b, "A", "B")
	tb.Row("x\ty", "\x1b[31mred")
	if err := tb.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "A    B\nx y  \\x1b[31mred\n"; b.String() != want {
		t.Errorf("table = %q, want %q", b.String(), want)
	}
}
