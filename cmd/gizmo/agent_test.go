package main

// End-to-end tests of gizmo agent with real processes: this test binary
// re-executed as "gizmo" (dispatched by testscript.Main in TestMain), a real
// emulator over loopback HTTP, real project folders and fsnotify, the
// control API over its unix socket, and signals.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/locklog"
	"github.com/antimlabs/gizmo/internal/testbuf"
	"github.com/antimlabs/gizmo/internal/testhook"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/agent"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// agentEnv is an emulator, a cache, a configuration directory and the
// environment of gizmo processes using them.
type agentEnv struct {
	t     *testing.T
	gen   string // the API generation the emulator speaks
	srv   *emulator.Server
	url   string
	exe   string
	work  string
	cache string
	env   []string
}

func newAgentEnv(t *testing.T, cfg emulator.Config) *agentEnv {
	t.Helper()
	srv, u := emulatortest.StartTest(t, cfg)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if cfg.API == "" {
		cfg.API = emulator.APIAlpha
	}
	e := &agentEnv{t: t, gen: cfg.API, srv: srv, url: u, exe: exe, work: work, cache: filepath.Join(work, "cache")}
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "GIZMO_"), strings.HasPrefix(kv, "NOTIFY_SOCKET="), strings.HasPrefix(kv, "WATCHDOG_"):
		case strings.HasPrefix(kv, "GORACE="):
			gorace += " " + strings.TrimPrefix(kv, "GORACE=")
		default:
			e.env = append(e.env, kv)
		}
	}
	e.env = append(e.env, "GORACE="+gorace, "GIZMO_CACHE_DIR="+e.cache, "GIZMO_API_URL="+u,
		"GIZMO_API_KEY="+emulator.DefaultAPIKey, "XDG_CONFIG_HOME="+filepath.Join(work, "config"),
		"XDG_CACHE_HOME="+filepath.Join(work, "xdg"), "HOME="+work)
	return e
}

func (e *agentEnv) command(env []string, args ...string) *exec.Cmd {
	return &exec.Cmd{Path: e.exe, Args: append([]string{"gizmo"}, args...), Env: append(append([]string(nil), e.env...), env...)}
}

// run runs gizmo to the end and returns its output and exit status.
func (e *agentEnv) run(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := e.command(nil, args...)
	var o, er bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &er
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		e.t.Fatal(err)
	}
	return o.String(), er.String(), code
}

func (e *agentEnv) mustRun(args ...string) string {
	e.t.Helper()
	o, er, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("gizmo %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, o, er)
	}
	return o
}

