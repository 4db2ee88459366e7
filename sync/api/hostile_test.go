package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/api/hostile"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// hostileClient is a client of a hostile server with short deadlines and
// tiny backoffs.
func hostileClient(t *testing.T, base string) *api.Client {
	t.Helper()
	c, err := api.New(api.Options{
		BaseURL: base, APIKey: hostile.APIKey, UserAgent: "gizmo/test",
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		RequestTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHostileAPI: every API call against a misbehaving server ends, within
// a bound, with an error that says what is wrong, names the server without
// the key, and matches the sentinel callers branch on.
func TestHostileAPI(t *testing.T) {
	list := func(ctx context.Context, c *api.Client) error { _, err := c.List(ctx, 100, 0); return err }
	get := func(ctx context.Context, c *api.Client) error { _, err := c.Get(ctx, "ast_1"); return err }
	export := func(ctx context.Context, c *api.Client) error {
		_, err := c.Export(ctx, "ast_1", formats.MuJoCo)
		return err
	}
	create := func(ctx context.Context, c *api.Client) error {
		_, err := c.Create(ctx, api.CreateRequest{Prompt: "an arm"})
		return err
	}
	detect := func(ctx context.Context, c *api.Client) error { _, err := c.DetectGeneration(ctx); return err }
	type call struct {
		name string
		fn   func(context.Context, *api.Client) error
	}
	for _, tc := range []struct {
		mode  hostile.Mode
		calls []call
		want  error
		text  string // in the message
		// maxRequests bounds what the client sent for all calls.
		maxRequests int64
	}{
		{hostile.Hang, []call{{"list", list}, {"get", get}, {"export", export}}, api.ErrTimeout, "sent no answer within 300ms", 6},
		{hostile.Hang, []call{{"create", create}}, api.ErrTimeout, "not retried", 1},
		{hostile.Hang, []call{{"detect", detect}}, api.ErrTimeout, "detect the API generation: GET http://127.0.0.1", 2},
		{hostile.HTML, []call{{"list", list}, {"get", get}, {"export", export}, {"create", create}}, api.ErrNotAPI, "HTML page, not JSON; check --api-url", 5},
		{hostile.WrongTypes, []call{{"list", list}, {"get", get}, {"export", export}}, api.ErrNotAPI, "check --api-url", 3},
		{hostile.LyingTotal, []call{{"list", list}}, api.ErrNotAPI, "says the account has 1000 assets but sent 30 at offset 0", 1},
		{hostile.HugeAnswer, []call{{"list", list}, {"get", get}}, api.ErrNotAPI, "announced a 10737418240-byte answer", 2},
		{hostile.LongAnswer, []call{{"list", list}, {"get", get}}, api.ErrNotAPI, "not the API's JSON", 2},
		{hostile.APIRedirectElsewhr, []call{{"list", list}, {"get", get}, {"export", export}}, api.ErrRedirect, "sends the API key to no other host", 3},
		{hostile.AnyObject, []call{{"list", list}}, api.ErrNotAPI, "without an assets list", 6},
	} {
		for _, cl := range tc.calls {
			t.Run(string(tc.mode)+"/"+cl.name, func(t *testing.T) {
				srv := hostile.Start(t, tc.mode)
				c := hostileClient(t, srv.URL)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				start := time.Now()
				err := cl.fn(ctx, c)
				took := time.Since(start)
				if err == nil {
					t.Fatal("no error")
				}
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
					t.Errorf("error %q, want %v with %q", err, tc.want, tc.text)
				}
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, api.ErrNotFound) {
					t.Errorf("error %q is taken for the caller's deadline or a missing asset", err)
				}
				if strings.Contains(err.Error(), hostile.APIKey) {
					t.Errorf("error leaks the key: %v", err)
				}
				if took > 5*time.Second {
					t.Errorf("took %v", took)
				}
				if n := srv.Requests.Load(); n > tc.maxRequests {
					t.Errorf("%d requests, want at most %d", n, tc.maxRequests)
				}
				if n := srv.AuthElsewhere.Load(); n != 0 {
					t.Errorf("the other host got the key %d times", n)
				}
			})
		}
	}
}

// TestHostileDownloads: download URLs that stall, lie about their length or
// redirect where they must not be followed end with an error, without the
// key reaching another host; a redirect to another http host is followed.
func TestHostileDownloads(t *testing.T) {
	for _, tc := range []struct {
		mode hostile.Mode
		want error // nil: the download succeeds
		text string
	}{
		{hostile.DownloadHang, api.ErrTimeout, "sent nothing for 300ms"},
		{hostile.DownloadHuge, api.ErrTooLarge, "announces 10 GiB"},
		{hostile.DownloadLong, nil, ""},
		{hostile.DownloadHTML, api.ErrNotAPI, "with an HTML page, not the file"},
		{hostile.RedirectOtherHost, nil, ""},
		{hostile.RedirectFile, api.ErrRedirect, "follows only http and https"},
		{hostile.RedirectLoop, api.ErrRedirect, "in a loop"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			srv := hostile.Start(t, tc.mode)
			c := hostileClient(t, srv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p, err := c.List(ctx, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			id := p.Assets[0].ID
			e, err := c.Export(ctx, id, formats.MuJoCo)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			d, err := c.Download(ctx, e.URL, &buf, nil)
			switch {
			case tc.want == nil && tc.mode == hostile.DownloadLong:
				// The HTTP framing cuts the body at its Content-Length:
				// what arrives is the first half, and says so by its size.
				want, _ := srv.Emu.ExportBytes(id, formats.MuJoCo)
				if err != nil || d.Size != int64(len(want)/2) || !bytes.Equal(buf.Bytes(), want[:len(want)/2]) {
					t.Errorf("download: %v, %d bytes; want the first %d of %d", err, buf.Len(), len(want)/2, len(want))
				}
			case tc.want == nil:
				want, _ := srv.Emu.ExportBytes(id, formats.MuJoCo)
				if err != nil || !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("download: %v, %d bytes, want %d", err, buf.Len(), len(want))
				}
				if srv.HitsElsewhere.Load() == 0 {
					t.Error("the redirect was not followed")
				}
			default:
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
					t.Errorf("error %v, want %v with %q", err, tc.want, tc.text)
				}
				if strings.Contains(err.Error(), "sig=") {
					t.Errorf("error shows the signature: %v", err)
				}
				if buf.Len() > 4 {
					t.Errorf("%d bytes written", buf.Len())
				}
			}
			if n := srv.AuthElsewhere.Load(); n != 0 {
				t.Errorf("the other host got the key %d times", n)
			}
			if s := srv.Emu.Stats(); s.DownloadAuthorization != 0 {
				t.Errorf("%d downloads carried the key", s.DownloadAuthorization)
			}
		})
	}
}

