package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// fuzz runs every fuzz target of the module for -fuzztime, and keeps the
// inputs it found interesting under the package's testdata/fuzz.
func (s *stress) fuzz() []row {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}} {{.ImportPath}}", "./...").Output()
	if err != nil {
		return []row{{what: "fuzz", result: "go list: " + err.Error()}}
	}
	gocache, _ := exec.Command("go", "env", "GOCACHE").Output()
	var rows []row
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, pkg, _ := strings.Cut(line, " ")
		for _, name := range fuzzTargets(dir) {
			fmt.Printf("stress: fuzz %s %s for %v\n", pkg, name, *fuzztime)
			t0 := time.Now()
			cmd := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+name+"$", "-fuzztime", fuzztime.String(), pkg)
			res, err := cmd.CombinedOutput()
			kept := keepInputs(filepath.Join(strings.TrimSpace(string(gocache)), "fuzz", pkg, name), filepath.Join(dir, "testdata", "fuzz", name))
			r := row{
				what:   fmt.Sprintf("fuzz %s %s", strings.TrimPrefix(pkg, "github.com/antimlabs/gizmo/"), name),
				result: fmt.Sprintf("%v of fuzzing (%v with the build); %d new inputs kept", *fuzztime, time.Since(t0).Round(time.Second), kept),
				ok:     err == nil,
			}
			if err != nil {
				r.result = fmt.Sprintf("FAILED after %v: %s", time.Since(t0).Round(time.Second), lastLines(string(res), 12))
				fmt.Println(string(res))
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// fuzzTargets lists the Fuzz functions of the package in dir.
func fuzzTargets(dir string) []string {
	fs, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	var names []string
	for _, f := range fs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "func Fuzz"); ok {
				if i := strings.IndexByte(rest, '('); i > 0 {
					names = append(names, "Fuzz"+rest[:i])
				}
			}
		}
	}
	sort.Strings(names)
	return names
}

// keepInputs copies the fuzzer's inputs of a target (its cache corpus)
// into the package's testdata/fuzz/<target>, where `go test` runs them as
// seeds, up to -keep files there and only small ones; it returns how many
// it copied.
func keepInputs(from, to string) int {
	ents, err := os.ReadDir(from)
	if err != nil {
		return 0
	}
	have, _ := os.ReadDir(to)
	room := *keep - len(have)
	n := 0
	for _, e := range ents {
		if room <= 0 {
			break
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Size() > 4<<10 {
			continue
		}
		dst := filepath.Join(to, e.Name())
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			continue
		}
		if err := os.MkdirAll(to, 0o755); err != nil {
			return n
		}
		if os.WriteFile(dst, b, 0o644) == nil {
			n++
			room--
		}
	}
	return n
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.ReplaceAll(strings.Join(lines, " / "), "|", "\\|")
}
