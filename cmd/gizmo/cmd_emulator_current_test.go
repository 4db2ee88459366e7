package main

import (
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	for _, tc := range []struct {
		in  string
		n   int
		per time.Duration
		ok  bool
	}{
		{"", 0, time.Second, true},
		{"50", 50, time.Second, true},
		{"50/s", 50, time.Second, true},
		{"100/m", 100, time.Minute, true},
		{" 100/M ", 100, time.Minute, true},
		{"1000/h", 1000, time.Hour, true},
		{"100/d", 0, 0, false},
		{"-1/m", 0, 0, false},
		{"ten/m", 0, 0, false},
	} {
		n, per, err := parseRateLimit(tc.in)
		if (err == nil) != tc.ok || tc.ok && (n != tc.n || per != tc.per) {
			t.Errorf("parseRateLimit(%q) = %d, %v, %v; want %d, %v, ok %v", tc.in, n, per, err, tc.n, tc.per, tc.ok)
		}
	}
}
