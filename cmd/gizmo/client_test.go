package main

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4GiB": 4 << 30, "500MiB": 500 << 20, "8g": 8 << 30, "1.5K": 1536, "100": 100, " 2 MB ": 2 << 20, "1TiB": 1 << 40,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "big", "-1", "0", "GiB", "1PiB", "9999999TiB"} {
		if got, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, accepted", bad, got)
		}
	}
}
