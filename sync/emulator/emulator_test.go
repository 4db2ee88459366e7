package emulator_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// do sends one raw request with the key "dev" unless auth says otherwise.
func do(t *testing.T, method, u, auth, body string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return resp, b
}

const bearer = "Bearer dev"

func TestValidation(t *testing.T) {
	srv, u := emulatortest.StartTest(t, emulator.Config{Assets: 10, Seed: 1, ReadOnlyAPIKey: "ro"})
	pending, _ := srv.AddAsset("A quadruped", "", nil, api.StatusPending)
	ready, _ := srv.AddAsset("A quadruped", "", nil, api.StatusReady)
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		code                           string
	}{
		{"no key", "GET", "/assets", "", "", 401, "missing_api_key"},
		{"wrong key", "GET", "/assets", "Bearer nope", "", 401, "invalid_api_key"},
		{"not bearer", "GET", "/assets", "Basic ZGV2", "", 401, "invalid_api_key"},
		{"list", "GET", "/assets", bearer, "", 200, ""},
		{"read-only list", "GET", "/assets", "Bearer ro", "", 200, ""},
		{"read-only create", "POST", "/assets", "Bearer ro", `{"prompt":"arm"}`, 403, "insufficient_scope"},
		{"read-only export", "POST", "/assets/" + ready.ID + "/export", "Bearer ro", `{"format":"mujoco_mjcf"}`, 403, "insufficient_scope"},
		{"limit 0", "GET", "/assets?limit=0", bearer, "", 400, "invalid_limit"},
		{"limit 101", "GET", "/assets?limit=101", bearer, "", 400, "invalid_limit"},
		{"limit 100", "GET", "/assets?limit=100", bearer, "", 200, ""},
		{"limit text", "GET", "/assets?limit=ten", bearer, "", 400, "invalid_limit"},
		{"offset -1", "GET", "/assets?offset=-1", bearer, "", 400, "invalid_offset"},
		{"offset past end", "GET", "/assets?offset=1000", bearer, "", 200, ""},
		{"get unknown", "GET", "/assets/ast_zzz", bearer, "", 404, "asset_not_found"},
		{"get", "GET", "/assets/" + ready.ID, bearer, "", 200, ""},
		{"create bad json", "POST", "/assets", bearer, `{"prompt":`, 400, "invalid_json"},
		{"create trailing data", "POST", "/assets", bearer, `{"prompt":"a"} {}`, 400, "invalid_json"},
		{"create no prompt", "POST", "/assets", bearer, `{"name":"x"}`, 400, "prompt_required"},
		{"create blank prompt", "POST", "/assets", bearer, `{"prompt":" \n"}`, 400, "prompt_required"},
		{"create empty tag", "POST", "/assets", bearer, `{"prompt":"arm","tags":[""]}`, 400, "invalid_tag"},
		{"create tags not strings", "POST", "/assets", bearer, `{"prompt":"arm","tags":[1]}`, 400, "invalid_json"},
		{"create", "POST", "/assets", bearer, `{"prompt":"A gripper","tags":["g"],"extra":1}`, 201, ""},
		{"export unknown format", "POST", "/assets/" + ready.ID + "/export", bearer, `{"format":"fbx"}`, 400, "unknown_format"},
		{"export short alias", "POST", "/assets/" + ready.ID + "/export", bearer, `{"format":"urdf"}`, 400, "unknown_format"},
		{"export no format", "POST", "/assets/" + ready.ID + "/export", bearer, `{}`, 400, "format_required"},
		{"export bad json", "POST", "/assets/" + ready.ID + "/export", bearer, `format=urdf`, 400, "invalid_json"},
		{"export unknown asset", "POST", "/assets/ast_zzz/export", bearer, `{"format":"mujoco_mjcf"}`, 404, "asset_not_found"},
		{"export pending", "POST", "/assets/" + pending.ID + "/export", bearer, `{"format":"mujoco_mjcf"}`, 409, "asset_not_ready"},
		{"export", "POST", "/assets/" + ready.ID + "/export", bearer, `{"format":"mujoco_mjcf"}`, 200, ""},
		{"unknown route", "GET", "/v2/jobs", bearer, "", 404, "route_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, u+tc.path, tc.auth, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var e struct{ Error, Code, Message string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body is not JSON: %s", body)
			}
			if tc.code != "" && (e.Code != tc.code || e.Error == "" || e.Message == "") {
				t.Errorf("error body %s, want code %s with error and message", body, tc.code)
			}
		})
	}
}

