// Package emulatortest starts a Gizmo emulator for a test over loopback HTTP.
//
// Every emulator it starts for a test (not a benchmark) refuses a client in
// a tight loop: more than MaxPerAssetRate requests a second for one asset on
// one route get 429, and the test fails when it ends if any was refused. A
// correct client (status polls from 1 s, backoff with jitter) never comes
// near it.
package emulatortest

import (
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/sync/emulator"
)

// MaxPerAssetRate is the per-asset rate limit of the emulators StartTest
// starts when Config.MaxPerAssetRate is 0: requests a second for one asset
// on one route (get, export, download). gizmo's busiest second in the CLI
// scripts is 6.
const MaxPerAssetRate = 20

// StartTest starts an emulator with cfg on 127.0.0.1 and a free port, and
// stops it when the test ends. url is the API base URL (also the host of the
// download URLs unless cfg.DownloadBaseURL says otherwise). For a test, the
// per-asset rate limit is on (MaxPerAssetRate unless cfg sets one) and the
// test fails at its end if the emulator refused a request for it; a
// benchmark runs without it.
func StartTest(tb testing.TB, cfg emulator.Config) (srv *emulator.Server, url string) {
	tb.Helper()
	_, bench := tb.(*testing.B)
	if cfg.MaxPerAssetRate == 0 && !bench {
		cfg.MaxPerAssetRate = MaxPerAssetRate
	}
	srv, url = StartUnlimited(tb, cfg)
	if cfg.MaxPerAssetRate > 0 {
		tb.Cleanup(func() {
			if err := CheckPerAssetRate(srv); err != nil {
				tb.Error(err)
			}
		})
	}
	return srv, url
}

// StartUnlimited is StartTest without the per-asset rate limit's default
// and check: for tests of the emulator that send bursts on purpose.
func StartUnlimited(tb testing.TB, cfg emulator.Config) (srv *emulator.Server, url string) {
	tb.Helper()
	srv, err := emulator.New(cfg)
	if err != nil {
		tb.Fatalf("emulator: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	tb.Cleanup(ts.Close)
	return srv, ts.URL
}

// CheckPerAssetRate returns an error naming every asset and route for which
// srv refused a request for going beyond its per-asset rate limit.
func CheckPerAssetRate(srv *emulator.Server) error {
	st := srv.Stats().PerAsset
	if st.Refused == 0 {
		return nil
	}
	var over []string
	for id, routes := range st.Assets {
		for rt, c := range routes {
			if c.Refused > 0 {
				over = append(over, fmt.Sprintf("%s %s: %d requests, %d in one second, %d refused", id, rt, c.Requests, c.PeakPerSecond, c.Refused))
			}
		}
	}
	sort.Strings(over)
	return fmt.Errorf("a client went beyond %d requests a second for one asset (a tight loop?):\n  %s", st.Limit, strings.Join(over, "\n  "))
}
