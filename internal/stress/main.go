// Command stress is `make stress`: real gizmo processes against a real
// emulator with its faults on (503s, downloads cut short, slow bodies),
// killed and loaded on purpose, then the fuzz targets for a set time. It
// prints a table of what ran and what held, and exits non-zero when
// anything did not hold.
//
//   - SIGKILL trials of `gizmo sync` and of `gizmo prepare`: a third of
//     them are killed exactly between publishing a file in the cache and
//     committing its index record (the test hook GIZMO_TEST_HOOK=published@N
//     stops the process there), the others at a random instant. After
//     each kill `gizmo cache verify` must find nothing but temp files and
//     unindexed files (exit 0), and the hooked ones must have left the
//     published file unindexed; every other trial (and the last) a rerun
//     must finish, and for prepare `prepare --offline --verify` must then
//     find the project whole.
//   - The load case: `gizmo sync` of an account of 2,000 assets while 16
//     `gizmo prepare` and 4 streams of `gizmo export` run on the same
//     cache: all must succeed and no process may wait more than a second
//     for a lock file (each wait is logged through GIZMO_TEST_LOCK_LOG).
//   - The hostile-server and hostile-input tests (TestHostile*), when the
//     packages have them.
//   - Every fuzz target for -fuzztime; the inputs the fuzzer found
//     interesting are kept under the package's testdata/fuzz (up to
//     -keep per target).
//
// Random choices come from -seed (printed at the start; -seed N replays
// the choices, though the machine's speed still moves what a kill hits).
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var (
	gizmoBin   = flag.String("gizmo", "bin/gizmo", "the gizmo binary to stress")
	trials     = flag.Int("trials", 100, "SIGKILL trials of sync and of prepare, each")
	fuzztime   = flag.Duration("fuzztime", 15*time.Second, "time for each fuzz target (0: skip fuzzing)")
	seedFlag   = flag.Uint64("seed", 0, "seed of the random choices (0: from the clock)")
	loadAssets = flag.Int("load-assets", 2000, "assets of the account synced in the load case")
	keep       = flag.Int("keep", 20, "fuzz inputs kept under testdata/fuzz per target, at most")
	workFlag   = flag.String("work", "", "working folder (default: a temp folder, removed at the end)")
	only       = flag.String("only", "", "run only these parts, comma-separated: sync, prepare, load, hostile, fuzz")
)

// row is one line of the final table.
type row struct {
	what, result string
	ok           bool
}

func main() {
	flag.Parse()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano() % 1e9)
	}
	fmt.Printf("stress: seed %d (make stress STRESS_SEED=%d replays its choices)\n", seed, seed)
	exe, err := filepath.Abs(*gizmoBin)
	if err != nil {
		fatal(err)
	}
	work := *workFlag
	if work == "" {
		if work, err = os.MkdirTemp("", "gizmo-stress-"); err != nil {
			fatal(err)
		}
		defer os.RemoveAll(work)
	}
	s := &stress{exe: exe, work: work, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	want := func(part string) bool { return *only == "" || strings.Contains(","+*only+",", ","+part+",") }
	var rows []row
	start := time.Now()
	if want("sync") || want("prepare") {
		emu := s.startEmulator("--assets", "20", "--seed", "7", "--error-rate", "0.03", "--truncate-rate", "0.05", "--slow", "64k")
		if want("sync") {
			rows = append(rows, s.syncTrials(emu))
		}
		if want("prepare") {
			rows = append(rows, s.prepareTrials(emu))
		}
		emu.stop()
	}
	if want("load") {
		rows = append(rows, s.load()...)
	}
	if want("hostile") {
		rows = append(rows, s.hostile()...)
	}
	if want("fuzz") && *fuzztime > 0 {
		rows = append(rows, s.fuzz()...)
	}
	fmt.Printf("\n## make stress: seed %d, %s, %s\n\n", seed, time.Since(start).Round(time.Second), time.Now().UTC().Format("2006-01-02"))
	fmt.Println("| case | result | held |")
	fmt.Println("|---|---|---|")
	failed := false
	for _, r := range rows {
		mark := "yes"
		if !r.ok {
			mark, failed = "**no**", true
		}
		fmt.Printf("| %s | %s | %s |\n", r.what, r.result, mark)
	}
	if failed {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "stress:", err)
	os.Exit(1)
}

type stress struct {
	exe, work string
	rng       *rand.Rand
}
