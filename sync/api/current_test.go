package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
)

// startCurrent is start with a current-generation emulator and client.
func startCurrent(t *testing.T, cfg emulator.Config, tweak func(*api.Options)) *fixture {
	t.Helper()
	cfg.API = emulator.APICurrent
	return start(t, cfg, func(o *api.Options) {
		o.Generation = api.GenerationCurrent
		if tweak != nil {
			tweak(o)
		}
	})
}

// methodLog wraps a handler and records every request's method and path.
type methodLog struct {
	mu   sync.Mutex
	reqs []string
	h    http.Handler
}

func (m *methodLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.reqs = append(m.reqs, r.Method+" "+r.URL.Path)
	m.mu.Unlock()
	m.h.ServeHTTP(w, r)
}

func TestDetectGeneration(t *testing.T) {
	alpha, err := emulator.New(emulator.Config{APIKey: testKey, Assets: 2})
	if err != nil {
		t.Fatal(err)
	}
	current, err := emulator.New(emulator.Config{APIKey: testKey, Assets: 2, API: emulator.APICurrent})
	if err != nil {
		t.Fatal(err)
	}
	notAPI := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 page not found", http.StatusNotFound)
	})
	for _, tc := range []struct {
		name    string
		h       http.Handler
		suffix  string // added to the server's URL
		key     string
		want    api.Generation
		wantErr error
	}{
		{"alpha", alpha.Handler(), "", testKey, api.GenerationAlpha, nil},
		{"current", current.Handler(), "", testKey, api.GenerationCurrent, nil},
		{"current given with /v1", current.Handler(), "/v1", testKey, api.GenerationCurrent, nil},
		{"current with a refused key", current.Handler(), "", "wrong", api.GenerationCurrent, api.ErrUnauthorized},
		{"alpha with a refused key", alpha.Handler(), "", "wrong", api.GenerationAlpha, api.ErrUnauthorized},
		{"neither", notAPI, "", testKey, "", api.ErrUnknownGeneration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &methodLog{h: tc.h}
			ts := httptest.NewServer(log)
			defer ts.Close()
			c, err := api.New(api.Options{BaseURL: ts.URL + tc.suffix, APIKey: tc.key, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.DetectGeneration(context.Background())
			if !errors.Is(err, tc.wantErr) || tc.wantErr == nil && err != nil {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.want != "" && (p == nil || p.Generation != tc.want) {
				t.Fatalf("probe %+v, want %s", p, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), tc.key) && tc.key != "" {
				t.Errorf("the error shows the key: %v", err)
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			for _, r := range log.reqs {
				if !strings.HasPrefix(r, "GET ") {
					t.Errorf("detection sent %s: only GET requests may probe", r)
				}
				if strings.Contains(r, "/v1/v1") {
					t.Errorf("detection sent %s", r)
				}
			}
		})
	}
}

func TestCurrentListGetExport(t *testing.T) {
	f := startCurrent(t, emulator.Config{Assets: 7, Seed: 4}, func(o *api.Options) { o.BaseURL += "/v1" })
	ctx := context.Background()
	var ids []string
	p, err := f.client.List(ctx, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Assets {
		ids = append(ids, a.ID)
		if a.CreatedAt.Year() != 2026 || a.SceneID == "" {
			t.Errorf("asset %+v: want its time from Unix seconds and its scene", a)
		}
	}
	if len(ids) != 7 {
		t.Fatalf("listed %d assets, want 7", len(ids))
	}
	a, err := f.client.Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != api.StatusReady || len(a.Formats) != 3 || a.Formats[0] != formats.MuJoCo || a.Formats[2] != formats.GazeboSDF {
		t.Fatalf("asset %+v", a)
	}
	for _, fm := range []formats.Format{formats.MuJoCo, formats.IsaacUSD, formats.GazeboSDF} {
		ex, err := f.client.Export(ctx, ids[0], fm)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		d, err := f.client.Download(ctx, ex.URL, &buf, nil)
		if err != nil {
			t.Fatalf("%s: %v", fm, err)
		}
		want, _ := f.srv.CurrentExportBytes(ids[0], fm)
		if !bytes.Equal(buf.Bytes(), want) || d.Size != int64(len(want)) {
			t.Errorf("%s: got %d bytes, want the emulator's %d", fm, buf.Len(), len(want))
		}
	}
	if _, err := f.client.Export(ctx, ids[0], formats.IsaacURDF); !errors.Is(err, api.ErrNotInGeneration) || !strings.Contains(err.Error(), "mjcf, usd and sdf") {
		t.Errorf("URDF export: %v", err)
	}
	st := f.srv.CurrentStats()
	if st.Export.Requests != 3 || st.Download.Requests != 0 {
		t.Errorf("exports %d, downloads %d: want one export request per file and no download", st.Export.Requests, st.Download.Requests)
	}
	if _, err := f.client.Get(ctx, "ast_nope"); !errors.Is(err, api.ErrNotFound) || !strings.Contains(err.Error(), "asset_not_found") {
		t.Errorf("missing asset: %v", err)
	}
}

func TestCurrentExportFaults(t *testing.T) {
	f := startCurrent(t, emulator.Config{Assets: 1, Seed: 5, TruncateRate: 0.5, Current: emulator.CurrentOptions{Credits: 4}}, nil)
	ctx := context.Background()
	page, err := f.client.List(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	id := page.Assets[0].ID
	ex, err := f.client.Export(ctx, id, formats.MuJoCo)
	if err != nil {
		t.Fatal(err)
	}
	// Cut-short bodies start again from zero, within the credits.
	var got []byte
	for range api.DefaultMaxAttempts {
		var buf bytes.Buffer
		_, err = f.client.Download(ctx, ex.URL, &buf, nil)
		if err == nil {
			got = buf.Bytes()
			break
		}
		if !errors.Is(err, api.ErrTruncated) {
			t.Fatalf("export with cut-short bodies: %v", err)
		}
	}
	if err != nil {
		t.Fatalf("export with cut-short bodies: %v", err)
	}
	want, _ := f.srv.CurrentExportBytes(id, formats.MuJoCo)
	if !bytes.Equal(got, want) {
		t.Fatal("the file differs from the export")
	}
	f.srv.SetCredits(0)
	_, err = f.client.Download(ctx, ex.URL, &bytes.Buffer{}, nil)
	if e := apiErr(t, err); e.StatusCode != http.StatusPaymentRequired || e.Code != "insufficient_credits" || !strings.Contains(err.Error(), "add credits") {
		t.Errorf("402: %v", err)
	}
}

// collect follows a job and returns the event names it reported.
func collect(t *testing.T, c *api.Client, jobID string) (*api.Job, []string, []int) {
	t.Helper()
	var names []string
	var seqs []int
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	j, err := c.FollowJob(ctx, jobID, api.FollowOptions{OnEvent: func(e api.JobEvent) {
		names = append(names, e.Type)
		seqs = append(seqs, e.Seq)
	}})
	if err != nil {
		t.Fatalf("FollowJob: %v", err)
	}
	return j, names, seqs
}

func TestFollowJob(t *testing.T) {
	documented := "stage_start stage_complete stage_start stage_complete stage_start stage_complete stage_start stage_complete asset_ready done"
	for _, tc := range []struct {
		name   string
		opts   emulator.CurrentOptions
		events string
		stream bool // events come from the stream (not from polling)
	}{
		{"documented", emulator.CurrentOptions{}, documented, true},
		{"dropped and resumed", emulator.CurrentOptions{DropStreamAfter: 3}, documented, true},
		{"live dialect, endless pings", emulator.CurrentOptions{LiveEvents: true, PingInterval: 10 * time.Millisecond},
			"job_queued job_started prompt_parsed geometry_generated physics_tuned exports_built job_succeeded", true},
		{"no stream: polling", emulator.CurrentOptions{NoEvents: true}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.PingInterval = max(tc.opts.PingInterval, 20*time.Millisecond)
			// Polls every 50-100 ms (the fixture's 2-10 ms would be a
			// tight loop for the emulator's per-job limit).
			f := startCurrent(t, emulator.Config{Seed: 6, GenDelay: 200 * time.Millisecond, Current: tc.opts}, func(o *api.Options) {
				o.PollInterval, o.PollMax = 50*time.Millisecond, 100*time.Millisecond
			})
			acc, err := f.client.CreateJob(context.Background(), api.JobAsset, "", api.JobRequest{Prompt: "A 4-DOF SCARA-style robotic arm"})
			if err != nil {
				t.Fatal(err)
			}
			j, names, seqs := collect(t, f.client, acc.JobID)
			if j.Status != "succeeded" || j.AssetID == "" || j.SceneID != acc.SceneID {
				t.Errorf("job %+v", j)
			}
			if got := strings.Join(names, " "); got != tc.events {
				t.Errorf("events %q, want %q", got, tc.events)
			}
			for i := 1; i < len(seqs); i++ {
				if seqs[i] != seqs[i-1]+1 {
					t.Errorf("sequence numbers %v: one lost or repeated", seqs)
					break
				}
			}
			st := f.srv.CurrentStats()
			if tc.stream && st.Events.Requests == 0 || !tc.stream && st.Jobs.Requests < 2 {
				t.Errorf("stats %+v", st)
			}
			if tc.opts.DropStreamAfter > 0 && st.Events.Requests < 3 {
				t.Errorf("%d stream connections, want the drops resumed", st.Events.Requests)
			}
			if _, err := f.client.Get(context.Background(), j.AssetID); err != nil {
				t.Errorf("the job's asset: %v", err)
			}
		})
	}
}

func TestFollowJobFailed(t *testing.T) {
	f := startCurrent(t, emulator.Config{Seed: 7, FailRate: 1}, nil)
	acc, err := f.client.CreateJob(context.Background(), api.JobScene, "", api.JobRequest{Prompt: "An impossible scene"})
	if err != nil {
		t.Fatal(err)
	}
	j, names, _ := collect(t, f.client, acc.JobID)
	if j.Status != "failed" || j.Error == "" || names[len(names)-1] != "done" || !strings.Contains(strings.Join(names, " "), "error") {
		t.Errorf("job %+v, events %v", j, names)
	}
}

// TestCreateJobTimeout: a create whose answer never comes (the server
// accepted it) is not sent again: the job is found instead.
func TestCreateJobTimeout(t *testing.T) {
	f := startCurrent(t, emulator.Config{Seed: 8, Current: emulator.CurrentOptions{CreateDelay: time.Hour}},
		func(o *api.Options) { o.RequestTimeout = 300 * time.Millisecond })
	acc, err := f.client.CreateJob(context.Background(), api.JobAsset, "", api.JobRequest{Prompt: "A wheeled mobile base"})
	if err != nil {
		t.Fatal(err)
	}
	if !acc.Recovered || acc.JobID == "" || acc.AssetID == "" {
		t.Errorf("accepted %+v: want the job found after the timeout", acc)
	}
	if st := f.srv.Stats(); st.Create.Requests != 1 || st.Assets != 1 {
		t.Errorf("%d creates, %d assets: want one of each", st.Create.Requests, st.Assets)
	}
	// Scenes too.
	acc, err = f.client.CreateJob(context.Background(), api.JobScene, "", api.JobRequest{Prompt: "A test field"})
	if err != nil || !acc.Recovered || acc.SceneID == "" {
		t.Errorf("scene: %+v, %v", acc, err)
	}
	if st := f.srv.Stats(); st.Create.Requests != 2 {
		t.Errorf("%d creates, want 2", st.Create.Requests)
	}
}

func TestAlphaLacksJobs(t *testing.T) {
	f := start(t, emulator.Config{Assets: 1}, nil)
	_, err := f.client.CreateJob(context.Background(), api.JobScene, "", api.JobRequest{Prompt: "a kitchen"})
	if !errors.Is(err, api.ErrNotInGeneration) || !strings.Contains(err.Error(), "scenes generated from a prompt") {
		t.Errorf("scene on alpha: %v", err)
	}
	if st := f.srv.Stats(); st.Create.Requests != 0 {
		t.Error("a request went out")
	}
}

// TestPacing: many workers against a rate limit finish without a 429
// when the headers come, and with bounded retries when they do not.
func TestPacing(t *testing.T) {
	const n, limit = 45, 15
	window := 1500 * time.Millisecond
	for _, headers := range []bool{true, false} {
		name := "headers"
		if !headers {
			name = "no headers"
		}
		t.Run(name, func(t *testing.T) {
			// Eight workers on one asset on purpose: the per-asset limit
			// of the test emulators would take them for a tight loop.
			f := startCurrent(t, emulator.Config{Assets: 1, MaxPerAssetRate: 10 * n, Current: emulator.CurrentOptions{
				RateLimit: limit, RateWindow: window, NoRateHeaders: !headers}}, func(o *api.Options) { o.MaxAttempts = 10 })
			page, err := f.client.List(context.Background(), 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			id := page.Assets[0].ID
			var wg sync.WaitGroup
			var failed atomic.Int64
			jobs := make(chan struct{}, n)
			for range n - 1 {
				jobs <- struct{}{}
			}
			close(jobs)
			start := time.Now()
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range jobs {
						if _, err := f.client.Get(context.Background(), id); err != nil {
							failed.Add(1)
							t.Errorf("get: %v", err)
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			limited := f.srv.CurrentStats().RateLimited
			if headers && limited != 0 {
				t.Errorf("%d answers 429 with the headers present, want 0", limited)
			}
			if failed.Load() != 0 {
				t.Errorf("%d requests failed", failed.Load())
			}
			// n requests at limit per window need (n/limit - 1) windows at least.
			if min := time.Duration(n/limit-1) * window; elapsed < min {
				t.Errorf("%d requests took %v, less than the %v the limit allows", n, elapsed, min)
			}
			t.Logf("%d requests in %v, %d answered 429", n, elapsed, limited)
		})
	}
}

// TestValidationDetail: a 422 in the framework's shape reads as an error
// naming the field.
func TestValidationDetail(t *testing.T) {
	f := startCurrent(t, emulator.Config{Seed: 12}, nil)
	_, err := f.client.CreateJob(context.Background(), api.JobAsset, "", api.JobRequest{Prompt: "an arm", Pipeline: "magic"})
	e := apiErr(t, err)
	if e.StatusCode != http.StatusUnprocessableEntity || e.Code != "validation_error" || !strings.Contains(e.Message, "body.asset_pipeline: value \"magic\" is not one of auto, gizmo, cad") {
		t.Errorf("422: %v (code %q, message %q)", err, e.Code, e.Message)
	}
	if st := f.srv.Stats(); st.Assets != 0 {
		t.Errorf("%d assets after a refused create", st.Assets)
	}
}

// TestSceneAsAsset: a scene's id is fetched and exported as an asset's:
// Get answers the scene as an asset (IsScene), Export and Download bring
// its ZIP. An id the client has not seen as a scene's is tried on the asset
// route first (a 404), then on the scene route; once the client has seen
// the scene (Get, ListScenes), its exports go straight to the scene route.
func TestSceneAsAsset(t *testing.T) {
	f := startCurrent(t, emulator.Config{Assets: 4, Seed: 13}, nil)
	ctx := context.Background()
	id := f.srv.SceneIDs()[0]
	export := func() {
		t.Helper()
		ex, err := f.client.Export(ctx, id, formats.MuJoCo)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := f.client.Download(ctx, ex.URL, &buf, nil); err != nil {
			t.Fatal(err)
		}
		if formats.Detect(buf.Bytes()) != formats.KindZip {
			t.Error("the scene's export is not a ZIP")
		}
	}
	export()
	if st := f.srv.Stats(); st.Export.Requests != 2 || st.Export.Errors != 1 {
		t.Errorf("exports %+v: want the asset route's 404, then the scene's", st.Export)
	}
	a, err := f.client.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !a.IsScene() || a.Status != api.StatusReady || len(a.Formats) != 3 || a.Revision == "" {
		t.Fatalf("scene as asset %+v", a)
	}
	export()
	if st := f.srv.Stats(); st.Export.Requests != 3 || st.Export.Errors != 1 {
		t.Errorf("exports %+v: want the scene route only, once the scene is known", st.Export)
	}
	// An id that is neither keeps the asset's 404, read or exported.
	if _, err := f.client.Get(ctx, "nothing"); !errors.Is(err, api.ErrNotFound) || !strings.Contains(err.Error(), "asset_not_found") {
		t.Errorf("neither: %v", err)
	}
	ex, err := f.client.Export(ctx, "nothing", formats.MuJoCo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Download(ctx, ex.URL, io.Discard, nil); !errors.Is(err, api.ErrNotFound) || !strings.Contains(err.Error(), "asset_not_found") {
		t.Errorf("neither, exported: %v", err)
	}
}
