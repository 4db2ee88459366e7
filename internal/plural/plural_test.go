package plural

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n         int
		one, many string
		want      string
	}{
		{0, "model", "models", "0 models"},
		{1, "model", "models", "1 model"},
		{2, "model", "models", "2 models"},
		{-1, "byte", "bytes", "-1 byte"},
		{1, "entry", "entries", "1 entry"},
		{11, "entry", "entries", "11 entries"},
		{1, "validation error", "validation errors", "1 validation error"},
		{21, "folder written", "folders written", "21 folders written"},
	} {
		if got := Count(tc.n, tc.one, tc.many); got != tc.want {
			t.Errorf("Count(%d, %q, %q) = %q, want %q", tc.n, tc.one, tc.many, got, tc.want)
		}
	}
	if Word(1, "asset", "assets") != "asset" || Word(3, "asset", "assets") != "assets" {
		t.Error("Word does not pick the singular for 1 and the plural otherwise")
	}
}
