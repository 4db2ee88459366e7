package emulator_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// TestAssetJSONFollowsStatus: GET /assets/{id} and the list keep each
// asset's JSON, and must not serve it stale once the clock moves its status
// on, nor after a restart, a delete or a new asset.
func TestAssetJSONFollowsStatus(t *testing.T) {
	clk := &clock{}
	clk.ns.Store(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).UnixNano())
	dir := t.TempDir()
	cfg := emulator.Config{Assets: 3, Seed: 5, GenDelay: 10 * time.Second, FailRate: 1, Now: clk.Now, StateDir: dir}
	srv, u := emulatortest.StartTest(t, cfg)
	_, body := do(t, "POST", u+"/assets", bearer, `{"prompt":"A 4-DOF SCARA-style robotic arm"}`)
	var created api.Asset
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	id := created.ID
	check := func(srv *emulator.Server, u string, want api.Status) {
		t.Helper()
		resp, got := do(t, "GET", u+"/assets/"+id, bearer, "")
		a, _ := srv.Asset(id)
		b, _ := json.Marshal(a)
		if resp.StatusCode != 200 || a.Status != want || !bytes.Equal(got, append(b, '\n')) {
			t.Errorf("GET: %d %s, want status %s: %s", resp.StatusCode, got, want, b)
		}
		var p api.Page
		_, list := do(t, "GET", u+"/assets?offset=3", bearer, "")
		if err := json.Unmarshal(list, &p); err != nil || len(p.Assets) != 1 || p.Assets[0].Status != want || p.Assets[0].Formats != nil {
			t.Errorf("list: %s, want %s without formats (%v)", list, want, err)
		}
	}
	for range 2 { // the second GET is served from the cache
		check(srv, u, api.StatusPending)
	}
	clk.Add(5 * time.Second)
	check(srv, u, api.StatusProcessing)
	check(srv, u, api.StatusProcessing)
	clk.Add(5 * time.Second)
	check(srv, u, api.StatusFailed)

	// A restart reads the state afresh.
	srv.Close()
	clk.Add(-10 * time.Second)
	again, u2 := emulatortest.StartTest(t, cfg)
	check(again, u2, api.StatusPending)
	clk.Add(10 * time.Second)
	check(again, u2, api.StatusFailed)

	// A deleted asset is gone; one added after it shows.
	again.Delete(id)
	resp, _ := do(t, "GET", u2+"/assets/"+id, bearer, "")
	if resp.StatusCode != 404 {
		t.Errorf("GET of a deleted asset: %d", resp.StatusCode)
	}
	ready, _ := again.AddAsset("A humanoid robot", "", []string{"humanoid"}, api.StatusReady)
	id = ready.ID
	check(again, u2, api.StatusReady)
	_, got := do(t, "GET", u2+"/assets/"+id, bearer, "")
	var a api.Asset
	if json.Unmarshal(got, &a); len(a.Formats) != 3 {
		t.Errorf("GET of a ready asset: %s, want its 3 formats", got)
	}
}
