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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// emulator is a running `gizmo emulator` process.
type emulator struct {
	cmd *exec.Cmd
	url string
}

func (s *stress) startEmulator(args ...string) *emulator {
	// The alpha generation of the API: its fault knobs (503s, bodies cut
	// short, slow bodies) apply to every route, and it offers every format.
	cmd := exec.Command(s.exe, append([]string{"emulator", "--api", "alpha", "--addr", "127.0.0.1:0"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		fatal(fmt.Errorf("the emulator printed no URL: %w", err))
	}
	go io.Copy(io.Discard, out)
	return &emulator{cmd: cmd, url: strings.TrimSpace(line)}
}

func (e *emulator) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	e.cmd.Wait()
}

// env is the environment of a gizmo process on cache dir and emulator e.
func (s *stress) env(e *emulator, dir string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIZMO_") {
			env = append(env, kv)
		}
	}
	env = append(env, "GIZMO_API_URL="+e.url, "GIZMO_API_KEY=dev", "GIZMO_CACHE_DIR="+dir,
		"HOME="+s.work, "XDG_CACHE_HOME="+filepath.Join(s.work, "xdg"))
	return append(env, extra...)
}

// result is how a gizmo process ended.
type result struct {
	code   int // exit status; -1 when killed
	killed bool
	out    string
	took   time.Duration
}

// run runs gizmo to its end (at most 5 minutes).
func (s *stress) run(env []string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, s.exe, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &out
	t0 := time.Now()
	err := cmd.Run()
	return result{code: exitCode(err), out: out.String(), took: time.Since(t0)}
}

// runKilled runs gizmo and sends it SIGKILL: when it prints the test
// hook's marker (hook set), else after delay. A process that ends first
// is not killed.
func (s *stress) runKilled(env []string, hook string, delay time.Duration, args ...string) result {
	if hook != "" {
		env = append(append([]string(nil), env...), "GIZMO_TEST_HOOK="+hook)
	}
	var out bytes.Buffer
	var mu sync.Mutex
	cmd := exec.Command(s.exe, args...)
	cmd.Env, cmd.Stdout = env, &lockedWriter{w: &out, mu: &mu}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		fatal(err)
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	marker := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if !seen && strings.HasPrefix(sc.Text(), "gizmo-test-hook: ") {
				seen = true
				close(marker)
			}
		}
	}()
	exited := make(chan struct{})
	var killed bool
	go func() {
		var timeout <-chan time.Time
		reached := marker
		if hook != "" {
			timeout = time.After(2 * time.Minute)
		} else {
			timeout = time.After(delay)
			reached = nil
		}
		select {
		case <-reached:
			killed = true
			cmd.Process.Kill()
		case <-timeout:
			killed = true
			cmd.Process.Kill()
		case <-exited:
		}
	}()
	<-scanned
	err = cmd.Wait()
	close(exited)
	mu.Lock()
	defer mu.Unlock()
	r := result{code: exitCode(err), out: out.String(), took: time.Since(t0)}
	r.killed = killed && r.code == -1
	return r
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -2
}

// problem is one of 'gizmo cache verify --json'.
type problem struct {
	Kind, Path, Detail string
	AssetID            string `json:"asset_id"`
}

