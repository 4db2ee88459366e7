package emulator_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/sync/emulator"
)

// TestCurrentStateDir: a current-generation emulator restarted on its state
// directory still answers GET /v1/jobs/{id} for the jobs it ran (asset,
// scene, edit, cancelled), with their scenes and results, and keeps the
// scenes it generated; a job that was running when it stopped has ended
// when it comes back after the job's end. An alpha server started on the
// same state in between keeps the current generation's part.
func TestCurrentStateDir(t *testing.T) {
	dir := t.TempDir()
	cfg := emulator.Config{API: emulator.APICurrent, Assets: 5, Seed: 9, StateDir: dir, GenDelay: 600 * time.Millisecond}
	s1, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, u1 := startHandler(t, s1)
	assetJob, assetScene := createJob(t, u1, "/v1/assets", `{"prompt":"A 7-DOF collaborative robot arm"}`)
	sceneJob, newScene := createJob(t, u1, "/v1/scenes", `{"prompt":"A kitchen with a cabinet"}`)
	seeded := s1.SceneIDs()[len(s1.SceneIDs())-1] // the oldest: a seeded one
	editJob, _ := createJob(t, u1, "/v1/scenes/"+seeded+"/edit", `{"prompt":"add a conveyor belt"}`)
	cancelJob, _ := createJob(t, u1, "/v1/assets", `{"prompt":"A gripper","scene_id":"`+newScene+`"}`)
	if resp, b := do(t, "POST", u1+"/v1/jobs/"+cancelJob+"/cancel", bearer, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %d %s", resp.StatusCode, b)
	}
	scenesBefore := s1.SceneIDs()
	if j := jobOf(t, u1, assetJob, false); j["status"] == "succeeded" {
		t.Fatalf("the asset job ended before the restart: the test proves nothing about running jobs")
	}
	s1.Close()

	// An alpha server on the same state writes it back with the scenes and
	// jobs it does not serve.
	alpha := cfg
	alpha.API = emulator.APIAlpha
	s2, err := emulator.New(alpha)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.AddAsset("A wheeled base", "", nil, "ready"); err != nil {
		t.Fatal(err)
	}
	s2.Close()

	time.Sleep(cfg.GenDelay) // every job of s1 has ended by now
	s3, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, u3 := startHandler(t, s3)
	if got := s3.SceneIDs(); !slices.Equal(got, scenesBefore) {
		t.Errorf("scenes after restart %v, want %v", got, scenesBefore)
	}
	for _, tc := range []struct {
		name, id, status, mode, scene string
		asset                         bool // the result names an asset
	}{
		{"asset", assetJob, "succeeded", "asset", assetScene, true},
		{"scene", sceneJob, "succeeded", "scene", newScene, true},
		{"edit", editJob, "succeeded", "edit", seeded, false},
		{"cancelled", cancelJob, "cancelled", "asset", newScene, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, "GET", u3+"/v1/jobs/"+tc.id+"?include_result=true", bearer, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /v1/jobs/%s after restart: %d %s", tc.id, resp.StatusCode, b)
			}
			j := decodeMap(t, b)["job"].(map[string]any)
			if j["id"] != tc.id || j["status"] != tc.status || j["mode"] != tc.mode || j["scene_id"] != tc.scene {
				t.Errorf("job after restart %v, want status %s, mode %s, scene %s", j, tc.status, tc.mode, tc.scene)
			}
			res, _ := j["result"].(map[string]any)
			id, _ := res["asset_id"].(string)
			if tc.asset != (id != "") {
				t.Fatalf("result %v: want an asset id %v", res, tc.asset)
			}
			if id == "" {
				return
			}
			// The asset it made is there, in its scene, made by this job.
			_, b = do(t, "GET", u3+"/v1/assets/"+id, bearer, "")
			a := decodeMap(t, b)["asset"].(map[string]any)
			if a["scene_id"] != tc.scene || a["job_id"] != tc.id || a["status"] != "ready" {
				t.Errorf("asset %v", a)
			}
		})
	}
	// The edit is in effect: the seeded scene exports at revision 1.
	_, b := do(t, "GET", u3+"/v1/scenes/"+seeded, bearer, "")
	if !strings.Contains(string(b), `"revision":1`) || !strings.Contains(string(b), "add a conveyor belt") {
		t.Errorf("edited scene after restart: %s", b)
	}
	// New jobs get fresh ids.
	again, _ := createJob(t, u3, "/v1/assets", `{"prompt":"A 4-DOF SCARA-style robotic arm"}`)
	if slices.Contains([]string{assetJob, sceneJob, editJob, cancelJob}, again) {
		t.Errorf("job id %s repeated after restart", again)
	}
}
