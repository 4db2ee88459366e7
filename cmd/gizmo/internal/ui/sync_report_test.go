package ui_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/testbuf"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// events is a run's worth of events with fixed times, covering every kind.
func events() []gsync.Event {
	t0 := time.Date(2026, 11, 28, 9, 14, 3, 0, time.UTC)
	yes, no := true, false
	sum := &gsync.Summary{Seen: 5, Ready: 3, Pending: 1, GenFailed: 1, Vanished: 1, New: 2, Skipped: 3, Failed: 1,
		Bytes: 12345, Duration: 1500 * time.Millisecond, Complete: true,
		Failures: []gsync.Failure{{ID: "ast_3", Format: formats.IsaacUSD, Reason: "download: got 10 of 20 bytes: download cut short"}}}
	evs := []gsync.Event{
		{Type: gsync.EventListed, Count: 5, Complete: true},
		{Type: gsync.EventPending, ID: "ast_4", Name: "arm", Status: api.StatusProcessing, Reason: "not ready yet"},
		{Type: gsync.EventGenerationFailed, ID: "ast_5", Status: api.StatusFailed, Reason: "emulated failure"},
		{Type: gsync.EventVanished, ID: "ast_9", Name: "old gripper"},
		{Type: gsync.EventSkip, ID: "ast_1", Format: formats.IsaacUSD, Size: 100, Reason: gsync.ReasonCached},
		{Type: gsync.EventSkip, ID: "ast_7", Format: formats.MuJoCo, Reason: "the asset does not offer this format"},
		{Type: gsync.EventQueued, ID: "ast_2", Format: formats.MuJoCo, Count: 1},
		{Type: gsync.EventStart, ID: "ast_2", Format: formats.MuJoCo},
		{Type: gsync.EventProgress, ID: "ast_2", Format: formats.MuJoCo, Bytes: 100, Size: 4096},
		{Type: gsync.EventRetry, ID: "ast_2", Format: formats.MuJoCo, Reason: "download: HTTP 403"},
		{Type: gsync.EventDone, ID: "ast_2", Name: "gripper", Format: formats.MuJoCo, Size: 4096, Bytes: 4096, SHA256: "ab12", Path: "/c/trees/ab12/model.xml", Valid: &yes},
		{Type: gsync.EventDone, ID: "ast_3", Format: formats.IsaacURDF, Size: 8249, Bytes: 8249, SHA256: "cd34", Path: "/c/trees/cd34/robot.urdf", Valid: &no, Reason: "2 validation errors"},
		{Type: gsync.EventFail, ID: "ast_3", Format: formats.IsaacUSD, Reason: "download: got 10 of 20 bytes: download cut short"},
		{Type: gsync.EventPlan, ID: "ast_6", Format: formats.IsaacUSD},
		{Type: gsync.EventSummary, Summary: sum},
	}
	for i := range evs {
		evs[i].Time = t0.Add(time.Duration(i) * time.Second)
	}
	return evs
}

func TestReporterGolden(t *testing.T) {
	for _, tc := range []struct {
		name           string
		mode           ui.ReportMode
		quiet, verbose bool
	}{
		{"lines", ui.ReportLines, false, false},
		{"lines-quiet", ui.ReportLines, true, false},
		{"lines-verbose", ui.ReportLines, false, true},
		{"json", ui.ReportJSON, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			r := ui.NewSyncReporter(&b, tc.mode, tc.quiet, tc.verbose)
			for _, ev := range events() {
				r.Event(ev)
			}
			r.Close()
			golden := filepath.Join("testdata", "report-"+tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s\nwant:\n%s", golden, b.String(), want)
			}
		})
	}
}

// TestReporterTerminal: the live display ends with the summary and leaves no
// display lines behind; failures scroll above it.
func TestReporterTerminal(t *testing.T) {
	var b bytes.Buffer
	r := ui.NewSyncReporter(&b, ui.ReportTerminal, false, false)
	for _, ev := range events() {
		r.Event(ev)
	}
	time.Sleep(200 * time.Millisecond) // let it draw once
	r.Close()
	out := b.String()
	for _, want := range []string{"failed   ast_3 isaac_sim_usd", "files: 2 new, 3 already cached, 1 failed", "INVALID"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "fetched  ast_2") {
		t.Errorf("terminal output lists a valid fetched file; the bar covers those:\n%q", out)
	}
}

// TestReporterBatches: the line and JSON reporters write their lines in
// batches, yet every line is out shortly after its event without Close,
// at once with the summary, and at Close.
func TestReporterBatches(t *testing.T) {
	done := gsync.Event{Type: gsync.EventDone, ID: "ast_2", Format: formats.MuJoCo, Size: 4096, Bytes: 4096}
	for _, mode := range []ui.ReportMode{ui.ReportLines, ui.ReportJSON} {
		var out testbuf.Buffer
		r := ui.NewSyncReporter(&out, mode, false, false)
		r.Event(done)
		r.Event(done)
		for t0 := time.Now(); out.String() == "" && time.Since(t0) < 5*time.Second; {
			time.Sleep(5 * time.Millisecond)
		}
		if n := strings.Count(out.String(), "ast_2"); n != 2 {
			t.Errorf("mode %d: %d lines out after a while without Close, want 2: %q", mode, n, out.String())
		}
		r.Event(done)
		r.Event(gsync.Event{Type: gsync.EventSummary, Summary: &gsync.Summary{New: 3}})
		if n := strings.Count(out.String(), "ast_2"); n != 3 || !strings.Contains(out.String(), "3") {
			t.Errorf("mode %d: summary not written at once with what came before it: %q", mode, out.String())
		}
		r.Event(gsync.Event{Type: gsync.EventFail, ID: "ast_9", Reason: "late"})
		r.Close()
		if !strings.Contains(out.String(), "ast_9") {
			t.Errorf("mode %d: Close left a line unwritten: %q", mode, out.String())
		}
	}
}