// project writes a project folder with a gizmo.toml.
func (e *agentEnv) project(name, manifest string) string {
	e.t.Helper()
	dir := filepath.Join(e.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	writeFile(e.t, filepath.Join(dir, "gizmo.toml"), manifest)
	return dir
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// agentProc is a running gizmo agent run.
type agentProc struct {
	e      *agentEnv
	cmd    *exec.Cmd
	log    *testbuf.Buffer
	done   chan struct{}
	err    error
	client *agent.Client
}

func (e *agentEnv) startAgent(env []string, args ...string) *agentProc {
	e.t.Helper()
	return e.startProc(e.command(env, append([]string{"agent", "run"}, args...)...))
}

// startAgentEnv starts gizmo agent run with args in the environment env
// alone (none of the test's).
func (e *agentEnv) startAgentEnv(env []string, args ...string) *agentProc {
	e.t.Helper()
	return e.startProc(&exec.Cmd{Path: e.exe, Args: append([]string{"gizmo", "agent", "run"}, args...), Env: env})
}

func (e *agentEnv) startProc(cmd *exec.Cmd) *agentProc {
	e.t.Helper()
	p := &agentProc{e: e, cmd: cmd, log: &testbuf.Buffer{}, done: make(chan struct{}), client: &agent.Client{CacheDir: e.cache}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if e.t.Failed() {
			e.t.Logf("agent log:\n%s", p.log)
		}
	})
	return p
}

// ready waits for /readyz.
func (p *agentProc) ready() {
	p.e.t.Helper()
	waitFor(p.e.t, 60*time.Second, "the agent to be ready", func() bool {
		select {
		case <-p.done:
			p.e.t.Fatalf("the agent exited: %v\n%s", p.err, p.log)
		default:
		}
		resp, err := p.client.Get(context.Background(), "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (p *agentProc) status() *agent.Status {
	p.e.t.Helper()
	s, err := p.client.Status(context.Background())
	if err != nil {
		p.e.t.Fatalf("status: %v\n%s", err, p.log)
	}
	return s
}

func (p *agentProc) project(dir string) agent.ProjectStatus {
	p.e.t.Helper()
	for _, ps := range p.status().Projects {
		if ps.Dir == dir {
			return ps
		}
	}
	p.e.t.Fatalf("project %s not in the status", dir)
	return agent.ProjectStatus{}
}

// repairCounted waits until the project's restore counter, before at the
// damage, shows its repair, and returns the new count. Each damage is
// counted before the next is done, so that two damages never share a
// repair run however slow the machine, and the count is exact: a damage
// is one repaired folder, and a run that repairs its own writes again
// would count two.
func (p *agentProc) repairCounted(dir string, before int64, what string) int64 {
	p.e.t.Helper()
	var n int64
	waitFor(p.e.t, restoreBound, "the repair of "+what+" to be counted", func() bool {
		n = p.project(dir).Restores
		return n > before
	})
	// The run that repaired it is over; its follow-up check (the agent's
	// own writes seen by the watcher) repairs nothing.
	time.Sleep(300 * time.Millisecond)
	if n = p.project(dir).Restores; n != before+1 {
		p.e.t.Errorf("%s: %d restores counted, want 1", what, n-before)
	}
	return n
}

// stop sends sig and returns the exit status and how long the exit took.
func (p *agentProc) stop(sig os.Signal) (int, time.Duration) {
	p.e.t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.e.t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.e.t.Fatalf("the agent did not exit 30 s after %v\n%s", sig, p.log)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		code = ee.ExitCode()
	} else if p.err != nil {
		p.e.t.Fatal(p.err)
	}
	return code, time.Since(start)
}

// waitFor polls cond every 10 ms until it holds, and returns how long it
// took; it fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// apiGenerations are the generations of the Gizmo API the emulator
// speaks; every end-to-end test of the agent runs against each.
var apiGenerations = []string{emulator.APIAlpha, emulator.APICurrent}

// forGenerations runs test against each API generation, as subtests named
// for it: in parallel when parallel (each has its own emulator, cache and
// configuration), else one after the other (a test that bounds latencies
// runs without a second copy of itself loading the machine).
func forGenerations(t *testing.T, parallel bool, test func(t *testing.T, gen string)) {
	for _, gen := range apiGenerations {
		t.Run(gen, func(t *testing.T) {
			if parallel {
				t.Parallel()
			}
			test(t, gen)
		})
	}
}

// restoreBound is how soon a damaged placed file must be back. The goal is
// a second (measured by bench_agent.sh); tests allow more on a loaded
// machine under the race detector.
const restoreBound = 5 * time.Second

const tagManifest = `[assets]
tags = ["warehouse"]

[[target]]
layout = "mujoco"
dir = "sim/mujoco"
`

// TestAgentEndToEnd is the agent's story: a project selecting a tag, a new
// asset with that tag, damaged files, manifest edits good and bad, status,
// and SIGTERM.
func TestAgentEndToEnd(t *testing.T) { forGenerations(t, false, testAgentEndToEnd) }

func testAgentEndToEnd(t *testing.T, gen string) {
	e := newAgentEnv(t, emulator.Config{API: gen, Assets: 6, Seed: 7, GenDelay: 400 * time.Millisecond})
	first, err := e.srv.AddAsset("A 6-DOF arm with a parallel jaw gripper", "picker", []string{"warehouse"}, api.StatusReady)
	if err != nil {
		t.Fatal(err)
	}
	proj := e.project("proj", tagManifest)
	e.mustRun("agent", "add", proj)
	const interval = 2 * time.Second
	p := e.startAgent(nil, "--interval", interval.String())
	p.ready()

	picker := filepath.Join(proj, "sim/mujoco/picker")
	model := filepath.Join(picker, "picker.xml")
	if !exists(model) {
		t.Fatalf("after the first pass %s is not placed\n%s", model, p.log)
	}
	if fi, err := os.Stat(filepath.Join(e.cache, agent.SocketName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	// A new asset generated with the tag, once it is ready: placed within
	// the interval + 2 s. The alpha generation takes the name and tag on
	// creation (gizmo generate --wait); the current one names assets
	// itself and takes no tags, so there the asset is made on the server
	// as a user tagging a generation in the web app would.
	if gen == emulator.APIAlpha {
		e.mustRun("generate", "A quadruped robot", "--name", "walker", "--tag", "warehouse", "--wait")
	} else {
		a, err := e.srv.Create("A quadruped robot", "walker", []string{"warehouse"})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the tagged asset to be ready", func() bool {
			got, ok := e.srv.Asset(a.ID)
			return ok && got.Status == api.StatusReady
		})
	}
	walker := filepath.Join(proj, "sim/mujoco/walker/walker.xml")
	took := waitFor(t, interval+interval/10+2*time.Second, "a new tagged asset to be placed", func() bool { return exists(walker) })
	t.Logf("new remote asset placed after %v (interval %v)", took.Round(time.Millisecond), interval)

	// A deleted mesh is restored.
	meshes, _ := filepath.Glob(filepath.Join(picker, "assets", "*.stl"))
	if len(meshes) == 0 {
		t.Fatalf("no mesh placed in %s", picker)
	}
	mesh := meshes[0]
	want, err := os.ReadFile(mesh)
	if err != nil {
		t.Fatal(err)
	}
	restores := p.project(proj).Restores
	if err := os.Remove(mesh); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, restoreBound, "a deleted mesh to be restored", func() bool {
		got, err := os.ReadFile(mesh)
		return err == nil && bytes.Equal(got, want)
	})
	t.Logf("deleted mesh restored after %v", took.Round(time.Millisecond))
	restores = p.repairCounted(proj, restores, "the deleted mesh")

	// A truncated model is restored.
	modelBytes, _ := os.ReadFile(model)
	os.Chmod(model, 0o644)
	if err := os.Truncate(model, 10); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, restoreBound, "a truncated model to be restored", func() bool {
		got, err := os.ReadFile(model)
		return err == nil && bytes.Equal(got, modelBytes)
	})
	t.Logf("truncated model restored after %v", took.Round(time.Millisecond))
	restores = p.repairCounted(proj, restores, "the truncated model")

	// An edited manifest (saved by rename, as editors do) adds an id.
	var extra api.Asset
	listing, err := gsync.List(context.Background(), mustClient(t, e.url, e.gen))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range listing.Assets {
		if a.Status == api.StatusReady && !strings.Contains(strings.Join(a.Tags, ","), "warehouse") {
			extra = a
			break
		}
	}
	saveByRename(t, filepath.Join(proj, "gizmo.toml"), strings.Replace(tagManifest, "[assets]\n", fmt.Sprintf("[assets]\nids = [%q]\n", extra.ID), 1))
	var extraModel string
	waitFor(t, 10*time.Second, "the asset added to gizmo.toml to be placed", func() bool {
		for _, m := range p.project(proj).Items {
			if m.ID == extra.ID {
				extraModel = filepath.Join(proj, m.Path)
				return exists(extraModel)
			}
		}
		return false
	})

	// A broken manifest: the error with its line in the status; the last
	// good state stays placed, and is still repaired.
	saveByRename(t, filepath.Join(proj, "gizmo.toml"), "[assets]\ntags = [\"warehouse\"]\nbogus = 1\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim/mujoco\"\n")
	waitFor(t, 10*time.Second, "the manifest error to show in the status", func() bool {
		me := p.project(proj).ManifestError
		return me != nil && me.Line == 3
	})
	for _, f := range []string{model, walker, extraModel} {
		if !exists(f) {
			t.Errorf("%s was removed while the manifest is broken", f)
		}
	}
	os.Remove(walker)
	waitFor(t, restoreBound, "a file deleted while the manifest is broken to be restored", func() bool { return exists(walker) })
	restores = p.repairCounted(proj, restores, "the model deleted while the manifest is broken")

	// gizmo agent status --json shows all of it.
	out := e.mustRun("agent", "status", "--json")
	var st agentStatusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if !st.Ready || st.LastSync == nil || !st.LastSync.OK || len(st.Projects) != 1 || st.PID != p.cmd.Process.Pid {
		t.Errorf("status: %s", out)
	}
	ps := st.Projects[0]
	if ps.OK || ps.ManifestError == nil || !strings.HasSuffix(ps.ManifestError.File, "gizmo.toml") || ps.ManifestError.Line != 3 ||
		!strings.Contains(ps.ManifestError.Message, "bogus") {
		t.Errorf("status does not show the manifest error with its line: %+v", ps.ManifestError)
	}
	placed := map[string]bool{}
	for _, m := range ps.Models {
		placed[m.ID] = true
	}
	// Three damages were repaired above, each counted before the next was
	// done, and nothing since: the agent's own writes repair nothing.
	if ps.Restores != 3 || ps.Restores != restores || !placed[first.ID] || !placed[extra.ID] || len(ps.Models) != ps.ModelsPlaced || !ps.Watched {
		t.Errorf("project status: %d restores (want 3), models %v (want %s and %s among them), watched %v", ps.Restores, ps.Models, first.ID, extra.ID, ps.Watched)
	}
	text := e.mustRun("agent", "status")
	if !strings.Contains(text, "gizmo.toml:3:") || !strings.Contains(text, "last good") {
		t.Errorf("agent status does not show the manifest error:\n%s", text)
	}
	metrics := get(t, p, "/metrics")
	for _, m := range []string{`gizmo_agent_syncs_total{result="ok"}`, `gizmo_agent_requests_total{class="2xx"}`, "gizmo_agent_restores_total", "gizmo_agent_pass_duration_seconds_count", "gizmo_agent_ready 1"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s:\n%s", m, metrics)
		}
	}
	if get(t, p, "/healthz") != "ok\n" {
		t.Error("/healthz is not ok")
	}

	// SIGTERM: exit 0 within 5 s; no temp files.
	code, took := p.stop(syscall.SIGTERM)
	if code != 0 || took > 5*time.Second {
		t.Errorf("after SIGTERM: exit %d after %v, want 0 within 5 s", code, took)
	}
	assertNoTemps(t, e.cache, proj)
	if exists(filepath.Join(e.cache, agent.SocketName)) {
		t.Error("the control socket is left behind")
	}
	if _, _, code := e.run("agent", "status"); code != exitcode.NotRunning {
		t.Errorf("agent status after the agent stopped: exit %d, want %d", code, exitcode.NotRunning)
	}
}

