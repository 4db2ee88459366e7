package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestCheckRedirect(t *testing.T) {
	req := func(ctx context.Context, u string) *http.Request {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	api, dl := withAPIMark(context.Background()), context.Background()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		via  []string
		to   string
		ok   bool
	}{
		{"API, same host", api, []string{"https://api.example/v1/assets"}, "https://api.example/v1/assets/", true},
		{"API, another host", api, []string{"https://api.example/v1/assets"}, "https://evil.example/v1/assets", false},
		{"API, a subdomain", api, []string{"https://example.com/v1/assets"}, "https://x.example.com/v1/assets", false},
		{"API, another port", api, []string{"http://127.0.0.1:8750/assets"}, "http://127.0.0.1:8751/assets", false},
		{"API, https to http", api, []string{"https://api.example/v1/assets"}, "http://api.example/v1/assets", false},
		{"download, another host", dl, []string{"https://api.example/d/1?sig=x"}, "https://cdn.example/o/1?sig=y", true},
		{"download, https to http", dl, []string{"https://api.example/d/1"}, "http://cdn.example/o/1", false},
		{"download, file", dl, []string{"https://api.example/d/1"}, "file:///etc/passwd", false},
		{"download, ftp", dl, []string{"https://api.example/d/1"}, "ftp://cdn.example/o/1", false},
		{"download, a loop", dl, []string{"https://a.example/1", "https://b.example/2"}, "https://a.example/1", false},
		{"download, five hops", dl, []string{"https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4", "https://a.example/5"}, "https://a.example/6", false},
		{"download, four hops", dl, []string{"https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4"}, "https://a.example/5", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var via []*http.Request
			for _, u := range tc.via {
				via = append(via, req(tc.ctx, u))
			}
			err := checkRedirect(req(tc.ctx, tc.to), via)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrRedirect) {
				t.Errorf("checkRedirect = %v, want ok %v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), "sig=") {
				t.Errorf("the error shows a signature: %v", err)
			}
		})
	}
}
