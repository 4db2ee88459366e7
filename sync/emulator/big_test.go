package emulator_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// TestBigExportAndRange: a big export is a valid zip whose payload checks
// against its CRC, its ETag is its SHA-256 prefix as for any export, and a
// download serves Range and If-Range as an object store does, counting the
// bytes it sends.
func TestBigExportAndRange(t *testing.T) {
	const payload = 1<<20 + 12345
	srv, u := emulatortest.StartTest(t, emulator.Config{BigEvery: 1, BigSize: payload})
	a, err := srv.AddAsset("A 6-DOF robotic arm", "arm", nil, api.StatusReady)
	if err != nil {
		t.Fatal(err)
	}
	body, err := srv.ExportBytes(a.ID, formats.MuJoCo)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the big export is not a zip: %v", err)
	}
	var found bool
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc) // archive/zip checks the CRC at EOF
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if f.Name == "textures/payload.bin" {
			found = n == payload
		}
	}
	if !found {
		t.Fatal("no payload of the configured size in the big export")
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`

	dl := exportURL(t, u, a.ID, formats.MuJoCo)
	srv.ResetStats()
	get := func(rng, ifRange string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", dl, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		if ifRange != "" {
			req.Header.Set("If-Range", ifRange)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	resp, b := get("", "")
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != etag || !bytes.Equal(b, body) {
		t.Fatalf("GET: %d, ETag %s (want %s), %d bytes of %d", resp.StatusCode, resp.Header.Get("ETag"), etag, len(b), len(body))
	}
	resp, b = get("bytes=1000-", etag)
	if resp.StatusCode != 206 || !bytes.Equal(b, body[1000:]) {
		t.Errorf("Range with the right If-Range: %d, %d bytes, want 206 and the rest", resp.StatusCode, len(b))
	}
	resp, b = get("bytes=1000-", `"another"`)
	if resp.StatusCode != 200 || !bytes.Equal(b, body) {
		t.Errorf("Range with a stale If-Range: %d, %d bytes, want 200 and the whole body", resp.StatusCode, len(b))
	}
	if st := srv.Stats(); st.Download.Bytes != int64(3*len(body)-1000) {
		t.Errorf("stats count %d download bytes, want %d", st.Download.Bytes, 3*len(body)-1000)
	}
}

// TestTruncateAt: a cut answer stops at the configured share.
func TestTruncateAt(t *testing.T) {
	srv, u := emulatortest.StartTest(t, emulator.Config{BigEvery: 1, BigSize: 1 << 20})
	a, err := srv.AddAsset("A 6-DOF robotic arm", "arm", nil, api.StatusReady)
	if err != nil {
		t.Fatal(err)
	}
	size, err := srv.ExportSize(a.ID, formats.MuJoCo)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(emulator.Faults{TruncateRate: 1, TruncateAt: 0.9})
	resp, err := http.Get(exportURL(t, u, a.ID, formats.MuJoCo))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil || n != int64(float64(size)*0.9) {
		t.Errorf("read %d of %d bytes (err %v), want a cut at 90%% (%d)", n, size, err, int64(float64(size)*0.9))
	}
}