func TestListShape(t *testing.T) {
	srv, u := emulatortest.StartTest(t, emulator.Config{Assets: 30, Seed: 9})
	_, body := do(t, "GET", u+"/assets?limit=7&offset=25", bearer, "")
	var p struct {
		Assets []map[string]any `json:"assets"`
		Total  int              `json:"total"`
		Limit  int              `json:"limit"`
		Offset int              `json:"offset"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Total != 30 || p.Limit != 7 || p.Offset != 25 || len(p.Assets) != 5 {
		t.Fatalf("page total %d limit %d offset %d len %d", p.Total, p.Limit, p.Offset, len(p.Assets))
	}
	for _, a := range p.Assets {
		for _, k := range []string{"id", "status", "name", "prompt", "created_at"} {
			if _, ok := a[k]; !ok {
				t.Errorf("list item lacks %s: %v", k, a)
			}
		}
		if _, ok := a["formats"]; ok {
			t.Errorf("list item has formats: %v", a)
		}
		ts, _ := a["created_at"].(string)
		if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") {
			t.Errorf("created_at %q is not RFC 3339 UTC", ts)
		}
	}
	_, body = do(t, "GET", u+"/assets", bearer, "")
	json.Unmarshal(body, &p)
	if p.Limit != 20 || len(p.Assets) != 20 {
		t.Errorf("default limit %d with %d assets, want 20", p.Limit, len(p.Assets))
	}
	// Statuses of seeded assets: mostly ready, some of each other.
	count := map[api.Status]int{}
	for i := range 30 {
		a, _ := srv.Asset(pageID(t, u, i))
		count[a.Status]++
		if (a.Status == api.StatusReady) != (len(a.Formats) == 3) {
			t.Errorf("asset %s is %s with formats %v", a.ID, a.Status, a.Formats)
		}
	}
	if count[api.StatusReady] < 15 || count[api.StatusPending] == 0 || count[api.StatusProcessing] == 0 || count[api.StatusFailed] == 0 {
		t.Errorf("seeded statuses %v", count)
	}
}

func pageID(t *testing.T, u string, i int) string {
	_, body := do(t, "GET", fmt.Sprintf("%s/assets?limit=1&offset=%d", u, i), bearer, "")
	var p api.Page
	json.Unmarshal(body, &p)
	return p.Assets[0].ID
}

func TestDeterministicSeed(t *testing.T) {
	ids := func(seed int64) []string {
		srv, err := emulator.New(emulator.Config{Assets: 5, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		_, u := startHandler(t, srv)
		for i := range 5 {
			out = append(out, pageID(t, u, i))
		}
		return out
	}
	a, b, c := ids(42), ids(42), ids(43)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different ids: %v %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Errorf("different seeds, same ids: %v", a)
	}
	for _, id := range a {
		if !strings.HasPrefix(id, "ast_") || len(id) != 12 {
			t.Errorf("id %q: want ast_ and 8 base36 digits", id)
		}
	}
}

func startHandler(t *testing.T, srv *emulator.Server) (*emulator.Server, string) {
	u, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, u
}

func exportURL(t *testing.T, u, id string, f formats.Format) string {
	t.Helper()
	resp, body := do(t, "POST", u+"/assets/"+id+"/export", bearer, `{"format":"`+string(f)+`"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	var e api.Export
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	return e.URL
}

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

func TestDownload(t *testing.T) {
	clk := &clock{}
	clk.ns.Store(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).UnixNano())
	srv, u := emulatortest.StartTest(t, emulator.Config{Assets: 1, URLTTL: 10 * time.Minute, Now: clk.Now})
	a, _ := srv.AddAsset("A 6-DOF industrial robotic arm", "My Arm", nil, api.StatusReady)
	for _, f := range formats.All {
		t.Run(string(f), func(t *testing.T) {
			dl := exportURL(t, u, a.ID, f)
			resp, body := do(t, "GET", dl, "", "")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			want, _ := srv.ExportBytes(a.ID, f)
			if !bytes.Equal(body, want) || resp.ContentLength != int64(len(want)) {
				t.Errorf("body %d bytes, Content-Length %d, want %d", len(body), resp.ContentLength, len(want))
			}
			if et := resp.Header.Get("ETag"); len(et) != 34 || et[0] != '"' {
				t.Errorf("ETag %q", et)
			}
			_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
			if err != nil || params["filename"] == "" {
				t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
			}
			if k := formats.Detect(body); k == formats.KindUnknown {
				t.Errorf("body kind unknown")
			}
			// Conditional GET.
			req, _ := http.NewRequest("GET", dl, nil)
			req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
			r2, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r2.Body.Close()
			if r2.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", r2.StatusCode)
			}
		})
	}
	t.Run("refusals", func(t *testing.T) {
		dl := exportURL(t, u, a.ID, formats.MuJoCo)
		parsed, _ := url.Parse(dl)
		q := parsed.Query()
		tamper := func(k, v string) string {
			p := *parsed
			q2 := url.Values{}
			for kk, vv := range q {
				q2[kk] = vv
			}
			q2.Set(k, v)
			p.RawQuery = q2.Encode()
			return p.String()
		}
		other := strings.Replace(dl, "/mujoco_mjcf?", "/isaac_sim_urdf?", 1)
		cases := []struct {
			name, url, auth string
			status          int
			code            string
		}{
			{"bad sig", tamper("sig", strings.Repeat("0", 64)), "", 403, "SignatureDoesNotMatch"},
			{"longer expiry", tamper("expires", "9999999999"), "", 403, "SignatureDoesNotMatch"},
			{"no expiry", tamper("expires", ""), "", 403, "AccessDenied"},
			{"other format", other, "", 403, "SignatureDoesNotMatch"},
			{"with authorization", dl, bearer, 400, "InvalidArgument"},
		}
		for _, tc := range cases {
			resp, body := do(t, "GET", tc.url, tc.auth, "")
			if resp.StatusCode != tc.status || !bytes.Contains(body, []byte("<Code>"+tc.code+"</Code>")) {
				t.Errorf("%s: %d %s, want %d %s", tc.name, resp.StatusCode, body, tc.status, tc.code)
			}
		}
		if n := srv.Stats().DownloadAuthorization; n != 1 {
			t.Errorf("download_authorization %d, want 1", n)
		}
		clk.Add(10 * time.Minute)
		resp, body := do(t, "GET", dl, "", "")
		if resp.StatusCode != 403 || !bytes.Contains(body, []byte("expired")) {
			t.Errorf("expired URL: %d %s", resp.StatusCode, body)
		}
		srv.Delete(a.ID)
	})
}

