package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestSyncRuntime: a sync runs with syncProcs Ps per core and GOGC at
// syncGCPercent, unless GOMAXPROCS or GOGC say otherwise.
func TestSyncRuntime(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gc)
	})
	tests := []struct {
		name, maxprocs, gogc string
		wantProcs, wantGC    int
	}{
		{"defaults", "", "", syncProcs * procs, syncGCPercent},
		{"GOMAXPROCS set", "1", "", procs, syncGCPercent},
		{"GOGC set", "", "50", syncProcs * procs, gc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GOMAXPROCS(procs)
			debug.SetGCPercent(gc)
			t.Setenv("GOMAXPROCS", tt.maxprocs)
			t.Setenv("GOGC", tt.gogc)
			syncRuntime()
			if got := runtime.GOMAXPROCS(0); got != tt.wantProcs {
				t.Errorf("GOMAXPROCS = %d, want %d", got, tt.wantProcs)
			}
			if got := debug.SetGCPercent(gc); got != tt.wantGC {
				t.Errorf("GC percent = %d, want %d", got, tt.wantGC)
			}
		})
	}
}