// mustClient is an API client of the emulator at u, which speaks the
// generation gen.
func mustClient(t *testing.T, u, gen string) *api.Client {
	c, err := api.New(api.Options{BaseURL: u, APIKey: emulator.DefaultAPIKey, Generation: api.Generation(gen)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// saveByRename replaces a file the way editors save: a new file renamed
// over the old one.
func saveByRename(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".swp"
	writeFile(t, tmp, text)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, p *agentProc, path string) string {
	t.Helper()
	resp, err := p.client.Get(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// assertNoTemps fails when the cache's tmp/ or a project's .gizmo holds
// temp files.
func assertNoTemps(t *testing.T, cacheDir string, projects ...string) {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(cacheDir, "tmp"))
	for _, en := range ents {
		t.Errorf("temp file left in the cache: %s", en.Name())
	}
	for _, p := range projects {
		filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err == nil && (strings.HasPrefix(d.Name(), "tmp-") || strings.HasPrefix(d.Name(), "link-") || strings.Contains(d.Name(), ".tmp-")) {
				t.Errorf("temp file left in the project: %s", path)
			}
			return nil
		})
	}
}

// TestAgentBesideOtherCommands: while the agent syncs, and again while it
// places, 8 gizmo prepare (other projects) and 2 gizmo sync processes, an
// export, a cache verify and a cache gc on the agent's cache all succeed,
// and none of them waits more than a second on a lock because of the
// agent. Every process logs its lock waits, the agent its lock holds (the
// test hooks GIZMO_TEST_LOCK_LOG and GIZMO_TEST_HOLD_LOG); what counts
// against the agent is the part of each wait during which the agent held
// that lock file against the waiter, so that a wait a loaded machine
// stretches for other reasons (another command's hold, the waiter not
// scheduled) does not. The generations run one after the other: the bound
// is about the agent's holds, which a second copy of the load would
// stretch.
func TestAgentBesideOtherCommands(t *testing.T) {
	forGenerations(t, false, testAgentBesideOtherCommands)
}

func testAgentBesideOtherCommands(t *testing.T, gen string) {
	e := newAgentEnv(t, emulator.Config{API: gen, Assets: 40, Seed: 3, Slow: 512 << 10})
	waitLog, holdLog := filepath.Join(e.work, "lock-waits.log"), filepath.Join(e.work, "agent-holds.log")
	e.env = append(e.env, testhook.LockLogEnv+"="+waitLog)
	manifest := func(layout string) string {
		return "[assets]\nall = true\n\n[[target]]\nlayout = \"" + layout + "\"\ndir = \"sim\"\n"
	}
	agentProjs := []string{e.project("agent-isaac", manifest("isaac")), e.project("agent-mujoco", manifest("mujoco"))}
	p := e.startAgent([]string{testhook.HoldLogEnv + "=" + holdLog}, "--project", agentProjs[0], "--project", agentProjs[1], "--interval", "1h", "--concurrency", "8")
	var ready []string
	listing, err := gsync.List(context.Background(), mustClient(t, e.url, e.gen))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range listing.Assets {
		if a.Status == api.StatusReady {
			ready = append(ready, a.ID)
		}
	}
	projects := slices.Clone(agentProjs)
	// wave runs the commands beside the agent, the prepares on new
	// projects of layout, and fails for any that does not succeed.
	wave := func(name, layout string) {
		type outcome struct {
			args []string
			code int
			out  string
			took time.Duration
		}
		results := make(chan outcome, 16)
		var wg sync.WaitGroup
		start := func(args ...string) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				o, er, code := e.run(args...)
				results <- outcome{args, code, o + er, time.Since(t0)}
			}()
		}
		for i := range 8 {
			pr := e.project(fmt.Sprintf("%s-%d", name, i), manifest(layout))
			projects = append(projects, pr)
			start("prepare", "--project", pr)
		}
		start("sync", "--format", "mjcf")
		start("sync")
		start("export", ready[len(ready)-1], "--format", "usd")
		start("cache", "verify")
		start("cache", "gc")
		wg.Wait()
		close(results)
		for r := range results {
			t.Logf("%s: gizmo %s: exit %d in %v", name, strings.Join(r.args, " "), r.code, r.took.Round(time.Millisecond))
			if r.code != 0 {
				t.Errorf("%s: gizmo %s beside the agent: exit %d\n%s", name, strings.Join(r.args, " "), r.code, r.out)
			}
		}
	}

	// While the agent's first sync downloads.
	waitFor(t, 30*time.Second, "the agent's sync to start downloading", func() bool {
		s, err := p.client.Status(context.Background())
		return err == nil && s.Syncing && len(s.Downloads) > 0
	})
	wave("syncing", "mujoco")
	// While it places what it synced into its projects (the first pass
	// is over when it is ready).
	waitFor(t, 60*time.Second, "the agent's sync to end", func() bool {
		s, err := p.client.Status(context.Background())
		return err == nil && !s.Syncing && s.LastSync != nil
	})
	if p.status().Ready {
		t.Log("the agent had placed everything before the second wave started: it ran beside an idle agent")
	}
	wave("placing", "isaac")

	p.ready()
	if s := p.status(); s.LastSync == nil || !s.LastSync.OK {
		t.Errorf("the agent's sync failed beside the other commands: %+v", s.LastSync)
	}
	for _, dir := range agentProjs {
		if ps := p.project(dir); !ps.OK || ps.Placed == 0 {
			t.Errorf("the agent's project %s: %+v", dir, ps)
		}
	}
	if code, _ := p.stop(syscall.SIGINT); code != 0 {
		t.Errorf("SIGINT: exit %d, want 0", code)
	}
	assertNoTemps(t, e.cache, projects...)
	checkAgentLockWaits(t, waitLog, holdLog, p.cmd.Process.Pid)
}