func TestGenDelayAndFailRate(t *testing.T) {
	clk := &clock{}
	clk.ns.Store(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).UnixNano())
	srv, u := emulatortest.StartTest(t, emulator.Config{GenDelay: 4 * time.Second, FailRate: 0.5, Seed: 5, Now: clk.Now})
	var ids []string
	for i := range 20 {
		resp, body := do(t, "POST", u+"/assets", bearer, fmt.Sprintf(`{"prompt":"A humanoid robot number %d with a very long prompt that needs cutting"}`, i))
		if resp.StatusCode != 201 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var a api.Asset
		json.Unmarshal(body, &a)
		if a.Status != api.StatusPending || a.Name == "" || len([]rune(a.Name)) > 48 {
			t.Errorf("created %+v", a)
		}
		ids = append(ids, a.ID)
	}
	status := func(id string) api.Status { a, _ := srv.Asset(id); return a.Status }
	clk.Add(2 * time.Second)
	if s := status(ids[0]); s != api.StatusProcessing {
		t.Errorf("after D/2: %s", s)
	}
	clk.Add(2 * time.Second)
	n := map[api.Status]int{}
	for _, id := range ids {
		n[status(id)]++
	}
	if n[api.StatusReady] == 0 || n[api.StatusFailed] == 0 || n[api.StatusReady]+n[api.StatusFailed] != 20 {
		t.Errorf("after D: %v", n)
	}
}