// verify runs 'gizmo cache verify --json' and checks that it exits 0 with
// nothing but temp files (partial) and unindexed files (extra). It
// returns the count of extra files, or an error saying what is wrong.
func (s *stress) verify(env []string) (extra int, err error) {
	r := s.run(env, "cache", "verify", "--json")
	var v struct {
		Problems   []problem `json:"problems"`
		Unresolved int       `json:"unresolved"`
	}
	if jerr := json.Unmarshal([]byte(r.out), &v); jerr != nil || r.code != 0 {
		return 0, fmt.Errorf("cache verify exited %d: %s", r.code, clip(r.out))
	}
	for _, p := range v.Problems {
		switch p.Kind {
		case "extra":
			extra++
		case "partial":
		default:
			return extra, fmt.Errorf("cache verify reports %s %s %s: %s", p.Kind, p.AssetID, p.Path, p.Detail)
		}
	}
	return extra, nil
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

// trialLog collects what the trials of one command found.
type trialLog struct {
	name              string
	run, survived     int
	hooked, hookHeld  int
	reruns, rerunsOK  int
	failures          []string
	killedAt, missedK int // kills that landed; runs that ended before theirs
}

func (l *trialLog) fail(i int, format string, args ...any) {
	l.failures = append(l.failures, fmt.Sprintf("trial %d: ", i)+fmt.Sprintf(format, args...))
}

func (l *trialLog) row() row {
	for _, f := range l.failures {
		fmt.Println("  FAIL", f)
	}
	return row{
		what: fmt.Sprintf("SIGKILL trials of `gizmo %s` (faults on)", l.name),
		result: fmt.Sprintf("%d run, %d survived (%d killed mid-run, %d done before their kill); %d killed between publishing a file and indexing it (hook), %d left it unindexed as they should; %d reruns, %d finished",
			l.run, l.survived, l.killedAt, l.missedK, l.hooked, l.hookHeld, l.reruns, l.rerunsOK),
		ok: l.run >= 1 && l.survived == l.run && l.hookHeld == l.hooked && l.rerunsOK == l.reruns,
	}
}

// killTrials runs n SIGKILL trials of gizmo args. prepareTrial resets the
// state before a trial (fresh says the cache is to be emptied); after is
// called after every rerun that finished, for checks of its own.
func (s *stress) killTrials(name string, env []string, dir string, expected time.Duration, args []string, reset func(fresh bool), after func() error) row {
	l := &trialLog{name: name}
	for i := range *trials {
		hooked := i%3 == 0
		fresh := hooked || s.rng.IntN(2) == 0
		reset(fresh)
		hook := ""
		var delay time.Duration
		if hooked {
			hook = "published@" + strconv.Itoa(1+s.rng.IntN(4))
		} else {
			delay = time.Duration(s.rng.Int64N(int64(expected) * 9 / 8))
		}
		l.run++
		r := s.runKilled(env, hook, delay, args...)
		ok := true
		switch {
		case r.killed:
			l.killedAt++
		case r.code == 0:
			l.missedK++
		default:
			ok = false
			l.fail(i, "gizmo %s exited %d before its kill: %s", name, r.code, clip(r.out))
		}
		extra, err := s.verify(env)
		if err != nil {
			ok = false
			l.fail(i, "after a kill (%s%v): %v", hook, delay.Round(time.Millisecond), err)
		}
		if hooked {
			l.hooked++
			switch {
			case !r.killed:
				ok = false
				l.fail(i, "gizmo %s never reached the hook %s: exit %d: %s", name, hook, r.code, clip(r.out))
			case extra == 0:
				ok = false
				l.fail(i, "killed at the hook %s, but no published file is left unindexed", hook)
			default:
				l.hookHeld++
			}
		}
		if i%2 == 1 || i == *trials-1 {
			l.reruns++
			if err := s.rerun(env, args, after); err != nil {
				ok = false
				l.fail(i, "rerun: %v", err)
			} else {
				l.rerunsOK++
			}
		}
		if ok {
			l.survived++
		}
		if (i+1)%20 == 0 {
			fmt.Printf("  %s: %d trials, %d survived\n", name, i+1, l.survived)
		}
	}
	return l.row()
}

// rerun runs gizmo args to the end: it must exit 0 (faults may cost a
// file now and then: up to 3 runs), and leave the cache clean.
func (s *stress) rerun(env []string, args []string, after func() error) error {
	var r result
	for range 3 {
		if r = s.run(env, args...); r.code == 0 {
			break
		}
	}
	if r.code != 0 {
		return fmt.Errorf("exit %d three times: %s", r.code, clip(r.out))
	}
	if _, err := s.verify(env); err != nil {
		return err
	}
	if after != nil {
		return after()
	}
	return nil
}

func (s *stress) syncTrials(emu *emulator) row {
	dir := filepath.Join(s.work, "sync-cache")
	env := s.env(emu, dir)
	// The time a full sync takes here, from an empty cache: kills land
	// from before the start to a little after the end.
	r := s.run(env, "sync")
	if r.code != 0 {
		return row{what: "SIGKILL trials of `gizmo sync`", result: fmt.Sprintf("a first full sync exited %d: %s", r.code, clip(r.out))}
	}
	fmt.Printf("stress: sync trials (a full sync takes %v)\n", r.took.Round(time.Millisecond))
	return s.killTrials("sync", env, dir, r.took, []string{"sync"}, func(fresh bool) {
		if fresh {
			os.RemoveAll(dir)
		}
	}, nil)
}

func (s *stress) prepareTrials(emu *emulator) row {
	dir := filepath.Join(s.work, "prepare-cache")
	proj := filepath.Join(s.work, "project")
	env := s.env(emu, dir)
	ids, err := s.readyIDs(env, 6)
	if err != nil {
		return row{what: "SIGKILL trials of `gizmo prepare`", result: err.Error()}
	}
	manifest := fmt.Sprintf("[assets]\nids = [%s]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim/mujoco\"\n\n[[target]]\nlayout = \"isaac\"\ndir = \"sim/isaac\"\n", quoteAll(ids))
	reset := func(fresh bool) {
		// A complete project needs nothing from the cache: a fresh trial
		// starts from an empty cache and an empty project.
		if fresh {
			os.RemoveAll(dir)
			os.RemoveAll(proj)
		}
		os.MkdirAll(proj, 0o755)
		os.WriteFile(filepath.Join(proj, "gizmo.toml"), []byte(manifest), 0o644)
	}
	reset(true)
	args := []string{"prepare", "--project", proj}
	r := s.run(env, args...)
	if r.code != 0 {
		return row{what: "SIGKILL trials of `gizmo prepare`", result: fmt.Sprintf("a first prepare exited %d: %s", r.code, clip(r.out))}
	}
	fmt.Printf("stress: prepare trials (a first prepare takes %v)\n", r.took.Round(time.Millisecond))
	after := func() error {
		// The project is whole: every placed file as the lock says, with
		// nothing to fetch.
		if r := s.run(env, "prepare", "--project", proj, "--offline", "--verify", "--locked"); r.code != 0 {
			return fmt.Errorf("prepare --offline --verify --locked after the rerun exited %d: %s", r.code, clip(r.out))
		}
		b, err := os.ReadFile(filepath.Join(proj, "gizmo.toml"))
		if err != nil || string(b) != manifest {
			return fmt.Errorf("gizmo.toml changed (%v)", err)
		}
		return nil
	}
	return s.killTrials("prepare", env, dir, r.took, args, reset, after)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// readyIDs lists the account's ready assets (n of them at most, 0: all).
func (s *stress) readyIDs(env []string, n int) ([]string, error) {
	r := s.run(env, "--json", "ls", "--all")
	var page struct {
		Assets []struct {
			ID, Status string
		} `json:"assets"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.out), &page) != nil {
		return nil, fmt.Errorf("gizmo ls --all exited %d: %s", r.code, clip(r.out))
	}
	var ids []string
	for _, a := range page.Assets {
		if a.Status == "ready" && (n == 0 || len(ids) < n) {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("the emulator has no ready asset")
	}
	return ids, nil
}

// load runs the load case.
func (s *stress) load() []row {
	what := fmt.Sprintf("load: `gizmo sync` of %d assets beside 16 `gizmo prepare` and 4 `gizmo export` streams on one cache (faults on)", *loadAssets)
	emu := s.startEmulator("--assets", strconv.Itoa(*loadAssets), "--seed", "11", "--error-rate", "0.01")
	defer emu.stop()
	dir := filepath.Join(s.work, "load-cache")
	os.RemoveAll(dir)
	lockLog := filepath.Join(s.work, "locks.log")
	os.Remove(lockLog)
	env := s.env(emu, dir, "GIZMO_TEST_LOCK_LOG="+lockLog)
	ids, err := s.readyIDs(env, 0)
	if err != nil {
		return []row{{what: what, result: err.Error()}}
	}
	fmt.Printf("stress: load case (%d ready assets)\n", len(ids))
	type outcome struct {
		who string
		r   result
	}
	var mu sync.Mutex
	var outs []outcome
	var wg sync.WaitGroup
	launch := func(who string, fn func() result) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := fn()
			mu.Lock()
			outs = append(outs, outcome{who, r})
			mu.Unlock()
		}()
	}
	pick := func(k int) []string {
		p := make([]string, k)
		for i := range p {
			p[i] = ids[s.rng.IntN(len(ids))]
		}
		return p
	}
	t0 := time.Now()
	launch("sync", func() result { return s.run(env, "sync") })
	for i := range 16 {
		proj := filepath.Join(s.work, fmt.Sprintf("load-project-%02d", i))
		os.MkdirAll(proj, 0o755)
		layout := []string{"mujoco", "isaac"}[i%2]
		m := fmt.Sprintf("[assets]\nids = [%s]\n\n[[target]]\nlayout = %q\ndir = \"sim\"\n", quoteAll(dedupe(pick(5))), layout)
		os.WriteFile(filepath.Join(proj, "gizmo.toml"), []byte(m), 0o644)
		launch(fmt.Sprintf("prepare %d", i), func() result { return s.run(env, "prepare", "--project", proj) })
	}
	for i := range 4 {
		picks := pick(10)
		fs := make([]string, len(picks))
		for j := range fs {
			fs[j] = []string{"urdf", "mjcf", "usd"}[s.rng.IntN(3)]
		}
		launch(fmt.Sprintf("export stream %d", i), func() result {
			var all result
			for j, id := range picks {
				f := fs[j]
				r := s.run(env, "export", id, "--format", f)
				all.took += r.took
				if r.code != 0 {
					r.out = fmt.Sprintf("export %s --format %s: %s", id, f, r.out)
					return r
				}
			}
			return all
		})
	}
	wg.Wait()
	took := time.Since(t0)
	var failed []string
	var syncTook time.Duration
	for _, o := range outs {
		if o.who == "sync" {
			syncTook = o.r.took
		}
		if o.r.code != 0 {
			failed = append(failed, fmt.Sprintf("%s exited %d: %s", o.who, o.r.code, clip(o.r.out)))
		}
	}
	sort.Strings(failed)
	for _, f := range failed {
		fmt.Println("  FAIL", f)
	}
	waits, worst, worstLock := lockWaits(lockLog)
	if _, err := s.verify(env); err != nil {
		failed = append(failed, err.Error())
		fmt.Println("  FAIL", err)
	}
	return []row{{
		what: what,
		result: fmt.Sprintf("%d of 21 processes succeeded (sync %v, all %v); %d waits for a lock held by another process, the longest %v (%s)",
			21-len(failed), syncTook.Round(100*time.Millisecond), took.Round(100*time.Millisecond), waits, worst.Round(time.Millisecond), worstLock),
		ok: len(failed) == 0 && worst <= time.Second,
	}}
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// lockWaits reads the lock-wait log: how many waits, the longest, and on
// which lock file.
func lockWaits(path string) (n int, worst time.Duration, lock string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, "none"
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		fs := strings.Fields(line) // lock file, milliseconds, command
		if len(fs) < 2 {
			continue
		}
		name, ms := fs[0], fs[1]
		f, err := strconv.ParseFloat(ms, 64)
		if err != nil {
			continue
		}
		n++
		if d := time.Duration(f * float64(time.Millisecond)); d > worst {
			worst, lock = d, name
			if len(fs) > 2 {
				lock += ", by " + fs[2]
			}
		}
	}
	return n, worst, lock
}

// hostile runs the hostile-server and hostile-input tests, when the
// packages have them.
func (s *stress) hostile() []row {
	pkgs := []string{"./sync/api/", "./validate/validator/"}
	var have []string
	for _, p := range pkgs {
		if grepDir(p, "func TestHostile") {
			have = append(have, p)
		}
	}
	if len(have) == 0 {
		fmt.Println("stress: no TestHostile* tests yet: the hostile row is left out")
		return nil
	}
	cmd := exec.Command("go", append([]string{"test", "-count=1", "-json", "-run", "^TestHostile"}, have...)...)
	out, err := cmd.Output()
	tried, passed := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct{ Action, Test string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || !strings.Contains(ev.Test, "/") {
			continue // only the cases (subtests) count
		}
		switch ev.Action {
		case "pass":
			tried++
			passed++
		case "fail":
			tried++
		}
	}
	return []row{{
		what:   "hostile servers and inputs (`TestHostile*` in " + strings.Join(have, ", ") + ")",
		result: fmt.Sprintf("%d cases tried, %d refused as they should", tried, passed),
		ok:     err == nil && tried > 0 && passed == tried,
	}}
}

func grepDir(dir, s string) bool {
	fs, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	for _, f := range fs {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

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