// checkAgentLockWaits fails when a process waited more than a second on a
// lock because the agent (pid) held it, and logs the figures. A wait for a
// cache key the agent was storing at that moment (the same file) is
// reported apart and not bounded: the cache lets the second process take
// the first one's download rather than fetch the file again, so the wait
// stands for a download and check the waiter would otherwise make itself.
func checkAgentLockWaits(t *testing.T, waitLog, holdLog string, pid int) {
	t.Helper()
	waits, err := locklog.Read(waitLog)
	if err != nil {
		t.Fatal(err)
	}
	holds, err := locklog.Read(holdLog)
	if err != nil {
		t.Fatal(err)
	}
	cacheHolds := 0
	longest := map[string]locklog.Line{} // by lock file name and mode
	for _, h := range holds {
		if h.PID != pid {
			continue
		}
		if strings.Contains(h.Path, filepath.Join("cache", "locks")) {
			cacheHolds++
		}
		if k := filepath.Base(h.Path) + " " + h.Mode; h.Took > longest[k].Took {
			longest[k] = h
		}
	}
	var kinds []string
	for k, h := range longest {
		if !strings.HasPrefix(k, "key-") {
			kinds = append(kinds, fmt.Sprintf("%s %v", k, h.Took.Round(time.Millisecond)))
		}
	}
	slices.Sort(kinds)
	if cacheHolds == 0 {
		t.Fatalf("the agent logged no hold of a cache lock in %s: the measure is blind", holdLog)
	}
	blamed := locklog.Blame(waits, holds, pid)
	var held, same []time.Duration
	for _, b := range blamed {
		held = append(held, b.Held)
		if b.SameKey > 0 {
			same = append(same, b.SameKey)
		}
		if b.Held > time.Second {
			t.Errorf("gizmo %s (PID %d) waited %v for %s (%s), %v of it while the agent held it for other work than that file",
				b.Wait.Command, b.Wait.PID, b.Wait.Took.Round(time.Millisecond), b.Wait.Path, b.Wait.Mode, b.Held.Round(time.Millisecond))
		}
	}
	slices.SortFunc(blamed, func(a, b locklog.Blamed) int { return cmp.Compare(b.Held, a.Held) })
	for _, b := range blamed[:min(3, len(blamed))] {
		t.Logf("  gizmo %s waited %v for %s (%s), %v of it under the agent's holds (and %v while the agent stored that very file)",
			b.Wait.Command, b.Wait.Took.Round(time.Millisecond), filepath.Base(b.Wait.Path), b.Wait.Mode, b.Held.Round(time.Millisecond), b.SameKey.Round(time.Millisecond))
	}
	t.Logf("lock waits beside the agent: %d waits logged, %d of them on a lock the agent held; the agent's share: max %v, p95 %v; "+
		"%d waits for a file the agent was storing (the wait stands for the waiter's own download): max %v; the agent's longest holds: %s",
		len(waits), len(blamed), locklog.Percentile(held, 100).Round(time.Millisecond), locklog.Percentile(held, 95).Round(time.Millisecond),
		len(same), locklog.Percentile(same, 100).Round(time.Millisecond), strings.Join(kinds, ", "))
}

