package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/backoff"
)

func TestBackoff(t *testing.T) {
	r := newRetrier(Options{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	r.jitter = func(n int64) int64 { return n - 1 } // the ceiling
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for i, w := range want {
		if got := r.backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	r.jitter = func(n int64) int64 { return 0 }
	if got := r.backoff(3); got != 0 {
		t.Errorf("full jitter floor = %v, want 0", got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	r := newRetrier(Options{MaxRetryAfter: 30 * time.Second})
	r.now = func() time.Time { return now }
	cases := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"2", 2 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{"3600", 30 * time.Second, true}, // capped
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{now.Add(-10 * time.Second).Format(http.TimeFormat), 0, true},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		got, ok := r.retryAfter(h)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Retry-After %q = %v, %v; want %v, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestGate(t *testing.T) {
	now := time.Unix(1000, 0)
	var slept []time.Duration
	r := retrier{
		now: func() time.Time { return now },
		sleep: func(ctx context.Context, d time.Duration) error {
			slept = append(slept, d)
			now = now.Add(d)
			return nil
		},
	}
	var g gate
	if err := g.wait(context.Background(), r); err != nil || len(slept) != 0 {
		t.Fatalf("open gate waited %v, %v", slept, err)
	}
	g.hold(now, 3*time.Second)
	g.hold(now, time.Second) // a shorter hold does not reopen it early
	if err := g.wait(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || slept[0] != 3*time.Second {
		t.Errorf("slept %v, want [3s]", slept)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.hold(now, time.Second)
	r.sleep = backoff.Sleep
	if err := g.wait(ctx, r); !errors.Is(err, context.Canceled) {
		t.Errorf("wait on a cancelled context = %v", err)
	}
}

func TestReadError(t *testing.T) {
	cases := []struct {
		name                    string
		status                  int
		download                bool
		body                    string
		sentinel                error
		category, code, message string
	}{
		{"flat json", 404, false, `{"error":"not_found","code":"asset_not_found","message":"no asset"}`, ErrNotFound, "not_found", "asset_not_found", "no asset"},
		{"nested json", 403, false, `{"error":{"type":"forbidden","code":"no_scope","message":"key lacks export"}}`, ErrForbidden, "forbidden", "no_scope", "key lacks export"},
		{"only code", 409, false, `{"code":"not_ready"}`, ErrNotReady, "", "not_ready", ""},
		{"xml", 403, true, `<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`, ErrURLExpired, "", "AccessDenied", "Request has expired"},
		{"html", 502, false, "<html>\n<body>Bad   gateway</body></html>", ErrServer, "", "", "<html> <body>Bad gateway</body></html>"},
		{"text", 401, false, "go away\n", ErrUnauthorized, "", "", "go away"},
		{"empty", 429, false, "", ErrRateLimited, "", "", ""},
		{"other 4xx", 422, false, `[1,2]`, ErrBadRequest, "", "", "[1,2]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Body: io.NopCloser(strings.NewReader(tc.body))}
			e := readError("op", resp, tc.download)
			if !errors.Is(e, tc.sentinel) || e.StatusCode != tc.status {
				t.Errorf("kind %v status %d, want %v %d", e.kind, e.StatusCode, tc.sentinel, tc.status)
			}
			if e.Category != tc.category || e.Code != tc.code || e.Message != tc.message {
				t.Errorf("got %q %q %q, want %q %q %q", e.Category, e.Code, e.Message, tc.category, tc.code, tc.message)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"https://store.example/_download/ast_1/mujoco_mjcf?expires=1&sig=abc": "https://store.example/_download/ast_1/mujoco_mjcf?<redacted>",
		"https://user:pw@host/p#frag":                                         "https://host/p",
		"http://host/plain":                                                   "http://host/plain",
		"http://host/x?":                                                      "http://host/x?<redacted>",
		"::::":                                                                "<unparsable URL>",
	}
	for in, want := range cases {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSafeFilename(t *testing.T) {
	cases := []struct{ in, want string }{
		{"robot.zip", "robot.zip"},
		{"../../etc/passwd", "passwd"},
		{`..\..\win.ini`, "win.ini"},
		{"/abs/path/arm.usda", "arm.usda"},
		{".hidden", "hidden"},
		{"..", "fallback"},
		{"", "fallback"},
		{"a b\tc\x00.xml", "a_b_c_.xml"},
		{"what?.zip", "what_.zip"},
		{strings.Repeat("é", 100) + ".zip", strings.Repeat("é", 64)},
	}
	for _, tc := range cases {
		if got := SafeFilename(tc.in, "fallback"); got != tc.want {
			t.Errorf("SafeFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzSafeFilename(f *testing.F) {
	for _, s := range []string{"robot.zip", "../../x", `..\a`, "", ".", "a/b/c.urdf", "\x00", "é.xml"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hint string) {
		got := SafeFilename(hint, "fallback")
		if got == "" || len(got) > 128 || strings.ContainsAny(got, "/\\\x00") || strings.HasPrefix(got, ".") {
			t.Fatalf("SafeFilename(%q) = %q", hint, got)
		}
		for _, r := range got {
			if r < ' ' || r == 0x7f {
				t.Fatalf("SafeFilename(%q) = %q holds a control character", hint, got)
			}
		}
	})
}

func FuzzReadError(f *testing.F) {
	f.Add(404, `{"error":"not_found","code":"x","message":"m"}`)
	f.Add(403, `<Error><Code>AccessDenied</Code></Error>`)
	f.Add(500, "plain\ntext")
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 400 || status > 599 {
			return
		}
		resp := &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body))}
		e := readError("op", resp, status%2 == 0)
		if e.StatusCode != status || e.kind == nil || e.Error() == "" {
			t.Fatalf("readError(%d, %q) = %+v", status, body, e)
		}
		if strings.ContainsAny(e.Message, "\n\r\t") {
			t.Fatalf("message %q keeps control characters", e.Message)
		}
	})
}

func TestAfter429(t *testing.T) {
	r := newRetrier(Options{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxRetryAfter: time.Minute})
	r.jitter = func(n int64) int64 { return n - 1 } // the ceiling
	cases := []struct {
		name, header string
		want         time.Duration
	}{
		{"Retry-After in seconds", "3", 3 * time.Second},
		{"Retry-After capped", "3600", time.Minute},
		{"no header: the backoff", "", 400 * time.Millisecond},
		{"garbled header: the backoff", "soon", 400 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.header != "" {
				h.Set("Retry-After", c.header)
			}
			if got := r.after429(h, 3); got != c.want {
				t.Errorf("after429(%q, 3) = %v, want %v", c.header, got, c.want)
			}
		})
	}
}
