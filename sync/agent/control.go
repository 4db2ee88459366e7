package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// maxSocketPath is the longest unix socket path every platform takes
// (sun_path is 104 bytes on macOS and the BSDs, 108 on Linux).
const maxSocketPath = 103

// SocketPath is where the control API of the agent on cacheDir listens.
func SocketPath(cacheDir string) string { return filepath.Join(cacheDir, SocketName) }

// Listen opens the control socket in the cache directory with mode 0600:
// it is made under a temporary name, restricted, then renamed into place,
// so that it is never reachable by others. The caller holds the instance
// lock, so a socket already there is a dead agent's and is replaced.
func Listen(cacheDir string) (net.Listener, error) {
	path := SocketPath(cacheDir)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("control socket %s: the path is %d bytes, more than unix sockets allow (%d): use a shorter --cache-dir", path, len(path), maxSocketPath)
	}
	tmp := filepath.Join(filepath.Dir(path), "agent-"+strconv.Itoa(os.Getpid())+".sock")
	os.Remove(tmp)
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", tmp, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("control socket %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return &socketListener{Listener: ln, path: path}, nil
}

// socketListener removes its socket file when closed.
type socketListener struct {
	net.Listener
	path string
}

func (l *socketListener) Close() error {
	err := l.Listener.Close()
	os.Remove(l.path)
	return err
}

// Handler is the control API:
//
//	GET  /status   the agent's state as JSON (Status)
//	GET  /healthz  200 "ok" while the agent runs
//	GET  /readyz   200 once the first pass is done, 503 before
//	GET  /metrics  Prometheus text format
//	POST /sync     run a pass now (202)
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(a.Status())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		ready := a.ready
		a.mu.Unlock()
		if !ready {
			http.Error(w, "not ready: the first pass is running", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		a.metrics.write(w, a.gauges())
	})
	mux.HandleFunc("POST /sync", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		if a.SyncNow() {
			io.WriteString(w, "sync started\n")
		} else {
			io.WriteString(w, "a sync is already due\n")
		}
	})
	return mux
}

// Serve answers the control API on ln until ctx ends.
func (a *Agent) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ErrNotRunning is what Client calls return when no agent answers on the
// cache's socket.
var ErrNotRunning = errors.New("no gizmo agent is running on this cache")

// Client talks to the control API of the agent on a cache directory.
type Client struct {
	CacheDir string
	hc       *http.Client
}

func (c *Client) http() *http.Client {
	if c.hc == nil {
		path := SocketPath(c.CacheDir)
		c.hc = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", path)
			},
		}}
	}
	return c.hc
}

// Get fetches a path of the control API; ErrNotRunning when no agent
// listens.
func (c *Client) Get(ctx context.Context, path string) (*http.Response, error) {
	return c.do(ctx, http.MethodGet, path)
}

// Post posts to a path of the control API.
func (c *Client) Post(ctx context.Context, path string) (*http.Response, error) {
	return c.do(ctx, http.MethodPost, path)
}

func (c *Client) do(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://gizmo-agent"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w (%s): start one with 'gizmo agent run'", ErrNotRunning, SocketPath(c.CacheDir))
		}
		return nil, fmt.Errorf("agent control socket %s: %w", SocketPath(c.CacheDir), err)
	}
	return resp, nil
}

// Status reads the running agent's status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	resp, err := c.Get(ctx, "/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("agent status: HTTP %d", resp.StatusCode)
	}
	var s Status
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, fmt.Errorf("agent status: %w", err)
	}
	return &s, nil
}
