package main

// TestCrashSIGKILL is the cache's crash requirement end to end: a real gizmo
// process (this test binary re-executed as "gizmo", dispatched by
// testscript.Main in TestMain) runs gizmo sync or gizmo export against a real
// emulator over loopback HTTP, and is killed with SIGKILL at a random
// instant. After every kill a real 'gizmo cache verify --json' must find
// nothing missing, corrupt or unreadable (temp files of the interrupted store
// and published files not yet indexed are allowed), and a rerun must finish;
// at the end every cached file must be byte-identical to what the emulator
// serves.
//
// Trials: 3 with -short, 8 by default, 50 with GIZMO_LONG=1.
// GIZMO_CRASH_SEED=N replays the kill instants of an earlier run (the
// machine's speed still moves what they hit).

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/exitcode"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

const (
	// crashAssets seeded assets: 15 of them ready, 45 files of 1 to 30 KB
	// (zips for URDF and MJCF, a .usda for USD), about 340 KB in all.
	crashAssets = 20
	// crashSlow is the emulator's body rate per download, bytes/s: a full
	// sync (8 downloads at once) then takes a couple of seconds, so kills
	// land before, during and between downloads and extractions.
	crashSlow = 64 << 10
)

func TestCrashSIGKILL(t *testing.T) {
	trials := 8
	switch {
	case os.Getenv("GIZMO_LONG") != "":
		trials = 50
	case testing.Short():
		trials = 3
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GIZMO_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("GIZMO_CRASH_SEED=%q: %v", s, err)
		}
	}
	t.Logf("%d trials, seed %d (GIZMO_CRASH_SEED=%d replays the kill instants)", trials, seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x6a09e667f3bcc908))

	h := newCrashHarness(t)

	// Calibrate: a full sync from an empty cache, then one with nothing to
	// do, give the start-up cost and the rate at which files arrive.
	start := time.Now()
	h.mustRun("sync")
	full := time.Since(start)
	start = time.Now()
	h.mustRun("sync")
	noop := time.Since(start)
	h.startup = noop
	h.rate = float64(h.totalBytes) / max(full-noop, 100*time.Millisecond).Seconds()
	t.Logf("calibration: full sync of %d files (%d bytes) in %v, a sync with nothing to do in %v: ~%.0f bytes/s",
		len(h.wanted), h.totalBytes, full.Round(time.Millisecond), noop.Round(time.Millisecond), h.rate)

	counts := map[string]int{}   // trials by where the kill landed
	overlaps := map[string]int{} // trials by what was in flight
	spent := map[string]time.Duration{}
	reruns := 0
	var delays []string
	for i := range trials {
		// Drop a random share of the assets (a quarter to all), so that the
		// run has work to do besides what earlier trials left unfinished.
		ready := h.readyIDs()
		rng.Shuffle(len(ready), func(a, b int) { ready[a], ready[b] = ready[b], ready[a] })
		h.remove(ready[:len(ready)/4+rng.IntN(len(ready)-len(ready)/4+1)])

		before := h.state()
		targets := h.missing(before)
		args := []string{"sync"}
		if len(targets) > 0 && rng.IntN(4) == 0 {
			k := targets[rng.IntN(len(targets))]
			args = []string{"export", k.id, "--format", string(k.format)}
			targets = []crashKey{k}
		}
		cmdline := "gizmo " + strings.Join(args, " ")
		expected := h.expected(targets)
		// From 0 to an eighth past the expected end: some kills land before
		// the first byte, most during the downloads, extractions and
		// commits, some after the last commit.
		delay := time.Duration(rng.Int64N(int64(expected) * 9 / 8))
		killed, ran, out := h.runKilled(delay, args...)
		spent["killed runs"] += ran
		after := h.state()
		kill := classifyKill(killed, before, after, targets)
		if !killed && len(kill.left) > 0 {
			t.Fatalf("trial %d: %s exited 0 before the kill, but %d of its files are not cached: %v\n%s", i, cmdline, len(kill.left), kill.left, out)
		}

		// The real verify after the kill: nothing missing, corrupt or
		// unreadable. Temp files of the interrupted stores (partial) and
		// files published but not yet indexed (extra) are what a kill may
		// leave; both are notes, not damage: verify exits 0.
		vstart := time.Now()
		problems, code, vout := h.verify()
		spent["verify after a kill"] += time.Since(vstart)
		for _, p := range problems {
			if p.Kind != cache.ProblemPartial && p.Kind != cache.ProblemExtra {
				t.Errorf("trial %d (%s, killed at %v): verify reports %s %s/%s %s: %s\nverify output:\n%s\ngizmo output:\n%s",
					i, cmdline, delay, p.Kind, p.AssetID, p.Format, p.Path, p.Detail, vout, out)
			}
		}
		partials, extras := countKind(problems, cache.ProblemPartial), countKind(problems, cache.ProblemExtra)
		if code != exitcode.OK {
			t.Errorf("trial %d: verify exited %d with %d partial and %d extra files, want 0\n%s", i, code, partials, extras, vout)
		}
		if n := len(after.temps); partials != n {
			t.Errorf("trial %d: verify reports %d partial files, tmp/ holds %d: %v\n%s", i, partials, n, after.temps, vout)
		}
		if n := len(after.extra()); extras != n {
			t.Errorf("trial %d: verify reports %d extra files, blobs/ and trees/ hold %d unindexed: %v\n%s", i, extras, n, after.extra(), vout)
		}

		where := kill.where()
		counts[where]++
		for _, o := range kill.overlaps() {
			overlaps[o]++
		}
		delays = append(delays, fmt.Sprintf("%v/%v", delay.Round(time.Millisecond), expected.Round(time.Millisecond)))
		t.Logf("trial %d: %s, %d files to fetch, kill at %v of ~%v (ran %v): %s [%s]; verify: %d partial, %d extra",
			i, cmdline, len(targets), delay.Round(time.Millisecond), expected.Round(time.Millisecond),
			ran.Round(time.Millisecond), where, kill, partials, extras)
		if t.Failed() {
			t.FailNow()
		}

		// A rerun finishes: after a third of the trials (seeded) and after
		// the last; the others leave their leftovers to the next trial's
		// run, which then starts amid them.
		if i == trials-1 || rng.IntN(3) == 0 {
			rstart := time.Now()
			h.mustRun("sync")
			spent["reruns"] += time.Since(rstart)
			reruns++
			if m := h.missing(h.state()); len(m) > 0 {
				t.Fatalf("trial %d: after a rerun of gizmo sync that exited 0, %d files are still missing: %v", i, len(m), m)
			}
		}
	}
	t.Logf("kill instants (kill/expected): %s", strings.Join(delays, " "))
	t.Logf("where the kills landed: %s", sortedCounts(counts))
	t.Logf("what the killed runs had in flight (a kill may count under several): %s", sortedCounts(overlaps))
	t.Logf("time spent: killed runs %v, verify after a kill %v, %d reruns to the end %v",
		spent["killed runs"].Round(time.Millisecond), spent["verify after a kill"].Round(time.Millisecond),
		reruns, spent["reruns"].Round(time.Millisecond))

	// The end: the last rerun exited 0; verify is clean and every file is
	// the emulator's bytes.
	h.verifyClean("at the end")
	h.checkBytes()
}

