package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// startProfile starts a CPU profile written to the file named by
// GIZMO_CPUPROFILE, and arranges for an allocation profile to be written at
// the end to the file named by GIZMO_MEMPROFILE, for developers measuring a
// command end to end (see sync/bench/RESULTS.md). It returns the function
// that stops them; with the variables unset it does nothing.
func startProfile(stderr io.Writer) func() {
	stopCPU := startCPUProfile(stderr)
	return func() {
		stopCPU()
		writeMemProfile(stderr)
	}
}

func writeMemProfile(stderr io.Writer) {
	path := os.Getenv("GIZMO_MEMPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "gizmo: GIZMO_MEMPROFILE: %v\n", err)
	}
}

func startCPUProfile(stderr io.Writer) func() {
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
