// Package emulatortest starts a Gizmo emulator for a test over loopback HTTP.
package emulatortest

import (
	"net/http/httptest"
	"testing"

	"github.com/antimlabs/gizmo/sync/emulator"
)

// StartTest starts an emulator with cfg on 127.0.0.1 and a free port, and
// stops it when the test ends. url is the API base URL (also the host of the
// download URLs unless cfg.DownloadBaseURL says otherwise).
func StartTest(tb testing.TB, cfg emulator.Config) (srv *emulator.Server, url string) {
	tb.Helper()
	srv, err := emulator.New(cfg)
	if err != nil {
		tb.Fatalf("emulator: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	tb.Cleanup(ts.Close)
	return srv, ts.URL
}
