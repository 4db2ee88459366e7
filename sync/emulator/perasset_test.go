package emulator_test

import (
	"sync"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// TestMaxPerAssetRate: beyond MaxPerAssetRate requests for one asset on one
// route in a second, the emulator answers 429 with Retry-After; other
// assets and other routes are not affected; the next second starts afresh;
// the stats count every request, the busiest second and the refusals.
func TestMaxPerAssetRate(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv, u := emulatortest.StartTest(t, emulator.Config{Assets: 3, Seed: 1, MaxPerAssetRate: 3, Now: clock})
	a, b := pageID(t, u, 0), pageID(t, u, 1)
	for i := range 3 {
		if resp, body := do(t, "GET", u+"/assets/"+a, bearer, ""); resp.StatusCode != 200 {
			t.Fatalf("get %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := do(t, "GET", u+"/assets/"+a, bearer, "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("4th get in a second: %d (Retry-After %q) %s, want 429", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp, _ := do(t, "GET", u+"/assets/"+b, bearer, ""); resp.StatusCode != 200 {
		t.Errorf("another asset: %d, want 200", resp.StatusCode)
	}
	dl := exportURL(t, u, a, formats.MuJoCo) // another route of the same asset
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if resp, _ := do(t, "GET", u+"/assets/"+a, bearer, ""); resp.StatusCode != 200 {
		t.Errorf("get in the next second: %d, want 200", resp.StatusCode)
	}
	for range 3 {
		do(t, "GET", dl, "", "")
	}
	if resp, _ := do(t, "GET", dl, "", ""); resp.StatusCode != 429 {
		t.Errorf("4th download in a second: %d, want 429", resp.StatusCode)
	}
	st := srv.Stats().PerAsset
	if st.Limit != 3 || st.Refused != 2 || st.Peak != 4 {
		t.Errorf("per-asset stats: limit %d refused %d peak %d, want 3 2 4", st.Limit, st.Refused, st.Peak)
	}
	if g := st.Assets[a]["get"]; g.Requests != 5 || g.PeakPerSecond != 4 || g.Refused != 1 {
		t.Errorf("asset %s get: %+v, want 5 requests, peak 4, 1 refused", a, g)
	}
	if e := st.Assets[a]["export"]; e.Requests != 1 || e.Refused != 0 {
		t.Errorf("asset %s export: %+v", a, e)
	}
	if g := st.Assets[b]["get"]; g.Requests != 1 {
		t.Errorf("asset %s get: %+v", b, g)
	}
	srv.ResetStats()
	if st := srv.Stats().PerAsset; len(st.Assets) != 0 || st.Refused != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
	if _, err := emulator.New(emulator.Config{MaxPerAssetRate: -1}); err == nil {
		t.Error("New accepted a negative MaxPerAssetRate")
	}
}