func TestStateDir(t *testing.T) {
	dir := t.TempDir()
	s1, err := emulator.New(emulator.Config{Assets: 4, StateDir: dir, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, u1 := startHandler(t, s1)
	resp, body := do(t, "POST", u1+"/assets", bearer, `{"prompt":"A wheeled mobile base","tags":["mobile"]}`)
	if resp.StatusCode != 201 {
		t.Fatal(string(body))
	}
	var created api.Asset
	json.Unmarshal(body, &created)
	dl := exportURL(t, u1, created.ID, formats.IsaacURDF)
	s1.Close()
	if entries, _ := filepath.Glob(filepath.Join(dir, "*")); len(entries) != 1 {
		t.Errorf("state dir holds %v, want only state.json", entries)
	}

	s2, err := emulator.New(emulator.Config{Assets: 4, StateDir: dir, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if st := s2.Stats(); st.Assets != 5 {
		t.Errorf("%d assets after restart, want 5 (no re-seeding)", st.Assets)
	}
	a, ok := s2.Asset(created.ID)
	if !ok || a.Prompt != "A wheeled mobile base" || strings.Join(a.Tags, ",") != "mobile" {
		t.Errorf("after restart: %+v", a)
	}
	_, u2 := startHandler(t, s2)
	// A URL minted before the restart still verifies (the secret persists).
	dl2 := strings.Replace(dl, u1, u2, 1)
	if resp, body := do(t, "GET", dl2, "", ""); resp.StatusCode != 200 {
		t.Errorf("old URL after restart: %d %s", resp.StatusCode, body)
	}
	_, body = do(t, "POST", u2+"/assets", bearer, `{"prompt":"A gripper"}`)
	var next api.Asset
	json.Unmarshal(body, &next)
	if next.ID == created.ID || next.ID == "" {
		t.Errorf("id %q repeated after restart", next.ID)
	}

	os.WriteFile(filepath.Join(dir, "state.json"), []byte("{"), 0o644)
	if _, err := emulator.New(emulator.Config{StateDir: dir}); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("corrupt state: %v", err)
	}
}

func TestFaults(t *testing.T) {
	srv, u := emulatortest.StartTest(t, emulator.Config{Assets: 3, Seed: 11})
	ready, _ := srv.AddAsset("A 7-DOF arm", "", nil, api.StatusReady)
	t.Run("error rate", func(t *testing.T) {
		srv.SetFaults(emulator.Faults{ErrorRate: 0.3})
		srv.ResetStats()
		for range 100 {
			do(t, "GET", u+"/assets", bearer, "")
		}
		if e := srv.Stats().List.Errors; e < 10 || e > 60 {
			t.Errorf("%d of 100 failed at a 0.3 error rate", e)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		srv.SetFaults(emulator.Faults{RateLimit: 3})
		limited := 0
		for range 10 {
			resp, body := do(t, "GET", u+"/assets", bearer, "")
			if resp.StatusCode == 429 {
				limited++
				if resp.Header.Get("Retry-After") != "1" || !bytes.Contains(body, []byte("rate_limited")) {
					t.Errorf("429 without Retry-After: 1: %v %s", resp.Header, body)
				}
			}
		}
		if limited < 5 {
			t.Errorf("%d of 10 rate limited at 3 per second", limited)
		}
	})
	t.Run("truncate", func(t *testing.T) {
		srv.SetFaults(emulator.Faults{TruncateRate: 1})
		dl := exportURL(t, u, ready.ID, formats.MuJoCo)
		resp, err := http.Get(dl)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		want, _ := srv.ExportBytes(ready.ID, formats.MuJoCo)
		if err == nil || resp.ContentLength != int64(len(want)) || len(b) >= len(want) {
			t.Errorf("read %d of %d announced, err %v: want a short body", len(b), resp.ContentLength, err)
		}
	})
	t.Run("slow", func(t *testing.T) {
		srv.SetFaults(emulator.Faults{Slow: 1 << 20})
		dl := exportURL(t, u, ready.ID, formats.IsaacUSD)
		resp, body := do(t, "GET", dl, "", "")
		want, _ := srv.ExportBytes(ready.ID, formats.IsaacUSD)
		if resp.StatusCode != 200 || !bytes.Equal(body, want) {
			t.Errorf("slow body differs: %d bytes of %d", len(body), len(want))
		}
	})
	t.Run("bad knobs", func(t *testing.T) {
		for _, f := range []emulator.Faults{{ErrorRate: 1.5}, {FailRate: -1}, {RateLimit: -1}} {
			if srv.SetFaults(f) == nil {
				t.Errorf("SetFaults(%+v) accepted", f)
			}
		}
		if _, err := emulator.New(emulator.Config{TruncateRate: 2}); err == nil {
			t.Error("New accepted a truncate rate of 2")
		}
	})
	srv.SetFaults(emulator.Faults{})
}

func TestStatsGolden(t *testing.T) {
	// A fixed clock: every request falls in the same second of the
	// per-asset counts.
	now := time.Now().Truncate(time.Second)
	srv, u := emulatortest.StartUnlimited(t, emulator.Config{Assets: 2, Seed: 1, Now: func() time.Time { return now }})
	id := pageID(t, u, 0) // list
	do(t, "GET", u+"/assets/"+id, bearer, "")
	do(t, "GET", u+"/assets/ast_none", bearer, "")
	do(t, "POST", u+"/assets", bearer, `{"prompt":"A gripper"}`)
	dl := exportURL(t, u, id, formats.MuJoCo)
	do(t, "GET", dl, "", "")
	do(t, "GET", dl+"x", "", "")
	if st := srv.Stats(); st.Download.Errors != 1 || st.Get.Errors != 1 {
		t.Errorf("Stats() = %+v", st)
	}
	_, body := do(t, "GET", u+"/_emulator/stats", "", "")
	var pretty bytes.Buffer
	json.Indent(&pretty, body, "", "  ")
	golden := filepath.Join("testdata", "stats.golden.json")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, pretty.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("stats:\n%s\nwant:\n%s", pretty.Bytes(), want)
	}
}

func TestExportCacheBounded(t *testing.T) {
	var calls atomic.Int64
	gen := func(id, name, prompt string, f formats.Format) ([]byte, string, error) {
		calls.Add(1)
		return bytes.Repeat([]byte{'x'}, 1000), id + ".txt", nil
	}
	srv, err := emulator.New(emulator.Config{Assets: 10, CacheBytes: 3500, Generate: gen})
	if err != nil {
		t.Fatal(err)
	}
	_, u := startHandler(t, srv)
	var ids []string
	for i := range 10 {
		ids = append(ids, pageID(t, u, i))
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := srv.ExportBytes(id, formats.MuJoCo); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Which three the concurrent reads left in the cache depends on their
	// order: read the last three again, in order, so that the cache holds
	// those.
	for _, id := range ids[7:] {
		srv.ExportBytes(id, formats.MuJoCo)
	}
	calls.Store(0)
	for _, id := range ids {
		srv.ExportBytes(id, formats.MuJoCo)
	}
	// 3 bodies fit: every one of the 10 in turn is a miss (the first three
	// push out 7, 8 and 9 before their turn).
	if n := calls.Load(); n < 10 {
		t.Errorf("%d generations for 10 reads with room for 3: the cache is not bounded", n)
	}
	calls.Store(0)
	srv.ExportBytes(ids[9], formats.MuJoCo)
	if n := calls.Load(); n != 0 {
		t.Errorf("the most recent export was regenerated")
	}
}

func TestDeterministicExports(t *testing.T) {
	a, _ := emulator.New(emulator.Config{Assets: 6, Seed: 8})
	b, _ := emulator.New(emulator.Config{Assets: 6, Seed: 8})
	_, u := startHandler(t, a)
	for i := range 6 {
		id := pageID(t, u, i)
		for _, f := range formats.All {
			x, err1 := a.ExportBytes(id, f)
			y, err2 := b.ExportBytes(id, f)
			if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
				t.Errorf("%s/%s differs between two servers of one seed (%v %v)", id, f, err1, err2)
			}
		}
	}
}

func BenchmarkDownload(b *testing.B) {
	srv, u := emulatortest.StartTest(b, emulator.Config{Seed: 1})
	a, _ := srv.AddAsset("A 6-DOF industrial robotic arm with a parallel jaw gripper", "", nil, api.StatusReady)
	resp, err := http.Post(u+"/assets/"+a.ID+"/export", "application/json", strings.NewReader(`{"format":"isaac_sim_urdf"}`))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("POST", u+"/assets/"+a.ID+"/export", strings.NewReader(`{"format":"isaac_sim_urdf"}`))
	req.Header.Set("Authorization", bearer)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var e api.Export
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(e.URL)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.SetBytes(n)
	}
}

// TestConcurrentCreates: creates from many goroutines get distinct ids and
// all reach the state file.
func TestConcurrentCreates(t *testing.T) {
	dir := t.TempDir()
	srv, err := emulator.New(emulator.Config{StateDir: dir, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	_, u := startHandler(t, srv)
	var wg sync.WaitGroup
	ids := make(chan string, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", u+"/assets", strings.NewReader(fmt.Sprintf(`{"prompt":"A gripper %d"}`, i)))
			req.Header.Set("Authorization", bearer)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var a api.Asset
			json.NewDecoder(resp.Body).Decode(&a)
			ids <- a.ID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if id == "" || seen[id] {
			t.Errorf("id %q empty or repeated", id)
		}
		seen[id] = true
	}
	srv.Close()
	again, err := emulator.New(emulator.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for id := range seen {
		if _, ok := again.Asset(id); !ok {
			t.Errorf("asset %s lost from the state file", id)
		}
	}
}