// TestAgentSecondRefusedAndOffline: a second agent on the cache is refused
// naming the first one's PID; an agent whose API is unreachable keeps
// serving its status and repairs placed files from the cache.
func TestAgentSecondRefusedAndOffline(t *testing.T) {
	forGenerations(t, true, testAgentSecondRefusedAndOffline)
}

func testAgentSecondRefusedAndOffline(t *testing.T, gen string) {
	e := newAgentEnv(t, emulator.Config{API: gen, Assets: 6, Seed: 7})
	proj := e.project("proj", "[assets]\nall = true\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n")
	e.mustRun("agent", "add", proj)
	e.mustRun("agent", "run", "--once")

	// The API goes away: a closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	p := e.startAgent([]string{"GIZMO_API_URL=" + dead}, "--interval", "1s", "--max-backoff", "2s")
	p.ready()

	_, stderr, code := e.run("agent", "run")
	if code != exitcode.Busy || !strings.Contains(stderr, fmt.Sprintf("PID %d", p.cmd.Process.Pid)) {
		t.Errorf("a second agent: exit %d, %q; want %d naming PID %d", code, stderr, exitcode.Busy, p.cmd.Process.Pid)
	}

	s := p.status()
	if s.LastSync == nil || s.LastSync.OK || !strings.Contains(s.LastSync.Error, "connection refused") {
		t.Errorf("status of an agent with no API: last sync %+v", s.LastSync)
	}
	models, _ := filepath.Glob(filepath.Join(proj, "sim", "*", "*.xml"))
	var model string
	for _, m := range models {
		if !strings.HasSuffix(m, "scene.xml") {
			model = m
			break
		}
	}
	if model == "" {
		t.Fatal("nothing placed")
	}
	os.Remove(model)
	waitFor(t, restoreBound, "a model deleted while the API is down to be restored", func() bool { return exists(model) })

	// Failures repeat every second or two: logged once.
	time.Sleep(3 * time.Second)
	if n := strings.Count(p.log.String(), `msg="sync failed"`); n != 1 {
		t.Errorf("the repeated sync failure was logged %d times, want once:\n%s", n, p.log)
	}
	if code, _ := p.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
}

