// Package hostile serves misbehaving Gizmo APIs over loopback for tests: a
// server that accepts connections and never answers, a plain web server, JSON
// of the wrong types, a total that lies, pages that repeat or never end,
// lengths that lie, and download URLs that redirect where they must not be
// followed. Each Mode is one such server; the download modes wrap a real
// emulator and misbehave only on its download URLs, so a client gets as far
// as the download.
package hostile

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
)

// Mode names one hostile behaviour.
type Mode string

// The modes. The API modes answer every API request so; the download modes
// serve a working API (an emulator with Config.Assets seeded assets) whose
// download URLs misbehave.
const (
	Hang       Mode = "hang"        // accept, read the request, never answer
	HTML       Mode = "html"        // 200 text/html to everything
	WrongTypes Mode = "wrong-types" // JSON whose fields have the wrong types
	LyingTotal Mode = "lying-total" // a total far above the assets there are
	Repeat     Mode = "repeat"      // the same page whatever the offset
	Endless    Mode = "endless"     // new assets on every page, forever
	HugeAnswer Mode = "huge-answer" // an API answer announcing 10 GB
	LongAnswer Mode = "long-answer" // an API answer longer than its Content-Length
	Escapes    Mode = "escapes"     // an emulator whose assets' names, prompts and tags hold terminal escapes
	AnyObject  Mode = "any-object"  // {"ok": true} to every request: looks like the current generation, lists nothing

	DownloadHang       Mode = "download-hang"          // a download that sends headers, then nothing
	DownloadHuge       Mode = "download-huge"          // a download announcing 10 GB
	DownloadLong       Mode = "download-long"          // a download body longer than its Content-Length
	DownloadHTML       Mode = "download-html"          // a download answered 200 with a web page
	RedirectOtherHost  Mode = "redirect-other-host"    // a download redirected to another host
	RedirectFile       Mode = "redirect-file"          // a download redirected to file:///etc/passwd
	RedirectLoop       Mode = "redirect-loop"          // a download redirected in a loop
	APIRedirectElsewhr Mode = "api-redirect-elsewhere" // every API request redirected to another host
)

// Modes lists every mode.
var Modes = []Mode{Hang, HTML, WrongTypes, LyingTotal, Repeat, Endless, HugeAnswer, LongAnswer, Escapes, AnyObject,
	DownloadHang, DownloadHuge, DownloadLong, DownloadHTML, RedirectOtherHost, RedirectFile, RedirectLoop, APIRedirectElsewhr}

// APIKey is the key the download modes' emulator expects.
const APIKey = "sk-hostile-5ecret"

// TenGB is the length the huge modes announce.
const TenGB = 10 << 30

// The Escapes mode's text: a name that clears the screen, sets the window
// title, rings the bell, turns red and forges a line; a prompt that writes
// the clipboard (OSC 52); a tag that turns bold and reverses the text.
const (
	EscapeName   = "arm\x1b[2J\x1b]0;pwned\x07\x1b[31mred\r\nforged line"
	EscapePrompt = "a prompt\x1b]52;c;cGFzdGU=\x07 with \u202eevil"
	EscapeTag    = "tag\x1b[1m"
)

// Server is a running hostile server.
type Server struct {
	URL string           // the API base URL
	Emu *emulator.Server // the emulator behind the download modes (nil otherwise)
	// Elsewhere is the other host redirects point at; AuthElsewhere counts
	// the requests that reached it with an Authorization header (never
	// more than 0 in a correct client), Elsewhere hits all of them.
	ElsewhereURL  string
	AuthElsewhere atomic.Int64
	HitsElsewhere atomic.Int64
	// Requests counts the requests the hostile server received.
	Requests atomic.Int64
	// IDs are the Escapes mode's assets: one ready, one failed.
	IDs []string

	srv, other *httptest.Server
	stop       chan struct{}
}

