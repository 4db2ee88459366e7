package emulatortest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/sync/emulator"
)

// TestCheckPerAssetRate: a client beyond the limit is refused and named;
// StartTest turns the limit on by default.
func TestCheckPerAssetRate(t *testing.T) {
	srv, u := StartUnlimited(t, emulator.Config{Seed: 1, MaxPerAssetRate: 2})
	a, err := srv.AddAsset("A gripper", "", nil, "ready")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPerAssetRate(srv); err != nil {
		t.Fatalf("before any request: %v", err)
	}
	for range 5 {
		req, _ := http.NewRequest("GET", u+"/assets/"+a.ID, nil)
		req.Header.Set("Authorization", "Bearer dev")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	err = CheckPerAssetRate(srv)
	if err == nil || !strings.Contains(err.Error(), a.ID+" get") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("after 5 gets with a limit of 2: %v", err)
	}
	srv2, _ := StartTest(t, emulator.Config{Seed: 1})
	if l := srv2.Stats().PerAsset.Limit; l != MaxPerAssetRate {
		t.Errorf("StartTest's limit: %d, want %d", l, MaxPerAssetRate)
	}
}