// TestHostileExtraV1: an API URL with a path segment too many gets the API's 404
// route_not_found, which is not "no such asset".
func TestHostileExtraV1(t *testing.T) {
	_, u := emulatortest.StartTest(t, emulator.Config{APIKey: hostile.APIKey, Assets: 3})
	c := hostileClient(t, u+"/v1")
	_, err := c.Get(context.Background(), "ast_1")
	if errors.Is(err, api.ErrNotFound) || !errors.Is(err, api.ErrNotAPI) || !strings.Contains(err.Error(), "such as an extra /v1") {
		t.Errorf("error %v: want ErrNotAPI with a hint at the URL", err)
	}
	_, err = c.List(context.Background(), 10, 0)
	if !errors.Is(err, api.ErrNotAPI) {
		t.Errorf("list: %v", err)
	}
}

// TestDownloadIdleNotTotal: a download that keeps receiving, if slowly,
// outlasts the idle deadline.
func TestDownloadIdleNotTotal(t *testing.T) {
	srv, u := emulatortest.StartTest(t, emulator.Config{APIKey: hostile.APIKey, Assets: 1})
	c := hostileClient(t, u)
	ctx := context.Background()
	p, err := c.List(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.Export(ctx, p.Assets[0].ID, formats.MuJoCo)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := srv.ExportBytes(p.Assets[0].ID, formats.MuJoCo)
	// Throttled to take about a second, three idle deadlines, in chunks
	// every 50ms: the download must keep going.
	if err := srv.SetFaults(emulator.Faults{Slow: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	d, err := c.Download(ctx, e.URL, io.Discard, nil)
	if err != nil || d.Size != int64(len(body)) {
		t.Fatalf("download: %v", err)
	}
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Errorf("the body came in %v: not throttled, the test shows nothing", took)
	}
}