// Start starts a server in mode m on 127.0.0.1 (and, for the redirect
// modes, a second one on another port) and stops both when the test ends.
func Start(tb testing.TB, m Mode) *Server {
	tb.Helper()
	s, err := New(m)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// New starts a server in mode m; Close stops it.
func New(m Mode) (*Server, error) {
	s := &Server{stop: make(chan struct{})}
	s.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.HitsElsewhere.Add(1)
		if r.Header.Get("Authorization") != "" {
			s.AuthElsewhere.Add(1)
		}
		if s.Emu != nil && strings.HasPrefix(r.URL.Path, "/_download/") {
			s.Emu.Handler().ServeHTTP(w, r) // the redirected download, served
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"assets": [], "total": 0}`)
	}))
	s.ElsewhereURL = s.other.URL
	h, err := s.handler(m)
	if err != nil {
		s.other.Close()
		return nil, err
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the servers, ending any request left hanging.
func (s *Server) Close() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.other.Close()
}

func (s *Server) handler(m Mode) (http.Handler, error) {
	switch m {
	case Hang:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-s.stop:
			}
		}), nil
	case HTML:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html>\n<html><head><title>Welcome to nginx!</title></head><body>It works!</body></html>\n")
		}), nil
	case WrongTypes:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/assets" && r.Method == http.MethodGet:
				writeJSON(w, `{"assets": "none today", "total": "3"}`)
			case strings.HasSuffix(r.URL.Path, "/export"):
				writeJSON(w, `{"download_url": 42, "expires_at": true}`)
			default:
				writeJSON(w, `{"id": 7, "status": ["ready"], "name": {"x": 1}}`)
			}
		}), nil
	case LyingTotal, Repeat, Endless:
		return s.pages(m), nil
	case AnyObject:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, `{"ok": true}`)
		}), nil
	case HugeAnswer:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(TenGB))
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"assets": [`)
			// Then nothing: the client must not wait for the other 10 GB.
		}), nil
	case LongAnswer:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body := `{"assets": [{"id": "ast_long1", "status": "ready", "name": "one"}], "total": 1, "limit": 100, "offset": 0}`
			if r.URL.Path != "/assets" {
				body = `{"id": "` + strings.TrimPrefix(r.URL.Path, "/assets/") + `", "status": "ready", "name": "one"}`
			}
			writeLong(w, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, []byte(body))
		}), nil
	case Escapes:
		emu, err := emulator.New(emulator.Config{APIKey: APIKey})
		if err != nil {
			return nil, err
		}
		for _, st := range []api.Status{api.StatusReady, api.StatusFailed} {
			a, err := emu.AddAsset(EscapePrompt, EscapeName+" "+string(st), []string{EscapeTag}, st)
			if err != nil {
				return nil, err
			}
			s.IDs = append(s.IDs, a.ID)
		}
		s.Emu = emu
		return emu.Handler(), nil
	case APIRedirectElsewhr:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, s.ElsewhereURL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		}), nil
	case DownloadHang, DownloadHuge, DownloadLong, DownloadHTML, RedirectOtherHost, RedirectFile, RedirectLoop:
		emu, err := emulator.New(emulator.Config{APIKey: APIKey, Assets: 3, Seed: 7})
		if err != nil {
			return nil, err
		}
		s.Emu = emu
		return s.downloads(m, emu.Handler()), nil
	}
	return nil, fmt.Errorf("hostile: unknown mode %q (want one of %v)", m, Modes)
}

func writeJSON(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, body)
}

// pages serves GET /assets for the paging modes: LyingTotal has 30 assets
// and says 1000; Repeat sends assets 1-100 of a claimed 1000 whatever the
// offset; Endless sends new assets on every page, with a total always a page
// ahead. GET /assets/{id} answers a ready asset.
func (s *Server) pages(m Mode) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/assets" {
			id := strings.TrimPrefix(r.URL.Path, "/assets/")
			writeJSON(w, fmt.Sprintf(`{"id": %q, "status": "ready", "name": "n", "formats": ["mujoco_mjcf"]}`, id))
			return
		}
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit <= 0 {
			limit = 20
		}
		var first, n, total int
		switch m {
		case LyingTotal:
			first, n, total = offset, max(0, min(limit, 30-offset)), 1000
		case Repeat:
			first, n, total = 0, limit, 1000
		case Endless:
			first, n, total = offset, limit, offset+2*limit
		}
		var b strings.Builder
		fmt.Fprintf(&b, `{"assets": [`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id": "ast_%06d", "status": "ready", "name": "asset %d", "created_at": "2026-01-01T00:00:00Z"}`, first+i, first+i)
		}
		fmt.Fprintf(&b, `], "total": %d, "limit": %d, "offset": %d}`, total, limit, offset)
		writeJSON(w, b.String())
	})
}

// downloads serves the emulator's API and misbehaves on its download URLs.
func (s *Server) downloads(m Mode, emu http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_download/") && !strings.HasPrefix(r.URL.Path, "/_loop/") {
			emu.ServeHTTP(w, r)
			return
		}
		switch m {
		case DownloadHang:
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-s.stop:
			}
		case DownloadHuge:
			w.Header().Set("Content-Length", strconv.Itoa(TenGB))
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "PK\x03\x04")
		case DownloadLong:
			// The real file, announced at half its length.
			rec := &recorder{header: http.Header{}}
			emu.ServeHTTP(rec, r)
			writeLong(w, rec.status, rec.header, rec.body.Bytes())
		case DownloadHTML:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html><body><form action=/login>Sign in to continue</form></body></html>\n")
		case RedirectOtherHost:
			http.Redirect(w, r, s.ElsewhereURL+r.URL.RequestURI(), http.StatusFound)
		case RedirectFile:
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case RedirectLoop:
			next := "/_loop/a"
			if r.URL.Path == "/_loop/a" {
				next = "/_loop/b"
			}
			http.Redirect(w, r, next, http.StatusFound)
		}
	})
}

// writeLong sends body with a Content-Length of half its length, on the
// raw connection (net/http refuses to write more than the length), then
// closes the connection.
func writeLong(w http.ResponseWriter, status int, h http.Header, body []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	h = h.Clone()
	h.Set("Content-Length", strconv.Itoa(len(body)/2))
	h.Set("Connection", "close")
	h.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(body)
	buf.Flush()
}

// recorder captures a handler's answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
