package agent

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The control API over a real unix socket: mode 0600, readiness, metrics
// in the Prometheus text format, POST /sync.
func TestControlAPI(t *testing.T) {
	dir := t.TempDir()
	a := New(Config{CacheDir: dir, Version: "v1.2.3"}, Deps{})
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(SocketPath(dir))
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v, mode %v; want a socket with mode 0600", SocketPath(dir), err, fi.Mode())
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	c := &Client{CacheDir: dir}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the first pass: %d, want 503", code)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	a.mu.Lock()
	a.ready = true
	a.mu.Unlock()
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the first pass: %d, want 200", code)
	}
	st, err := c.Status(context.Background())
	if err != nil || st.PID != os.Getpid() || st.Version != "v1.2.3" || !st.Ready || st.Projects == nil || st.Downloads == nil || st.Errors == nil {
		t.Errorf("status: %+v, %v", st, err)
	}

	// Every sample line of /metrics is "name{labels} value", and every
	// metric has HELP and TYPE.
	a.metrics.counter("2xx").Add(3)
	a.metrics.restores.Add(2)
	_, body := get("/metrics")
	sample := regexp.MustCompile(`^[a-z_]+(\{[a-z]+="[a-z0-9]+"\})? -?[0-9.e+]+$`)
	types := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		switch {
		case strings.HasPrefix(l, "# TYPE "):
			types[strings.Fields(l)[2]] = true
		case strings.HasPrefix(l, "# HELP "):
		case !sample.MatchString(l):
			t.Errorf("not a Prometheus sample line: %q", l)
		default:
			name := strings.TrimSuffix(strings.TrimSuffix(regexp.MustCompile(`[{ ].*`).ReplaceAllString(l, ""), "_sum"), "_count")
			if !types[name] {
				t.Errorf("%s has no TYPE line before it", name)
			}
		}
	}
	for _, want := range []string{`gizmo_agent_requests_total{class="2xx"} 3`, "gizmo_agent_restores_total 2", "gizmo_agent_ready 1"} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// POST /sync asks for a pass; GET is refused.
	resp, err := c.Post(context.Background(), "/sync")
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /sync: %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case <-a.trigger:
	default:
		t.Error("POST /sync did not ask for a pass")
	}
	if code, _ := get("/sync"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /sync: %d, want 405", code)
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	ln.Close()
	if _, err := os.Stat(SocketPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket is left after Close: %v", err)
	}
	if _, err := c.Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("status with no agent: %v, want ErrNotRunning", err)
	}
}

func TestListenRefusesLongPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(dir); err == nil || !strings.Contains(err.Error(), "shorter --cache-dir") {
		t.Errorf("Listen in a deep folder: %v, want an error asking for a shorter --cache-dir", err)
	}
}

// A second Lock on one cache is refused with the holder's PID.
func TestLockOnePerCache(t *testing.T) {
	dir := t.TempDir()
	l, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(dir)
	var busy *BusyError
	if !errors.As(err, &busy) || busy.PID != os.Getpid() || !strings.Contains(err.Error(), "PID") {
		t.Fatalf("second Lock: %v, want a BusyError naming PID %d", err, os.Getpid())
	}
	l.Unlock()
	l, err = Lock(dir)
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	l.Unlock()
}