// TestAgentRegistryAndReload: add and remove reach a running agent without
// a restart; SIGHUP reloads.
func TestAgentRegistryAndReload(t *testing.T) { forGenerations(t, true, testAgentRegistryAndReload) }

func testAgentRegistryAndReload(t *testing.T, gen string) {
	e := newAgentEnv(t, emulator.Config{API: gen, Assets: 6, Seed: 7})
	a := e.project("a", "[assets]\nall = true\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n")
	b := e.project("b", "[assets]\nall = true\n\n[[target]]\nlayout = \"isaac\"\ndir = \"sim\"\n")
	e.mustRun("agent", "add", a)
	p := e.startAgent(nil, "--interval", "1h")
	p.ready()
	e.mustRun("agent", "add", b)
	waitFor(t, 10*time.Second, "a project added to a running agent to be placed", func() bool {
		for _, ps := range p.status().Projects {
			if ps.Dir == b && ps.OK && ps.Placed > 0 {
				return true
			}
		}
		return false
	})
	e.mustRun("agent", "remove", a)
	waitFor(t, 10*time.Second, "a removed project to leave the status", func() bool { return len(p.status().Projects) == 1 })

	// The registry edited by hand, then SIGHUP.
	reg := filepath.Join(e.work, "config", "gizmo", agent.RegistryFile)
	writeFile(t, reg+".new", a+"\n"+b+"\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	os.Rename(reg+".new", reg)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "both projects after a reload", func() bool { return len(p.status().Projects) == 2 })
	if !strings.Contains(p.log.String(), "reloading") {
		t.Errorf("no reload logged:\n%s", p.log)
	}

	// POST /sync runs a pass now (the interval is an hour).
	if _, err := e.srv.AddAsset("A cabinet with two drawers", "cupboard", nil, api.StatusReady); err != nil {
		t.Fatal(err)
	}
	resp, err := p.client.Post(context.Background(), "/sync")
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /sync: %v %v", err, resp)
	}
	resp.Body.Close()
	waitFor(t, 20*time.Second, "POST /sync to place a new asset", func() bool {
		return exists(filepath.Join(a, "sim", "cupboard", "cupboard.xml"))
	})
	if code, _ := p.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
}

