package emulator_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// TestAdminStates: the emulator's own routes put an account in the states
// the API cannot reach by itself: a status it does not document, a format
// it does not document (listed, exported by name, an opaque file), an asset
// deleted (404 everywhere).
func TestAdminStates(t *testing.T) {
	_, u := emulatortest.StartTest(t, emulator.Config{Seed: 3})
	add := func(body string) (int, api.Asset) {
		t.Helper()
		resp, b := do(t, "POST", u+"/_emulator/assets", "", body)
		var a api.Asset
		if resp.StatusCode == 201 {
			if err := json.Unmarshal(b, &a); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, a
	}
	if code, a := add(`{"prompt":"A wheeled mobile base","status":"archived"}`); code != 201 || a.Status != "archived" {
		t.Errorf("add archived: %d %+v", code, a)
	} else if resp, b := do(t, "GET", u+"/assets/"+a.ID, bearer, ""); resp.StatusCode != 200 || !strings.Contains(string(b), `"status":"archived"`) {
		t.Errorf("get archived: %d %s", resp.StatusCode, b)
	} else if resp, b := do(t, "POST", u+"/assets/"+a.ID+"/export", bearer, `{"format":"mujoco_mjcf"}`); resp.StatusCode != 409 || !strings.Contains(string(b), "archived") {
		t.Errorf("export archived: %d %s, want 409 naming the status", resp.StatusCode, b)
	}

	code, sdf := add(`{"prompt":"A 6-DOF arm","name":"sdf arm","extra_formats":["gazebo_sdf"]}`)
	if code != 201 {
		t.Fatalf("add with gazebo_sdf: %d", code)
	}
	resp, b := do(t, "GET", u+"/assets/"+sdf.ID, bearer, "")
	var got api.Asset
	json.Unmarshal(b, &got)
	if resp.StatusCode != 200 || len(got.Formats) != 4 || got.Formats[3] != "gazebo_sdf" {
		t.Errorf("formats of an asset with gazebo_sdf: %v", got.Formats)
	}
	dl := exportURL(t, u, sdf.ID, "gazebo_sdf")
	if resp, body := do(t, "GET", dl, "", ""); resp.StatusCode != 200 || !strings.Contains(string(body), "<sdf ") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "sdf_arm.sdf") {
		t.Errorf("download gazebo_sdf: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Disposition"), body)
	}
	exportURL(t, u, sdf.ID, formats.MuJoCo) // the documented ones still work
	_, plain := add(`{"prompt":"A gripper"}`)
	if resp, b := do(t, "POST", u+"/assets/"+plain.ID+"/export", bearer, `{"format":"gazebo_sdf"}`); resp.StatusCode != 400 || !strings.Contains(string(b), "unknown_format") {
		t.Errorf("gazebo_sdf of an asset without it: %d %s, want 400 unknown_format", resp.StatusCode, b)
	}
	for _, bad := range []string{`{"prompt":"x","extra_formats":["mujoco_mjcf"]}`, `{"prompt":"x","extra_formats":["Bad Name"]}`, `{"prompt":""}`} {
		if code, _ := add(bad); code != 400 {
			t.Errorf("add %s: %d, want 400", bad, code)
		}
	}

	if resp, _ := do(t, "DELETE", u+"/_emulator/assets/"+plain.ID, "", ""); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", u+"/assets/"+plain.ID, bearer, ""); resp.StatusCode != 404 {
		t.Errorf("get of a deleted asset: %d, want 404", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", u+"/assets/"+plain.ID+"/export", bearer, `{"format":"mujoco_mjcf"}`); resp.StatusCode != 404 {
		t.Errorf("export of a deleted asset: %d, want 404", resp.StatusCode)
	}
	if resp, _ := do(t, "DELETE", u+"/_emulator/assets/"+plain.ID, "", ""); resp.StatusCode != 404 {
		t.Errorf("delete twice: %d, want 404", resp.StatusCode)
	}
}
