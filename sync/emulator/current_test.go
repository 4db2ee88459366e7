package emulator_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

func startCurrent(t *testing.T, cfg emulator.Config) (*emulator.Server, string) {
	t.Helper()
	cfg.API = emulator.APICurrent
	return emulatortest.StartTest(t, cfg)
}

// decodeMap decodes a JSON object answer.
func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, b)
	}
	return m
}

// errorCode is the code of a nested error envelope, "" when the body is not one.
func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Status  int    `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &env) != nil || env.Error.Message == "" || env.Error.Status == 0 {
		return ""
	}
	return env.Error.Code
}

func TestCurrentRoutes(t *testing.T) {
	srv, u := startCurrent(t, emulator.Config{Assets: 10, Seed: 1, ReadOnlyAPIKey: "ro"})
	ids := srv.SceneIDs()
	if len(ids) != 3 {
		t.Fatalf("10 seeded assets make %d scenes, want 3", len(ids))
	}
	for _, tc := range []struct {
		name, method, path, auth, body string
		status                         int
		code                           string // nested error code, or "" for a success
		want                           string // a substring of the answer
	}{
		{"whoami", "GET", "/v1/whoami", bearer, "", 200, "", `"ok":true`},
		{"whoami without key", "GET", "/v1/whoami", "", "", 401, "authentication_required", ""},
		{"whoami bad key", "GET", "/v1/whoami", "Bearer nope", "", 401, "authentication_required", ""},
		{"alpha path", "GET", "/assets", bearer, "", 404, "route_not_found", ""},
		{"list", "GET", "/v1/assets?limit=2", bearer, "", 200, "", `"total":10`},
		{"list bad limit", "GET", "/v1/assets?limit=500", bearer, "", 422, "invalid_request", ""},
		{"list of a scene", "GET", "/v1/assets?scene_id=" + ids[2], bearer, "", 200, "", `"total":4`},
		{"list of no scene", "GET", "/v1/assets?scene_id=nope", bearer, "", 404, "scene_not_found", ""},
		{"get missing", "GET", "/v1/assets/ast_nope", bearer, "", 404, "asset_not_found", ""},
		{"create without prompt", "POST", "/v1/assets", bearer, `{}`, 422, "", `"detail"`},
		{"create bad pipeline", "POST", "/v1/assets", bearer, `{"prompt":"an arm","asset_pipeline":"magic"}`, 422, "", `asset_pipeline`},
		{"create in no scene", "POST", "/v1/assets", bearer, `{"prompt":"an arm","scene_id":"nope"}`, 404, "scene_not_found", ""},
		{"create read-only", "POST", "/v1/assets", "Bearer ro", `{"prompt":"an arm"}`, 403, "insufficient_scope", ""},
		{"scenes", "GET", "/v1/scenes", bearer, "", 200, "", `"id":"` + ids[0] + `"`},
		{"scene", "GET", "/v1/scenes/" + ids[1], bearer, "", 200, "", `"assets":[`},
		{"scene status", "GET", "/v1/scenes/" + ids[1] + "/status", bearer, "", 200, "", `"pipeline_status"`},
		{"no scene", "GET", "/v1/scenes/nope", bearer, "", 404, "scene_not_found", ""},
		{"no job", "GET", "/v1/jobs/job_nope", bearer, "", 404, "job_not_found", ""},
		{"export urdf", "POST", "/v1/scenes/" + ids[0] + "/export", bearer, `{"format":"urdf"}`, 422, "", `no URDF`},
		{"export no format", "POST", "/v1/scenes/" + ids[0] + "/export", bearer, `{}`, 422, "", `format`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, tc.method, u+tc.path, tc.auth, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if tc.code != "" {
				if got := errorCode(t, b); got != tc.code {
					t.Errorf("error code %q, want %q: %s", got, tc.code, b)
				}
			}
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("answer lacks %s: %s", tc.want, b)
			}
			if bytes.Contains(b, []byte("dev")) && tc.path == "/v1/whoami" {
				t.Errorf("whoami echoes the key: %s", b)
			}
		})
	}
}

// TestCurrentAssetShape checks an asset's fields: epoch timestamps, the
// current formats, its scene and the current status names.
func TestCurrentAssetShape(t *testing.T) {
	_, u := startCurrent(t, emulator.Config{Assets: 4, Seed: 2})
	_, b := do(t, "GET", u+"/v1/assets?limit=4", bearer, "")
	var page struct {
		OK     bool `json:"ok"`
		Assets []struct {
			ID        string   `json:"id"`
			SceneID   string   `json:"scene_id"`
			Status    string   `json:"status"`
			CreatedAt int64    `json:"created_at"`
			Formats   []string `json:"formats"`
		} `json:"assets"`
	}
	if err := json.Unmarshal(b, &page); err != nil || !page.OK || len(page.Assets) != 4 {
		t.Fatalf("page %s (%v)", b, err)
	}
	statuses := map[string]bool{}
	for _, a := range page.Assets {
		statuses[a.Status] = true
		if a.SceneID == "" || a.CreatedAt < 1_700_000_000 {
			t.Errorf("asset %+v: want a scene and an epoch created_at", a)
		}
		if a.Status == "ready" && strings.Join(a.Formats, ",") != "mjcf,usd,sdf" {
			t.Errorf("asset %s formats %v", a.ID, a.Formats)
		}
	}
	if !statuses["ready"] || !statuses["queued"] {
		t.Errorf("statuses %v: want ready and queued among 4 seeded assets", statuses)
	}
}

// createJob posts a create and returns the job id and scene id.
func createJob(t *testing.T, u, path, body string) (jobID, sceneID string) {
	t.Helper()
	resp, b := do(t, "POST", u+path, bearer, body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	if m["ok"] != true || m["status"] != "queued" {
		t.Fatalf("POST %s: %s", path, b)
	}
	return m["job_id"].(string), m["scene_id"].(string)
}

func jobOf(t *testing.T, u, id string, result bool) map[string]any {
	t.Helper()
	_, b := do(t, "GET", u+"/v1/jobs/"+id+"?include_result="+strconv.FormatBool(result), bearer, "")
	return decodeMap(t, b)["job"].(map[string]any)
}

func TestCurrentJobLifecycle(t *testing.T) {
	_, u := startCurrent(t, emulator.Config{Seed: 3, GenDelay: 400 * time.Millisecond})
	jobID, sceneID := createJob(t, u, "/v1/assets", `{"prompt":"A 7-DOF collaborative robot arm"}`)
	if !strings.HasPrefix(jobID, "job_") || len(sceneID) != 16 {
		t.Fatalf("job %q scene %q", jobID, sceneID)
	}
	j := jobOf(t, u, jobID, true)
	if j["status"] != "queued" || j["mode"] != "asset" || j["result"] != nil {
		t.Fatalf("new job %v", j)
	}
	if _, ok := j["created_at"].(float64); !ok {
		t.Errorf("created_at %v: want Unix seconds", j["created_at"])
	}
	time.Sleep(250 * time.Millisecond)
	if j := jobOf(t, u, jobID, true); j["status"] != "running" {
		t.Fatalf("job after half its time: %v", j)
	}
	time.Sleep(250 * time.Millisecond)
	j = jobOf(t, u, jobID, true)
	res, _ := j["result"].(map[string]any)
	if j["status"] != "succeeded" || res == nil || res["asset_id"] == "" {
		t.Fatalf("finished job %v", j)
	}
	if jobOf(t, u, jobID, false)["result"] != nil {
		t.Error("include_result=false still shows the result")
	}
	// The asset is in the scene the job named, and ready.
	_, b := do(t, "GET", u+"/v1/assets/"+res["asset_id"].(string), bearer, "")
	a := decodeMap(t, b)["asset"].(map[string]any)
	if a["scene_id"] != sceneID || a["status"] != "ready" || a["job_id"] != jobID {
		t.Errorf("asset %v", a)
	}
	// A finished job cannot be cancelled; a running one can.
	if resp, b := do(t, "POST", u+"/v1/jobs/"+jobID+"/cancel", bearer, ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("cancel of a finished job: %d %s", resp.StatusCode, b)
	}
	j2, _ := createJob(t, u, "/v1/assets", `{"prompt":"A parallel jaw gripper","scene_id":"`+sceneID+`"}`)
	if resp, b := do(t, "POST", u+"/v1/jobs/"+j2+"/cancel", bearer, ""); resp.StatusCode != 200 {
		t.Fatalf("cancel: %d %s", resp.StatusCode, b)
	}
	if j := jobOf(t, u, j2, false); j["status"] != "cancelled" {
		t.Errorf("cancelled job %v", j)
	}
}

// sse is one event read from a stream.
type sse struct {
	id, name, data string
}

// readEvents reads a stream until it closes, n events (pings included)
// have come, or the deadline passes; closed says whether the server closed it.
func readEvents(t *testing.T, u string, n int, d time.Duration) (evs []sse, closed bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	req.Header.Set("Authorization", bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var cur sse
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			evs = append(evs, cur)
			cur = sse{}
			if len(evs) >= n {
				return evs, false
			}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		}
	}
	return evs, ctx.Err() == nil && sc.Err() == nil
}

func names(evs []sse, pings bool) string {
	var out []string
	for _, e := range evs {
		if e.name != "ping" || pings {
			out = append(out, e.name)
		}
	}
	return strings.Join(out, " ")
}

func TestCurrentEventsDocumented(t *testing.T) {
	// The job stays queued for 500 ms, ten pings' worth, so that a reader
	// slowed by a loaded machine still meets one.
	_, u := startCurrent(t, emulator.Config{Seed: 4, GenDelay: time.Second,
		Current: emulator.CurrentOptions{PingInterval: 50 * time.Millisecond}})
	jobID, _ := createJob(t, u, "/v1/assets", `{"prompt":"A humanoid robot"}`)
	evs, closed := readEvents(t, u+"/v1/jobs/"+jobID+"/events", 100, 5*time.Second)
	if !closed {
		t.Fatal("the documented stream did not close at the end")
	}
	want := "stage_start stage_complete stage_start stage_complete stage_start stage_complete stage_start stage_complete asset_ready done"
	if got := names(evs, false); got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	if !strings.Contains(names(evs, true), "ping") {
		t.Error("no ping while the job was queued")
	}
	// after resumes past a sequence number.
	evs, _ = readEvents(t, u+"/v1/jobs/"+jobID+"/events?after=8", 100, 5*time.Second)
	if got := names(evs, false); got != "asset_ready done" {
		t.Errorf("after=8: %q", got)
	}
	if evs[0].id != "9" || !strings.Contains(evs[0].data, `"asset_id":"ast_`) {
		t.Errorf("first event after 8: %+v", evs[0])
	}
}