// TestAgentSystemdNotify: with NOTIFY_SOCKET the agent sends READY=1 after
// its first pass, WATCHDOG=1 as WATCHDOG_USEC asks, STOPPING=1 at the end.
func TestAgentSystemdNotify(t *testing.T) { forGenerations(t, true, testAgentSystemdNotify) }

// listenNotify is a NOTIFY_SOCKET in dir, as a service manager holds it:
// each datagram sent to sock arrives on msgs, closed with the socket when
// the test ends.
func listenNotify(t *testing.T, dir string) (sock string, msgs <-chan string) {
	t.Helper()
	sock = filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return sock, ch
}

func testAgentSystemdNotify(t *testing.T, gen string) {
	e := newAgentEnv(t, emulator.Config{API: gen, Assets: 4, Seed: 7})
	proj := e.project("proj", "[assets]\nall = true\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n")
	sock, msgs := listenNotify(t, e.work)
	p := e.startAgent([]string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=400000"}, "--project", proj, "--interval", "1h")
	seen := map[string]int{}
	deadline := time.After(30 * time.Second)
	for seen["READY=1"] == 0 || seen["WATCHDOG=1"] < 3 {
		select {
		case m := <-msgs:
			for _, l := range strings.Split(m, "\n") {
				seen[l]++
			}
		case <-deadline:
			t.Fatalf("notifications after 30 s: %v\n%s", seen, p.log)
		}
	}
	if s := p.status(); !s.Ready {
		t.Error("READY=1 sent before the first pass was done")
	}
	if code, _ := p.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
	for m := range msgs {
		for _, l := range strings.Split(m, "\n") {
			seen[l]++
		}
		if seen["STOPPING=1"] > 0 {
			break
		}
	}
	if seen["STOPPING=1"] == 0 {
		t.Errorf("no STOPPING=1: %v", seen)
	}
}

// TestAgentStopDuringDownloads: SIGTERM while the agent downloads stops it
// within 5 s with exit 0, leaving no temp file and nothing partial (gizmo
// cache verify finds no problem); a restart finishes the job. With
// GIZMO_LONG=1 the stop lands at 10 random instants of the first pass.
func TestAgentStopDuringDownloads(t *testing.T) {
	forGenerations(t, true, testAgentStopDuringDownloads)
}

func testAgentStopDuringDownloads(t *testing.T, gen string) {
	trials := 1
	if os.Getenv("GIZMO_LONG") != "" {
		trials = 10
	}
	e := newAgentEnv(t, emulator.Config{API: gen, Assets: 20, Seed: 5, Slow: 64 << 10})
	proj := e.project("proj", "[assets]\nall = true\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n")
	for i := range trials {
		p := e.startAgent(nil, "--project", proj, "--interval", "1h")
		if i == 0 {
			waitFor(t, 30*time.Second, "downloads to start", func() bool {
				s, err := p.client.Status(context.Background())
				return err == nil && len(s.Downloads) > 0
			})
		} else {
			time.Sleep(time.Duration(200+i*300) * time.Millisecond)
		}
		code, took := p.stop(syscall.SIGTERM)
		if code != 0 || took > 5*time.Second {
			t.Errorf("trial %d: SIGTERM during downloads: exit %d after %v, want 0 within 5 s\n%s", i, code, took, p.log)
		}
		assertNoTemps(t, e.cache, proj)
		out, stderr, code := e.run("cache", "verify")
		if code != 0 {
			t.Errorf("trial %d: cache verify after the stop: exit %d\n%s%s", i, code, out, stderr)
		}
		// What is placed is whole: every <slug> link leads to its model.
		ents, _ := os.ReadDir(filepath.Join(proj, "sim"))
		for _, en := range ents {
			if en.Name() == ".gizmo" {
				continue
			}
			if m := filepath.Join(proj, "sim", en.Name(), en.Name()+".xml"); !exists(m) {
				t.Errorf("trial %d: %s is placed without its model %s", i, en.Name(), m)
			}
		}
	}
	_, _, code := e.run("agent", "run", "--once", "--project", proj)
	if code != 0 {
		t.Fatalf("the pass after the stops: exit %d", code)
	}
	assertNoTemps(t, e.cache, proj)
}

// TestAgentManyRestores (GIZMO_LONG=1): 60 damages of random placed files,
// deleted, truncated, rewritten with other bytes of the same size, or
// replaced by rename as an editor saves; each is restored, byte for byte,
// with exactly one repair: the agent's own writes repair nothing.
func TestAgentManyRestores(t *testing.T) { forGenerations(t, false, testAgentManyRestores) }

func testAgentManyRestores(t *testing.T, gen string) {
	if os.Getenv("GIZMO_LONG") == "" {
		t.Skip("a long test: GIZMO_LONG=1 runs it")
	}
	e := newAgentEnv(t, emulator.Config{API: gen, Assets: 8, Seed: 11})
	proj := e.project("proj", "[assets]\nall = true\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n[[target]]\nlayout = \"isaac\"\ndir = \"isaac\"\n")
	p := e.startAgent(nil, "--project", proj, "--interval", "1h")
	p.ready()
	// Files reached through the <slug> links, as a user sees them.
	var files []string
	for _, root := range []string{"sim", "isaac"} {
		slugs, _ := os.ReadDir(filepath.Join(proj, root))
		for _, s := range slugs {
			if s.Name() == ".gizmo" {
				continue
			}
			filepath.WalkDir(filepath.Join(proj, root, s.Name())+string(filepath.Separator), func(path string, d os.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					files = append(files, path)
				}
				return nil
			})
		}
	}
	if len(files) < 20 {
		t.Fatalf("only %d placed files", len(files))
	}
	const damages = 60
	var worst time.Duration
	for i := range damages {
		f := files[(i*7919)%len(files)]
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(f, 0o644)
		switch i % 4 {
		case 0:
			err = os.Remove(f)
		case 1:
			err = os.Truncate(f, int64(len(want)/2))
		case 2:
			other := bytes.Repeat([]byte{'#'}, len(want))
			err = os.WriteFile(f, other, 0o644)
		case 3:
			saveByRename(t, f, "edited\n")
		}
		if err != nil {
			t.Fatal(err)
		}
		took := waitFor(t, restoreBound, fmt.Sprintf("damage %d (%d) of %s to be repaired", i, i%4, f), func() bool {
			got, err := os.ReadFile(f)
			return err == nil && bytes.Equal(got, want)
		})
		worst = max(worst, took)
		time.Sleep(150 * time.Millisecond) // let the follow-up check run
	}
	time.Sleep(time.Second)
	if n := strings.Count(p.log.String(), "msg=\"repairing "); n != damages {
		t.Errorf("%d repairs logged for %d damages: the agent repaired its own writes, or missed some", n, damages)
	}
	t.Logf("%d damages repaired, the slowest after %v", damages, worst.Round(time.Millisecond))
	if code, _ := p.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
	assertNoTemps(t, e.cache, proj)
}
