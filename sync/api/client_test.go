package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/testbuf"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

const testKey = "sk-test-5ecret-key"

// fixture is an emulator plus a client with tiny backoffs and a log buffer.
type fixture struct {
	srv    *emulator.Server
	url    string
	client *api.Client
	log    *testbuf.Buffer
}

func start(t *testing.T, cfg emulator.Config, tweak func(*api.Options)) *fixture {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	srv, u := emulatortest.StartTest(t, cfg)
	f := &fixture{srv: srv, url: u, log: &testbuf.Buffer{}}
	o := api.Options{
		BaseURL: u, APIKey: cfg.APIKey, UserAgent: "gizmo/test",
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		PollInterval: 2 * time.Millisecond, PollMax: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&o)
	}
	c, err := api.New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.client = c
	t.Cleanup(func() {
		// Whatever the test did, the key and signatures never reach the log.
		if s := f.log.String(); strings.Contains(s, testKey) || strings.Contains(s, "sig=") {
			t.Errorf("log leaks a secret:\n%s", s)
		}
	})
	return f
}

func apiErr(t *testing.T, err error) *api.Error {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *api.Error", err, err)
	}
	return e
}

func TestEndpoints(t *testing.T) {
	f := start(t, emulator.Config{Assets: 3, Seed: 7}, nil)
	ctx := context.Background()

	a, err := f.client.Create(ctx, api.CreateRequest{Prompt: "A 6-DOF industrial robotic arm", Name: "arm", Tags: []string{"arm", "v2"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ID, "ast_") || a.Name != "arm" || a.Prompt != "A 6-DOF industrial robotic arm" || a.CreatedAt.IsZero() {
		t.Errorf("created %+v", a)
	}
	// No gen delay: ready at once, with every format.
	g, err := f.client.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g.Status != api.StatusReady || len(g.Formats) != 3 || strings.Join(g.Tags, ",") != "arm,v2" {
		t.Errorf("get %+v", g)
	}
	p, err := f.client.List(ctx, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 4 || p.Limit != 2 || p.Offset != 1 || len(p.Assets) != 2 {
		t.Errorf("list page %+v", p)
	}
	for _, format := range formats.All {
		e, err := f.client.Export(ctx, a.ID, format)
		if err != nil {
			t.Fatal(err)
		}
		if time.Until(e.ExpiresAt) <= 0 {
			t.Errorf("%s: URL already expired at %v", format, e.ExpiresAt)
		}
		var buf bytes.Buffer
		var lastDone, lastTotal int64
		d, err := f.client.Download(ctx, e.URL, &buf, func(done, total int64) { lastDone, lastTotal = done, total })
		if err != nil {
			t.Fatal(err)
		}
		want, err := f.srv.ExportBytes(a.ID, format)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: downloaded %d bytes differ from the %d served", format, buf.Len(), len(want))
		}
		if d.Size != int64(len(want)) || lastDone != d.Size || lastTotal != d.Size {
			t.Errorf("%s: size %d, progress %d/%d, want %d", format, d.Size, lastDone, lastTotal, len(want))
		}
		if !strings.HasPrefix(d.ETag, `"`) || d.Filename == "" || strings.ContainsAny(d.Filename, `/\`) {
			t.Errorf("%s: etag %q filename %q", format, d.ETag, d.Filename)
		}
	}
}

func TestErrorStatuses(t *testing.T) {
	f := start(t, emulator.Config{Seed: 2, ReadOnlyAPIKey: "read-only"}, nil)
	ctx := context.Background()
	pending, err := f.srv.AddAsset("A humanoid robot", "h", nil, api.StatusPending)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := api.New(api.Options{BaseURL: f.url, APIKey: "wrong", BaseBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	noKey, err := api.New(api.Options{BaseURL: f.url, BaseBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	readOnly, err := api.New(api.Options{BaseURL: f.url, APIKey: "read-only", BaseBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		call     func() error
		sentinel error
		status   int
		code     string
	}{
		{"wrong key", func() error { _, err := wrongKey.Get(ctx, pending.ID); return err }, api.ErrUnauthorized, 401, "invalid_api_key"},
		{"no key", func() error { _, err := noKey.List(ctx, 10, 0); return err }, api.ErrUnauthorized, 401, "missing_api_key"},
		{"read-only key exports", func() error { _, err := readOnly.Export(ctx, pending.ID, formats.MuJoCo); return err }, api.ErrForbidden, 403, "insufficient_scope"},
		{"read-only key creates", func() error { _, err := readOnly.Create(ctx, api.CreateRequest{Prompt: "arm"}); return err }, api.ErrForbidden, 403, "insufficient_scope"},
		{"unknown asset", func() error { _, err := f.client.Get(ctx, "ast_nope"); return err }, api.ErrNotFound, 404, "asset_not_found"},
		{"export unknown asset", func() error { _, err := f.client.Export(ctx, "ast_nope", formats.MuJoCo); return err }, api.ErrNotFound, 404, "asset_not_found"},
		{"export not ready", func() error { _, err := f.client.Export(ctx, pending.ID, formats.IsaacURDF); return err }, api.ErrNotReady, 409, "asset_not_ready"},
		{"unknown format", func() error { _, err := f.client.Export(ctx, pending.ID, "fbx"); return err }, api.ErrBadRequest, 400, "unknown_format"},
		{"limit too big", func() error { _, err := f.client.List(ctx, 101, 0); return err }, api.ErrBadRequest, 400, "invalid_limit"},
		{"empty prompt", func() error { _, err := f.client.Create(ctx, api.CreateRequest{Prompt: "  "}); return err }, api.ErrBadRequest, 400, "prompt_required"},
	}
	if _, err := readOnly.Get(ctx, pending.ID); err != nil {
		t.Errorf("the read-only key cannot read: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.srv.ResetStats()
			err := tc.call()
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("error %v, want %v", err, tc.sentinel)
			}
			e := apiErr(t, err)
			if e.StatusCode != tc.status || e.Code != tc.code || e.Message == "" {
				t.Errorf("error %+v, want status %d code %s and a message", e, tc.status, tc.code)
			}
			st := f.srv.Stats()
			if n := st.List.Requests + st.Get.Requests + st.Create.Requests + st.Export.Requests; n != 1 {
				t.Errorf("%d requests sent, want 1: a %d is not retried", n, tc.status)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

func TestServerErrors(t *testing.T) {
	t.Run("burst recovers", func(t *testing.T) {
		f := start(t, emulator.Config{Assets: 20, Seed: 4, ErrorRate: 0.5}, func(o *api.Options) { o.MaxAttempts = 12 })
		p, err := f.client.List(context.Background(), 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := len(p.Assets)
		for i := 0; i < 20; i++ {
			if _, err := f.client.List(context.Background(), 1, i); err != nil {
				t.Fatal(err)
			}
		}
		if st := f.srv.Stats(); st.List.Errors == 0 || n != 20 {
			t.Errorf("listed %d, %d injected errors: the test proves nothing", n, st.List.Errors)
		}
	})
	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		f := start(t, emulator.Config{Assets: 1, ErrorRate: 1}, func(o *api.Options) { o.MaxAttempts = 4 })
		_, err := f.client.List(context.Background(), 10, 0)
		if !errors.Is(err, api.ErrServer) || apiErr(t, err).StatusCode != 503 {
			t.Fatalf("error %v, want a 503 ErrServer", err)
		}
		if n := f.srv.Stats().List.Requests; n != 4 {
			t.Errorf("%d requests, want 4", n)
		}
	})
	t.Run("create is never retried on 5xx", func(t *testing.T) {
		f := start(t, emulator.Config{ErrorRate: 1}, nil)
		_, err := f.client.Create(context.Background(), api.CreateRequest{Prompt: "gripper"})
		if !errors.Is(err, api.ErrServer) {
			t.Fatalf("error %v, want ErrServer", err)
		}
		if n := f.srv.Stats().Create.Requests; n != 1 {
			t.Errorf("%d create requests, want 1", n)
		}
	})
}

func TestRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a Retry-After of 1s")
	}
	f := start(t, emulator.Config{Assets: 5, RateLimit: 4}, func(o *api.Options) { o.MaxAttempts = 8 })
	ctx := context.Background()
	ids := []string{}
	p, err := f.client.List(ctx, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Assets {
		ids = append(ids, a.ID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.client.Get(ctx, ids[i%len(ids)])
			errs <- err
		}()
	}
	// A create hitting 429 is retried (the server created nothing).
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := f.client.Create(ctx, api.CreateRequest{Prompt: "A quadruped"})
		errs <- err
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	st := f.srv.Stats()
	if st.Get.Errors+st.Create.Errors == 0 {
		t.Error("no request was rate limited: the test proves nothing")
	}
	if st.Assets != 6 {
		t.Errorf("%d assets, want 6: a retried create made a duplicate", st.Assets)
	}
}

func TestRateLimitExhausted(t *testing.T) {
	f := start(t, emulator.Config{Assets: 1, RateLimit: 1}, func(o *api.Options) {
		o.MaxAttempts = 2
		o.MaxRetryAfter = 5 * time.Millisecond // cap the server's 1s
	})
	ctx := context.Background()
	var err error
	for range 3 {
		if _, err = f.client.List(ctx, 1, 0); err != nil {
			break
		}
	}
	if !errors.Is(err, api.ErrRateLimited) {
		t.Fatalf("error %v, want ErrRateLimited", err)
	}
	if e := apiErr(t, err); e.RetryAfter != 5*time.Millisecond || e.StatusCode != 429 {
		t.Errorf("429 error %+v: want Retry-After capped to 5ms", e)
	}
}

// recorder wraps the emulator's handler to see the headers clients send.
type recorder struct {
	mu      sync.Mutex
	auth    map[string][]string // path prefix → Authorization values seen
	agents  map[string]bool
	handler http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	kind := "api"
	if strings.HasPrefix(req.URL.Path, "/_download/") {
		kind = "download"
	}
	r.mu.Lock()
	r.auth[kind] = append(r.auth[kind], req.Header.Get("Authorization"))
	r.agents[req.Header.Get("User-Agent")] = true
	r.mu.Unlock()
	r.handler.ServeHTTP(w, req)
}

func TestKeyNeverReachesDownloadHost(t *testing.T) {
	// Downloads are minted on a second listener reached by another host
	// name ("localhost" instead of 127.0.0.1), as an object store would be.
	srvCfg := emulator.Config{APIKey: testKey, Assets: 3, MaxPerAssetRate: emulatortest.MaxPerAssetRate}
	dl := &recorder{auth: map[string][]string{}, agents: map[string]bool{}}
	dlServer := httptest.NewServer(dl)
	defer dlServer.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(dlServer.URL, "http://"))
	srvCfg.DownloadBaseURL = "http://localhost:" + port
	srv, err := emulator.New(srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := emulatortest.CheckPerAssetRate(srv); err != nil {
			t.Error(err)
		}
	})
	dl.handler = srv.Handler()
	apiRec := &recorder{auth: map[string][]string{}, agents: map[string]bool{}, handler: srv.Handler()}
	apiServer := httptest.NewServer(apiRec)
	defer apiServer.Close()

	logs := &testbuf.Buffer{}
	c, err := api.New(api.Options{BaseURL: apiServer.URL, APIKey: testKey, UserAgent: "gizmo/1.2.3",
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := c.List(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.Export(ctx, p.Assets[0].ID, formats.MuJoCo)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.URL, "http://localhost:") {
		t.Fatalf("download URL %s is not on the second host", api.RedactURL(e.URL))
	}
	if _, err := c.Download(ctx, e.URL, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	// A refused download: its error must not show the signature either.
	_, err = c.Download(ctx, e.URL+"0", io.Discard, nil)
	if !errors.Is(err, api.ErrURLExpired) || strings.Contains(err.Error(), "sig=") || strings.Contains(err.Error(), testKey) {
		t.Errorf("tampered download: %v", err)
	}
	for _, v := range apiRec.auth["api"] {
		if v != "Bearer "+testKey {
			t.Errorf("API request with Authorization %q", v)
		}
	}
	if len(dl.auth["download"]) != 2 {
		t.Fatalf("download host saw %d requests, want 2", len(dl.auth["download"]))
	}
	for _, v := range dl.auth["download"] {
		if v != "" {
			t.Errorf("the download host received Authorization %q", v)
		}
	}
	if srv.Stats().DownloadAuthorization != 0 {
		t.Error("emulator counted a download with an Authorization header")
	}
	if !apiRec.agents["gizmo/1.2.3"] || !dl.agents["gizmo/1.2.3"] || len(apiRec.agents) != 1 {
		t.Errorf("user agents: API %v, download %v", apiRec.agents, dl.agents)
	}
	if s := logs.String(); strings.Contains(s, testKey) || strings.Contains(s, "sig=") || s == "" {
		t.Errorf("debug log leaks a secret or is empty:\n%s", s)
	}
}

func TestDownloadTruncated(t *testing.T) {
	f := start(t, emulator.Config{Assets: 1, TruncateRate: 1}, nil)
	ctx := context.Background()
	p, _ := f.client.List(ctx, 1, 0)
	id := p.Assets[0].ID
	e, err := f.client.Export(ctx, id, formats.IsaacURDF)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, err = f.client.Download(ctx, e.URL, &buf, nil)
	if !errors.Is(err, api.ErrTruncated) {
		t.Fatalf("error %v, want ErrTruncated", err)
	}
	if strings.Contains(err.Error(), "sig=") {
		t.Errorf("error shows the signature: %v", err)
	}
}

// fakeClock is a settable clock for the emulator.
type fakeClock struct{ t atomic.Int64 }

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *fakeClock) Add(d time.Duration) { c.t.Add(int64(d)) }
func newClock(t time.Time) *fakeClock    { c := &fakeClock{}; c.t.Store(t.UnixNano()); return c }

func TestDownloadURLExpired(t *testing.T) {
	clock := newClock(time.Now())
	f := start(t, emulator.Config{Assets: 1, URLTTL: time.Minute, Now: clock.Now}, nil)
	ctx := context.Background()
	p, _ := f.client.List(ctx, 1, 0)
	e, err := f.client.Export(ctx, p.Assets[0].ID, formats.IsaacUSD)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute + time.Second)
	_, err = f.client.Download(ctx, e.URL, io.Discard, nil)
	if !errors.Is(err, api.ErrURLExpired) {
		t.Fatalf("error %v, want ErrURLExpired", err)
	}
	if ae := apiErr(t, err); ae.StatusCode != 403 || ae.Code != "AccessDenied" || ae.Message != "Request has expired" {
		t.Errorf("error %+v: want 403 AccessDenied from the XML body", ae)
	}
	if n := f.srv.Stats().Download.Requests; n != 1 {
		t.Errorf("%d download requests, want 1: a 403 is not retried", n)
	}
	// A fresh export works again.
	e, err = f.client.Export(ctx, p.Assets[0].ID, formats.IsaacUSD)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Download(ctx, e.URL, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	// Tampering with the expiry breaks the signature.
	u, _ := url.Parse(e.URL)
	q := u.Query()
	q.Set("expires", "99999999999")
	u.RawQuery = q.Encode()
	_, err = f.client.Download(ctx, u.String(), io.Discard, nil)
	if !errors.Is(err, api.ErrURLExpired) || apiErr(t, err).Code != "SignatureDoesNotMatch" {
		t.Errorf("tampered URL: %v", err)
	}
}

func TestCancellation(t *testing.T) {
	t.Run("download", func(t *testing.T) {
		f := start(t, emulator.Config{Assets: 1, Slow: 2000}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p, _ := f.client.List(ctx, 1, 0)
		e, err := f.client.Export(ctx, p.Assets[0].ID, formats.MuJoCo)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.client.Download(ctx, e.URL, io.Discard, func(done, total int64) {
			if done > 0 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) && !errors.Is(err, api.ErrTruncated) {
			t.Fatalf("error %v, want a cancelled download", err)
		}
		if ctx.Err() == nil {
			t.Fatal("progress was never reported")
		}
	})
	t.Run("retry wait", func(t *testing.T) {
		f := start(t, emulator.Config{Assets: 1, ErrorRate: 1}, func(o *api.Options) {
			o.BaseBackoff, o.MaxBackoff = time.Hour, time.Hour
		})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := f.client.Get(ctx, "ast_x")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "503") {
			t.Fatalf("error %v, want the deadline with the last failure", err)
		}
	})
	t.Run("wait ready", func(t *testing.T) {
		f := start(t, emulator.Config{GenDelay: time.Hour}, func(o *api.Options) {
			o.PollInterval, o.PollMax = 50*time.Millisecond, 100*time.Millisecond
		})
		a, err := f.client.Create(context.Background(), api.CreateRequest{Prompt: "A gripper"})
		if err != nil {
			t.Fatal(err)
		}
		// Long enough for the first status read on a loaded machine, short
		// of the hour the asset takes; polls every 50-100 ms stay under the
		// emulator's 20 a second for one asset.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		last, err := f.client.WaitReady(ctx, a.ID, nil)
		if !errors.Is(err, context.DeadlineExceeded) || last == nil || last.Status != api.StatusPending {
			t.Fatalf("WaitReady = %+v, %v; want the pending asset and the deadline", last, err)
		}
	})
}

func TestWaitReady(t *testing.T) {
	start0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		failRate float64
		want     api.Status
	}{{"ready", 0, api.StatusReady}, {"failed", 1, api.StatusFailed}} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock(start0)
			f := start(t, emulator.Config{GenDelay: 10 * time.Second, FailRate: tc.failRate, Now: clock.Now}, nil)
			ctx := context.Background()
			a, err := f.client.Create(ctx, api.CreateRequest{Prompt: "A humanoid"})
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != api.StatusPending {
				t.Errorf("new asset is %s, want pending", a.Status)
			}
			var seen []api.Status
			got, err := f.client.WaitReady(ctx, a.ID, func(a api.Asset) {
				if len(seen) == 0 || seen[len(seen)-1] != a.Status {
					seen = append(seen, a.Status)
				}
				clock.Add(2 * time.Second) // each poll moves time on
			})
			if tc.want == api.StatusFailed {
				if !errors.Is(err, api.ErrGenerationFailed) || got == nil || got.Error == "" {
					t.Fatalf("WaitReady = %+v, %v; want a failed asset with its reason", got, err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			want := []api.Status{api.StatusPending, api.StatusProcessing, tc.want}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Errorf("statuses %v, want %v", seen, want)
			}
			if got.Status == api.StatusReady && len(got.Formats) != 3 {
				t.Errorf("ready asset lists formats %v", got.Formats)
			}
		})
	}
}

func TestCreateRetriedOnlyWhenNotSent(t *testing.T) {
	// A port nothing listens on: the connection is refused, so create is
	// retried (nothing was created) until the attempts run out.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logs := &testbuf.Buffer{}
	c, err := api.New(api.Options{BaseURL: "http://" + addr, APIKey: testKey, MaxAttempts: 3, BaseBackoff: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(context.Background(), api.CreateRequest{Prompt: "arm"})
	if err == nil || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("error %v, want a refused connection after 3 attempts", err)
	}
	if n := strings.Count(logs.String(), "retrying"); n != 2 {
		t.Errorf("%d retries logged, want 2", n)
	}
}

func TestNewRejects(t *testing.T) {
	for _, o := range []api.Options{
		{BaseURL: ""},
		{BaseURL: "ftp://x"},
		{BaseURL: "http://"},
		{BaseURL: "http://h/v1?key=1"},
		{BaseURL: "http://h", APIKey: "a b"},
		{BaseURL: "http://h", APIKey: "ab\n"},
	} {
		if _, err := api.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		} else if o.APIKey != "" && strings.Contains(err.Error(), o.APIKey) {
			t.Errorf("error shows the key: %v", err)
		}
	}
}

// stepClock is a fake Clock: Sleep moves its time on at once and calls
// onSleep, so waits are observable without waiting.
type stepClock struct {
	mu      sync.Mutex
	now     time.Time
	onSleep func(d time.Duration)
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	if c.onSleep != nil && d > 0 {
		c.onSleep(d)
	}
	return nil
}

// TestRateGate: a 429 closes the client's gate for Retry-After, and every
// later request of the client waits for it before going out.
func TestRateGate(t *testing.T) {
	clk := &stepClock{now: time.Unix(1_000_000, 0)}
	f := start(t, emulator.Config{Assets: 1, RateLimit: 1}, func(o *api.Options) {
		o.MaxAttempts = 2
		o.Clock = clk
	})
	ctx := context.Background()
	if _, err := f.client.List(ctx, 1, 0); err != nil { // the bucket's one token
		t.Fatal(err)
	}
	var waits []time.Duration
	var sentBefore []int64
	clk.onSleep = func(d time.Duration) {
		waits = append(waits, d)
		sentBefore = append(sentBefore, f.srv.Stats().List.Requests)
	}
	// 429, wait out Retry-After (1s, on the fake clock), 429 again: give up.
	_, err := f.client.List(ctx, 1, 0)
	if !errors.Is(err, api.ErrRateLimited) || apiErr(t, err).RetryAfter != time.Second {
		t.Fatalf("error %v, want ErrRateLimited with Retry-After 1s", err)
	}
	if fmt.Sprint(waits) != "[1s]" || sentBefore[0] != 2 {
		t.Fatalf("waits %v with %v requests sent, want [1s] after 2", waits, sentBefore)
	}
	// Another call (as from another worker) waits for the gate first.
	waits, sentBefore = nil, nil
	f.client.Get(ctx, "ast_any")
	if len(waits) == 0 || waits[0] != time.Second || sentBefore[0] != 3 {
		t.Errorf("next call waited %v with %v requests sent, want 1s before sending", waits, sentBefore)
	}
}

// TestWaitReadyPolls: polls back off by half each time, jittered within
// [delay/2, delay], up to PollMax.
func TestWaitReadyPolls(t *testing.T) {
	clk := &stepClock{now: time.Unix(2_000_000, 0)}
	var waits []time.Duration
	clk.onSleep = func(d time.Duration) { waits = append(waits, d) }
	f := start(t, emulator.Config{}, func(o *api.Options) {
		o.Clock = clk
		o.PollInterval, o.PollMax = 100*time.Millisecond, 400*time.Millisecond
	})
	a, err := f.srv.AddAsset("A humanoid", "", nil, api.StatusProcessing)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	polls := 0
	_, err = f.client.WaitReady(ctx, a.ID, func(api.Asset) {
		if polls++; polls == 8 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	ceilings := []time.Duration{100, 150, 225, 337, 400, 400, 400}
	if len(waits) != len(ceilings) {
		t.Fatalf("waits %v, want %d", waits, len(ceilings))
	}
	for i, w := range waits {
		ceil := ceilings[i] * time.Millisecond
		if ceilings[i] == 337 {
			ceil = 337500 * time.Microsecond
		}
		if w < ceil/2 || w > ceil {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, w, ceil/2, ceil)
		}
	}
}

// TestServerErrorBurst: a burst of 503s, then the server recovers: the call
// succeeds on the attempt after the burst and the log says it recovered.
func TestServerErrorBurst(t *testing.T) {
	clk := &stepClock{now: time.Unix(3_000_000, 0)}
	f := start(t, emulator.Config{Assets: 1, ErrorRate: 1}, func(o *api.Options) { o.Clock = clk })
	sleeps := 0
	clk.onSleep = func(time.Duration) {
		if sleeps++; sleeps == 3 {
			f.srv.SetFaults(emulator.Faults{})
		}
	}
	// Backoff may draw 0 (full jitter), which does not call onSleep: keep
	// the burst going until three real waits have passed.
	if _, err := f.client.List(context.Background(), 1, 0); err != nil {
		t.Fatal(err)
	}
	st := f.srv.Stats().List
	if st.Errors < 3 || st.Requests != st.Errors+1 {
		t.Errorf("stats %+v: want a burst of at least 3 errors, then one success", st)
	}
	if !strings.Contains(f.log.String(), "recovered") {
		t.Errorf("the log does not say the call recovered:\n%s", f.log.String())
	}
}