func TestCurrentEventsLive(t *testing.T) {
	_, u := startCurrent(t, emulator.Config{Seed: 5,
		Current: emulator.CurrentOptions{LiveEvents: true, PingInterval: 20 * time.Millisecond}})
	jobID, _ := createJob(t, u, "/v1/scenes", `{"prompt":"A kitchen"}`)
	evs, closed := readEvents(t, u+"/v1/jobs/"+jobID+"/events", 12, 5*time.Second)
	if closed {
		t.Fatal("the live stream closed; it should ping on")
	}
	got := names(evs, true)
	if !strings.HasPrefix(got, "job_queued job_started prompt_parsed geometry_generated physics_tuned exports_built job_succeeded ping ping") {
		t.Fatalf("events %q", got)
	}
}

func TestCurrentEventsDropped(t *testing.T) {
	_, u := startCurrent(t, emulator.Config{Seed: 6, Current: emulator.CurrentOptions{DropStreamAfter: 3}})
	jobID, _ := createJob(t, u, "/v1/assets", `{"prompt":"A gripper"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", u+"/v1/jobs/"+jobID+"/events", nil)
	req.Header.Set("Authorization", bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	if err == nil {
		t.Fatal("the stream ended cleanly; want it cut")
	}
	if n := strings.Count(buf.String(), "\nevent: "); n != 3 {
		t.Errorf("%d events before the cut, want 3:\n%s", n, buf.String())
	}
}

func TestCurrentExports(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run("strict="+strconv.FormatBool(strict), func(t *testing.T) {
			srv, u := startCurrent(t, emulator.Config{Assets: 1, Seed: 7, Current: emulator.CurrentOptions{Strict: strict}})
			_, b := do(t, "GET", u+"/v1/assets", bearer, "")
			id := decodeMap(t, b)["assets"].([]any)[0].(map[string]any)["id"].(string)
			for _, tc := range []struct {
				query, body string
				ok          bool
			}{
				{"?format=mjcf", `{"format":"mjcf"}`, true},
				{"?format=sdf", "", !strict},
				{"", `{"format":"usd"}`, !strict},
				{"?format=usd", `{"format":"mjcf"}`, false},
			} {
				resp, body := do(t, "POST", u+"/v1/assets/"+id+"/export"+tc.query, bearer, tc.body)
				if (resp.StatusCode == 200) != tc.ok {
					t.Errorf("%s %s: %d %s", tc.query, tc.body, resp.StatusCode, body[:min(len(body), 200)])
					continue
				}
				if !tc.ok {
					continue
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/zip" || formats.Detect(body) != formats.KindZip {
					t.Errorf("%s: Content-Type %q, kind %q", tc.query, ct, formats.Detect(body))
				}
				zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
				if err != nil {
					t.Fatal(err)
				}
				wantExt := map[string]string{"?format=mjcf": ".xml", "?format=sdf": ".sdf", "": ".usda"}[tc.query]
				found := false
				for _, f := range zr.File {
					found = found || strings.HasSuffix(f.Name, wantExt)
				}
				if !found {
					t.Errorf("%s: the zip holds no %s model", tc.query, wantExt)
				}
				f := map[string]formats.Format{"?format=mjcf": formats.MuJoCo, "?format=sdf": formats.GazeboSDF, "": formats.IsaacUSD}[tc.query]
				if want, _ := srv.CurrentExportBytes(id, f); !bytes.Equal(want, body) {
					t.Errorf("%s: CurrentExportBytes differs from the answer", tc.query)
				}
			}
			resp, b := do(t, "POST", u+"/v1/assets", bearer, `{"prompt":"an arm"}`)
			if strict != (resp.StatusCode == 422) || strict && !strings.Contains(string(b), "scene_id") {
				t.Errorf("create without scene_id, strict %v: %d %s", strict, resp.StatusCode, b)
			}
		})
	}
}

func TestCurrentSceneEdit(t *testing.T) {
	_, u := startCurrent(t, emulator.Config{Seed: 8, GenDelay: 100 * time.Millisecond})
	jobID, sceneID := createJob(t, u, "/v1/scenes", `{"prompt":"A warehouse picking cell with a robot arm"}`)
	if resp, b := do(t, "POST", u+"/v1/scenes/"+sceneID+"/export", bearer, `{"format":"mjcf"}`); resp.StatusCode != http.StatusConflict {
		t.Errorf("export of a queued scene: %d %s", resp.StatusCode, b)
	}
	time.Sleep(150 * time.Millisecond)
	if j := jobOf(t, u, jobID, true); j["status"] != "succeeded" || j["mode"] != "scene" {
		t.Fatalf("scene job %v", j)
	}
	_, before := do(t, "POST", u+"/v1/scenes/"+sceneID+"/export", bearer, `{"format":"mjcf"}`)
	editJob, editScene := createJob(t, u, "/v1/scenes/"+sceneID+"/edit", `{"prompt":"add a conveyor belt"}`)
	if editScene != sceneID {
		t.Errorf("edit job's scene %q, want %q", editScene, sceneID)
	}
	time.Sleep(150 * time.Millisecond)
	if j := jobOf(t, u, editJob, false); j["status"] != "succeeded" || j["mode"] != "edit" {
		t.Fatalf("edit job %v", j)
	}
	_, after := do(t, "POST", u+"/v1/scenes/"+sceneID+"/export", bearer, `{"format":"mjcf"}`)
	if bytes.Equal(before, after) || formats.Detect(after) != formats.KindZip {
		t.Error("the edit did not change the scene's export")
	}
	_, b := do(t, "GET", u+"/v1/scenes/"+sceneID, bearer, "")
	if sc := decodeMap(t, b)["scene"].(map[string]any); sc["revision"] != 1.0 || !strings.Contains(string(b), "conveyor") {
		t.Errorf("scene after the edit: %s", b)
	}
}

func TestCurrentRateLimit(t *testing.T) {
	for _, epoch := range []bool{false, true} {
		t.Run("epoch="+strconv.FormatBool(epoch), func(t *testing.T) {
			srv, u := startCurrent(t, emulator.Config{Assets: 1, Seed: 9,
				Current: emulator.CurrentOptions{RateLimit: 3, RateWindow: time.Hour, ResetEpoch: epoch}})
			for i := 1; i <= 4; i++ {
				resp, b := do(t, "GET", u+"/v1/whoami", bearer, "")
				h := resp.Header
				if h.Get("X-RateLimit-Limit") != "3" {
					t.Fatalf("request %d: X-RateLimit-Limit %q", i, h.Get("X-RateLimit-Limit"))
				}
				rem, _ := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
				reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
				if want := max(3-i, 0); rem != want {
					t.Errorf("request %d: remaining %d, want %d", i, rem, want)
				}
				if epoch && (reset < time.Now().Unix()+3500 || reset > time.Now().Unix()+3601) ||
					!epoch && (reset < 3500 || reset > 3600) {
					t.Errorf("request %d: reset %d", i, reset)
				}
				if i <= 3 && resp.StatusCode != 200 || i == 4 && (resp.StatusCode != 429 || errorCode(t, b) != "rate_limit_exceeded") {
					t.Errorf("request %d: %d %s", i, resp.StatusCode, b)
				}
				if i == 4 && h.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			}
			if n := srv.CurrentStats().RateLimited; n != 1 {
				t.Errorf("rate_limited %d, want 1", n)
			}
		})
	}
	_, u := startCurrent(t, emulator.Config{Current: emulator.CurrentOptions{RateLimit: 3, NoRateHeaders: true}})
	if resp, _ := do(t, "GET", u+"/v1/whoami", bearer, ""); resp.Header.Get("X-RateLimit-Remaining") != "" {
		t.Error("NoRateHeaders still sends the headers")
	}
}

func TestCurrentCredits(t *testing.T) {
	_, u := startCurrent(t, emulator.Config{Assets: 1, Seed: 10, Current: emulator.CurrentOptions{Credits: 2}})
	_, b := do(t, "GET", u+"/v1/whoami", bearer, "")
	if !strings.Contains(string(b), `"remaining":2`) {
		t.Errorf("whoami without the credits left: %s", b)
	}
	createJob(t, u, "/v1/assets", `{"prompt":"an arm"}`)
	createJob(t, u, "/v1/assets", `{"prompt":"an arm"}`)
	resp, b := do(t, "POST", u+"/v1/assets", bearer, `{"prompt":"an arm"}`)
	if resp.StatusCode != http.StatusPaymentRequired || errorCode(t, b) != "insufficient_credits" {
		t.Errorf("third create: %d %s", resp.StatusCode, b)
	}
}

func TestCurrentCreateDelay(t *testing.T) {
	srv, u := startCurrent(t, emulator.Config{Seed: 11, Current: emulator.CurrentOptions{CreateDelay: time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", u+"/v1/assets", strings.NewReader(`{"prompt":"an arm"}`))
	req.Header.Set("Authorization", bearer)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the create answered before its delay")
	}
	if n := srv.Stats().Assets; n != 1 {
		t.Errorf("%d assets after a create that timed out, want 1 (the server accepted it)", n)
	}
}