// crashKey is one (asset, format) a sync fetches.
type crashKey struct {
	id     string
	format formats.Format
}

func (k crashKey) String() string { return k.id + "/" + string(k.format) }

type crashHarness struct {
	t          *testing.T
	srv        *emulator.Server
	exe        string
	env        []string
	dir        string // the cache, shared by every run
	wanted     []crashKey
	size       map[crashKey]int64
	totalBytes int64
	startup    time.Duration // a gizmo run with nothing to fetch
	rate       float64       // bytes/s a sync fetches at
}

func newCrashHarness(t *testing.T) *crashHarness {
	srv, u := emulatortest.StartTest(t, emulator.Config{Assets: crashAssets, Seed: 7, Slow: crashSlow})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	h := &crashHarness{t: t, srv: srv, exe: exe, dir: filepath.Join(work, "cache"), size: map[crashKey]int64{}}
	// Under -race every gizmo process would sleep a second at exit (the
	// race detector's atexit_sleep_ms), most of the run's time; a GORACE
	// of the caller's still has the last word.
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "GIZMO_"):
		case strings.HasPrefix(kv, "GORACE="):
			gorace += " " + strings.TrimPrefix(kv, "GORACE=")
		default:
			h.env = append(h.env, kv)
		}
	}
	h.env = append(h.env, "GORACE="+gorace)
	h.env = append(h.env, "GIZMO_CACHE_DIR="+h.dir, "GIZMO_API_URL="+u, "GIZMO_API_KEY="+emulator.DefaultAPIKey,
		"XDG_CACHE_HOME="+filepath.Join(work, "xdg"), "HOME="+work)

	c, err := api.New(api.Options{BaseURL: u, APIKey: emulator.DefaultAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	listing, err := gsync.List(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range listing.Assets {
		if a.Status != api.StatusReady {
			continue
		}
		for _, f := range formats.All {
			b, err := srv.ExportBytes(a.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			k := crashKey{a.ID, f}
			h.wanted = append(h.wanted, k)
			h.size[k] = int64(len(b))
			h.totalBytes += int64(len(b))
		}
	}
	if len(h.wanted) < 30 {
		t.Fatalf("the emulator has %d files to fetch, want many", len(h.wanted))
	}
	return h
}

// command returns gizmo with args, as a process of its own.
func (h *crashHarness) command(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	cmd := &exec.Cmd{Path: h.exe, Args: append([]string{"gizmo"}, args...), Env: h.env, Stdout: &stdout, Stderr: &stderr}
	return cmd, &stdout, &stderr
}

// mustRun runs gizmo with args to the end and fails the test unless it exits 0.
func (h *crashHarness) mustRun(args ...string) string {
	h.t.Helper()
	cmd, stdout, stderr := h.command(args...)
	if err := cmd.Run(); err != nil {
		h.t.Fatalf("gizmo %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout.String()
}

// runKilled starts gizmo with args and sends it SIGKILL delay after the
// exec, unless it has exited by then, which it must have done with status 0.
func (h *crashHarness) runKilled(delay time.Duration, args ...string) (killed bool, ran time.Duration, out string) {
	h.t.Helper()
	cmd, stdout, stderr := h.command(args...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-timer.C:
		if kerr := cmd.Process.Signal(syscall.SIGKILL); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
			h.t.Fatal(kerr)
		}
		err = <-done
	}
	ran = time.Since(start)
	out = stdout.String() + stderr.String()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return true, ran, out
	}
	if err != nil {
		h.t.Fatalf("gizmo %s, not killed, failed: %v\n%s", strings.Join(args, " "), err, out)
	}
	return false, ran, out
}

// verify runs 'gizmo cache verify --json' and returns its problems and exit
// status. Any exit status but 0 and 4 (problems remain) fails the test.
func (h *crashHarness) verify() ([]cache.Problem, int, string) {
	h.t.Helper()
	cmd, stdout, stderr := h.command("cache", "verify", "--json")
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		h.t.Fatal(err)
	}
	if code != exitcode.OK && code != exitcode.Invalid {
		h.t.Fatalf("gizmo cache verify --json exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var res struct {
		Problems   []cache.Problem `json:"problems"`
		Unresolved *int            `json:"unresolved"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Unresolved == nil {
		h.t.Fatalf("gizmo cache verify --json: %v; stdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	if want := len(res.Problems) - countKind(res.Problems, cache.ProblemExtra) - countKind(res.Problems, cache.ProblemPartial); *res.Unresolved != want {
		h.t.Errorf("verify: unresolved %d, want %d (every problem but the extra and partial files)\n%s", *res.Unresolved, want, stdout)
	}
	return res.Problems, code, stdout.String()
}

// verifyClean asserts that 'gizmo cache verify' finds no problem at all.
func (h *crashHarness) verifyClean(when string) {
	h.t.Helper()
	problems, code, out := h.verify()
	if len(problems) > 0 || code != 0 {
		h.t.Fatalf("%s: gizmo cache verify exited %d with %d problems:\n%s", when, code, len(problems), out)
	}
}

func countKind(ps []cache.Problem, kind string) int {
	n := 0
	for _, p := range ps {
		if p.Kind == kind {
			n++
		}
	}
	return n
}

// crashState is what the cache holds between runs: its index entries,
// its temp files and its published files.
type crashState struct {
	entries map[crashKey]string // → hash
	temps   map[string]bool     // names in tmp/
	files   map[string]string   // "blobs/<h>" and "trees/<h>" → <h>
}

// extra lists the published files no entry references.
func (s crashState) extra() []string {
	refs := map[string]bool{}
	for _, h := range s.entries {
		refs[h] = true
	}
	var x []string
	for p, h := range s.files {
		if !refs[h] {
			x = append(x, p)
		}
	}
	sort.Strings(x)
	return x
}

func (h *crashHarness) open() *cache.Cache {
	h.t.Helper()
	ch, err := cache.Open(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	return ch
}

func (h *crashHarness) state() crashState {
	h.t.Helper()
	ch := h.open()
	defer ch.Close()
	es, err := ch.Entries()
	if err != nil {
		h.t.Fatal(err)
	}
	s := crashState{entries: map[crashKey]string{}, temps: map[string]bool{}, files: map[string]string{}}
	for _, e := range es {
		s.entries[crashKey{e.AssetID, formats.Format(e.Format)}] = e.Hash
	}
	ds, err := os.ReadDir(filepath.Join(h.dir, "tmp"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		h.t.Fatal(err)
	}
	for _, d := range ds {
		s.temps[d.Name()] = true
	}
	trees, err := os.ReadDir(filepath.Join(h.dir, "trees"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		h.t.Fatal(err)
	}
	for _, d := range trees {
		s.files["trees/"+d.Name()] = d.Name()
	}
	blobs, err := filepath.Glob(filepath.Join(h.dir, "blobs", "*", "*"))
	if err != nil {
		h.t.Fatal(err)
	}
	for _, b := range blobs {
		s.files["blobs/"+filepath.Base(b)] = filepath.Base(b)
	}
	return s
}

func (h *crashHarness) missing(s crashState) []crashKey {
	var m []crashKey
	for _, k := range h.wanted {
		if _, ok := s.entries[k]; !ok {
			m = append(m, k)
		}
	}
	return m
}

// expected estimates how long a run that fetches keys takes, from the
// calibration: start-up, then the bytes at the sync's rate, but never less
// than the largest file at the emulator's rate for one download.
func (h *crashHarness) expected(keys []crashKey) time.Duration {
	var total, largest int64
	for _, k := range keys {
		total += h.size[k]
		largest = max(largest, h.size[k])
	}
	body := max(float64(total)/h.rate, float64(largest)/crashSlow)
	return h.startup + time.Duration(body*float64(time.Second))
}

func (h *crashHarness) readyIDs() []string {
	seen := map[string]bool{}
	var ids []string
	for _, k := range h.wanted {
		if !seen[k.id] {
			seen[k.id] = true
			ids = append(ids, k.id)
		}
	}
	return ids
}

// remove drops assets from the cache, as 'gizmo cache rm' does.
func (h *crashHarness) remove(ids []string) {
	h.t.Helper()
	ch := h.open()
	defer ch.Close()
	for _, id := range ids {
		if err := ch.Remove(context.Background(), id); err != nil && !errors.Is(err, cache.ErrNotFound) {
			h.t.Fatal(err)
		}
	}
}

// crashKill is what a killed run left, read from the cache's state before
// and after it.
type crashKill struct {
	killed    bool
	parts     int        // new temp downloads (tmp/*.part): downloads in flight
	trees     int        // new temp trees (tmp/*.tree): extractions or their fsync in flight
	published int        // new files in blobs/ or trees/ no entry references yet
	committed int        // target entries the run committed
	left      []crashKey // target entries still missing
}

func classifyKill(killed bool, before, after crashState, targets []crashKey) crashKill {
	k := crashKill{killed: killed}
	for _, t := range targets {
		if _, ok := after.entries[t]; ok {
			k.committed++
		} else {
			k.left = append(k.left, t)
		}
	}
	for name := range after.temps {
		switch {
		case before.temps[name]:
		case strings.HasSuffix(name, ".tree"):
			k.trees++
		case strings.HasSuffix(name, ".part"):
			k.parts++
		}
	}
	old := map[string]bool{}
	for _, p := range before.extra() {
		old[p] = true
	}
	for _, p := range after.extra() {
		if !old[p] {
			k.published++
		}
	}
	return k
}

func (k crashKill) String() string {
	return fmt.Sprintf("%d downloading, %d extracting, %d files published unindexed, %d committed, %d left",
		k.parts, k.trees, k.published, k.committed, len(k.left))
}

// where names the latest stage the kill interrupted.
func (k crashKill) where() string {
	switch {
	case !k.killed:
		return "finished before the kill"
	case k.published > 0:
		return "between publishing files and committing their index record"
	case k.trees > 0:
		return "during an extraction or its fsync"
	case k.parts > 0 && k.committed == 0:
		return "during the first downloads, before any commit"
	case k.parts > 0:
		return "during downloads, after some commits"
	case k.committed == 0:
		return "before the first download"
	case len(k.left) > 0:
		return "between stores, after some commits"
	}
	return "after the last commit"
}

// overlaps lists every stage the killed run had in flight.
func (k crashKill) overlaps() []string {
	if !k.killed {
		return []string{"not killed (finished)"}
	}
	var o []string
	if k.parts > 0 {
		o = append(o, "a download")
	}
	if k.trees > 0 {
		o = append(o, "an extraction")
	}
	if k.published > 0 {
		o = append(o, "a publish before its commit")
	}
	if k.committed > 0 {
		o = append(o, "after a commit")
	}
	if k.committed > 0 && len(k.left) == 0 {
		o = append(o, "after the last commit")
	}
	if k.parts+k.trees+k.published+k.committed == 0 {
		o = append(o, "nothing stored yet")
	}
	return o
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []string
	for _, k := range keys {
		b = append(b, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(b, "; ")
}

// checkBytes asserts that the cache holds every wanted file, each download
// and each file of its tree byte-identical to the emulator's export.
func (h *crashHarness) checkBytes() {
	h.t.Helper()
	ch := h.open()
	defer ch.Close()
	es, err := ch.Entries()
	if err != nil {
		h.t.Fatal(err)
	}
	got := map[crashKey]cache.Entry{}
	for _, e := range es {
		got[crashKey{e.AssetID, formats.Format(e.Format)}] = e
	}
	if len(got) != len(h.wanted) {
		h.t.Errorf("the cache holds %d entries, want %d", len(got), len(h.wanted))
	}
	files := 0
	for _, k := range h.wanted {
		e, ok := got[k]
		if !ok {
			h.t.Errorf("%s is not cached", k)
			continue
		}
		want, err := h.srv.ExportBytes(k.id, k.format)
		if err != nil {
			h.t.Fatal(err)
		}
		sum := sha256.Sum256(want)
		if e.Hash != fmt.Sprintf("%x", sum) {
			h.t.Errorf("%s: the index records sha256 %s, the emulator serves %x", k, e.Hash, sum)
		}
		h.sameFile(k, ch.DownloadPath(e), want)
		files++
		// The tree is unpacked on first use: unpack it, then compare.
		if _, err := ch.Unpack(context.Background(), e); err != nil {
			h.t.Errorf("%s: %v", k, err)
			continue
		}
		if e.Kind != formats.KindZip {
			h.sameFile(k, ch.ModelPath(e), want)
			files++
			continue
		}
		zr, err := zip.NewReader(bytes.NewReader(want), int64(len(want)))
		if err != nil {
			h.t.Fatal(err)
		}
		for _, zf := range zr.File {
			if zf.FileInfo().IsDir() {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				h.t.Fatal(err)
			}
			var b bytes.Buffer
			_, err = b.ReadFrom(rc)
			rc.Close()
			if err != nil {
				h.t.Fatal(err)
			}
			h.sameFile(k, filepath.Join(ch.TreePath(e), filepath.FromSlash(zf.Name)), b.Bytes())
			files++
		}
	}
	h.t.Logf("%d entries, %d files in the cache byte-identical (sha256) to the emulator's exports", len(got), files)
}

func (h *crashHarness) sameFile(k crashKey, path string, want []byte) {
	h.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		h.t.Errorf("%s: %v", k, err)
		return
	}
	if sha256.Sum256(b) != sha256.Sum256(want) {
		h.t.Errorf("%s: %s differs from the emulator's bytes (%d bytes, want %d)", k, path, len(b), len(want))
	}
}
