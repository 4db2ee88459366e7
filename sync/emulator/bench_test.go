package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// BenchmarkAPI measures one request of each route the sync sends, over
// loopback with keep-alive, as gizmo sync does: a page of 100 assets, GET
// /assets/{id}, POST export and the download of a cached export. ns/op and
// allocs/op include the client's share, the same before and after a change.
func BenchmarkAPI(b *testing.B) {
	srv, u := emulatortest.StartTest(b, emulator.Config{Assets: 200, Seed: 1})
	a, _ := srv.AddAsset("A 6-DOF industrial robotic arm with a parallel jaw gripper", "", []string{"arm"}, api.StatusReady)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.Cleanup(client.CloseIdleConnections)
	send := func(b *testing.B, method, url, body string, auth bool) []byte {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, url, r)
		if err != nil {
			b.Fatal(err)
		}
		if auth {
			req.Header.Set("Authorization", bearer)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%s %s: %d %v", method, url, resp.StatusCode, err)
		}
		return out
	}
	exportBody := `{"format":"` + string(formats.IsaacURDF) + `"}`
	var e api.Export
	if err := json.Unmarshal(send(b, "POST", u+"/assets/"+a.ID+"/export", exportBody, true), &e); err != nil {
		b.Fatal(err)
	}
	send(b, "GET", e.URL, "", false) // generate the export once
	routes := []struct {
		name, method, url, body string
		auth                    bool
	}{
		{"list", "GET", u + "/assets?limit=100&offset=50", "", true},
		{"get", "GET", u + "/assets/" + a.ID, "", true},
		{"export", "POST", u + "/assets/" + a.ID + "/export", exportBody, true},
		{"download", "GET", e.URL, "", false},
	}
	for _, rt := range routes {
		b.Run(rt.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				send(b, rt.method, rt.url, rt.body, rt.auth)
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used: with
// both ends of the loopback in the process, it measures the work of a
// request better than the wall clock on a machine shared with others.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
