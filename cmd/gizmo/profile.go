package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// startProfile starts a CPU profile written to the file named by
// GIZMO_CPUPROFILE, for developers measuring a command end to end (see
// sync/bench/RESULTS.md). It returns the function that stops it; with the
// variable unset it does nothing.
func startProfile(stderr io.Writer) func() {
	path := os.Getenv("GIZMO_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "gizmo: GIZMO_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "gizmo: GIZMO_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "gizmo: GIZMO_CPUPROFILE: %v\n", err)
		}
	}
}
