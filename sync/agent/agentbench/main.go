// Command agentbench measures gizmo agent's figures against a local
// emulator, with real processes and files (run by ../bench_agent.sh):
//
//   - remote change → placed: an asset created with the project's tag, from
//     the moment the emulator reports it ready until its model is placed,
//     with the agent's --interval (goal: ≤ interval + 2 s);
//   - local deletion → restored: a placed mesh deleted, until it is back
//     (goal: p95 ≤ 1 s over 50 deletions);
//   - idle: CPU and RSS of an agent watching 5 projects of 1,000 placed
//     assets each, over 60 s after it is ready (goal: ≤ 1 % of one core,
//     ≤ 64 MiB);
//   - lock waits beside the agent (locks.go): 8 gizmo prepare, 2 gizmo
//     sync, an export, a cache verify and a cache gc on the agent's cache
//     while it syncs, and again while it places; the max and p95 of the
//     part of each wait during which the agent held the lock (goal: ≤ 1 s).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/agent"
	"github.com/antimlabs/gizmo/sync/api"
)

var (
	gizmo     = flag.String("gizmo", "bin/gizmo", "the gizmo binary")
	work      = flag.String("work", "", "work folder (default: a new temp folder, removed at the end)")
	interval  = flag.Duration("interval", 5*time.Second, "the agent's --interval for the remote-change figure")
	changes   = flag.Int("changes", 5, "remote changes to time")
	deletions = flag.Int("deletions", 50, "deletions to time")
	projects  = flag.Int("projects", 5, "projects of the idle figure")
	assets    = flag.Int("assets", 1000, "placed assets per project in the idle figure")
	idle      = flag.Duration("idle", 60*time.Second, "the idle window")
	skipIdle  = flag.Bool("skip-idle", false, "skip the idle figure")
	skipLat   = flag.Bool("skip-latencies", false, "skip the latency figures")
	skipLocks = flag.Bool("skip-locks", false, "skip the lock-wait figure")
	lockAPI   = flag.String("lock-api", "current", "API generation of the emulator in the lock-wait figure")
	lockN     = flag.Int("lock-assets", 100, "assets of the account in the lock-wait figure")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "agentbench:", err)
		os.Exit(1)
	}
}

func run() error {
	exe, err := filepath.Abs(*gizmo)
	if err != nil {
		return err
	}
	*gizmo = exe
	dir := *work
	if dir == "" {
		if dir, err = os.MkdirTemp("", "agentbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	fmt.Printf("gizmo agent figures (%s, %d cores)\n", time.Now().UTC().Format(time.DateTime), nproc())
	if !*skipLat {
		if err := latencies(dir); err != nil {
			return err
		}
	}
	if !*skipLocks {
		if err := lockFigure(dir); err != nil {
			return err
		}
	}
	if !*skipIdle {
		return idleFigure(dir)
	}
	return nil
}

// startEmulator starts gizmo emulator (alpha) with n seeded assets.
func startEmulator(dir string, n int) (*exec.Cmd, string, error) {
	return startEmulatorArgs("--api", "alpha", "--assets", strconv.Itoa(n), "--seed", "1", "--gen-delay", "1s")
}

// startEmulatorArgs starts gizmo emulator on a free port with args.
func startEmulatorArgs(args ...string) (*exec.Cmd, string, error) {
	cmd := exec.Command(*gizmo, append([]string{"emulator", "--addr", "127.0.0.1:0"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, "", fmt.Errorf("emulator: %w", err)
	}
	go func() { bufio.NewScanner(out).Scan() }()
	return cmd, strings.TrimSpace(line), nil
}

func environ(dir, url, cache string) []string {
	var e []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIZMO_") && !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			e = append(e, kv)
		}
	}
	return append(e, "GIZMO_API_URL="+url, "GIZMO_API_KEY=dev", "GIZMO_CACHE_DIR="+cache,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "GIZMO_AGENT_PROJECTS="+filepath.Join(dir, "projects.list"))
}

func startAgent(env []string, log string, args ...string) (*exec.Cmd, error) {
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(*gizmo, append([]string{"agent", "run"}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	return cmd, cmd.Start()
}

func waitReady(cacheDir string, limit time.Duration) (time.Duration, error) {
	c := &agent.Client{CacheDir: cacheDir}
	start := time.Now()
	for time.Since(start) < limit {
		if s, err := c.Status(context.Background()); err == nil && s.Ready {
			return time.Since(start), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0, fmt.Errorf("the agent was not ready after %v", limit)
}

func stop(cmd *exec.Cmd) time.Duration {
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	return time.Since(start)
}

const latManifest = `[assets]
ids = [%s]
tags = ["bench"]

[[target]]
layout = "mujoco"
dir = "sim"
`

// latencies measures remote change → placed and deletion → restored on a
// small project.
func latencies(dir string) error {
	emu, url, err := startEmulator(dir, 30)
	if err != nil {
		return err
	}
	defer func() { emu.Process.Kill(); emu.Wait() }()
	time.Sleep(2500 * time.Millisecond) // seeded assets settle
	client, err := api.New(api.Options{BaseURL: url, APIKey: "dev"})
	if err != nil {
		return err
	}
	var ids []string
	listing, err := gsync.List(context.Background(), client)
	if err != nil {
		return err
	}
	for _, a := range listing.Assets {
		if a.Status == api.StatusReady && len(ids) < 20 {
			ids = append(ids, strconv.Quote(a.ID))
		}
	}
	proj := filepath.Join(dir, "lat")
	os.MkdirAll(proj, 0o755)
	if err := os.WriteFile(filepath.Join(proj, "gizmo.toml"), fmt.Appendf(nil, latManifest, strings.Join(ids, ", ")), 0o644); err != nil {
		return err
	}
	cache := filepath.Join(dir, "cache-lat")
	env := environ(dir, url, cache)
	ag, err := startAgent(env, filepath.Join(dir, "agent-lat.log"), "--project", proj, "--interval", interval.String(), "--format", "mjcf")
	if err != nil {
		return err
	}
	defer stop(ag)
	if _, err := waitReady(cache, 5*time.Minute); err != nil {
		return err
	}

	// Remote change → placed.
	var remote []time.Duration
	for k := range *changes {
		name := fmt.Sprintf("bench %d", k)
		a, err := client.Create(context.Background(), api.CreateRequest{Prompt: "A 4-DOF arm", Name: name, Tags: []string{"bench"}})
		if err != nil {
			return err
		}
		var ready time.Time
		for {
			got, err := client.Get(context.Background(), a.ID)
			if err != nil {
				return err
			}
			if got.Status == api.StatusReady {
				ready = time.Now()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		slug := strings.ReplaceAll(name, " ", "-")
		model := filepath.Join(proj, "sim", slug, slug+".xml")
		for !exists(model) {
			if time.Since(ready) > *interval*2+30*time.Second {
				return fmt.Errorf("%s not placed %v after it was ready", model, time.Since(ready))
			}
			time.Sleep(5 * time.Millisecond)
		}
		remote = append(remote, time.Since(ready))
	}
	slices.Sort(remote)
	fmt.Printf("remote change → placed (--interval %v, %d changes): median %v, max %v (goal ≤ %v)\n",
		*interval, len(remote), ms(remote[len(remote)/2]), ms(remote[len(remote)-1]), *interval+2*time.Second)

	// Deletion → restored.
	meshes, _ := filepath.Glob(filepath.Join(proj, "sim", "*", "assets", "*.stl"))
	if len(meshes) == 0 {
		return errors.New("no placed mesh to delete")
	}
	time.Sleep(time.Second)
	var restore []time.Duration
	for range *deletions {
		m := meshes[rand.IntN(len(meshes))]
		fi, err := os.Stat(m)
		if err != nil {
			return err
		}
		if err := os.Remove(m); err != nil {
			return err
		}
		start := time.Now()
		for {
			if st, err := os.Stat(m); err == nil && st.Size() == fi.Size() {
				break
			}
			if time.Since(start) > 30*time.Second {
				return fmt.Errorf("%s not restored after 30 s", m)
			}
			time.Sleep(2 * time.Millisecond)
		}
		restore = append(restore, time.Since(start))
		time.Sleep(300 * time.Millisecond)
	}
	slices.Sort(restore)
	p95 := restore[(len(restore)*95+99)/100-1]
	fmt.Printf("deleted mesh → restored (%d deletions): p50 %v, p95 %v, max %v (goal p95 ≤ 1s)\n",
		len(restore), ms(restore[len(restore)/2]), ms(p95), ms(restore[len(restore)-1]))
	fmt.Printf("SIGTERM → exit: %v (goal ≤ 5s)\n", ms(stop(ag)))
	return nil
}

// idleFigure places `assets` assets into each of `projects` projects and
// measures the agent's CPU and RSS over the idle window.
func idleFigure(dir string) error {
	// Seeded assets are ready but for one in 20 (failed) once the
	// pending ones settle: n such that n - ceil((n-9)/20) = assets.
	n := *assets
	for n-(n+10)/20 < *assets {
		n++
	}
	emu, url, err := startEmulator(dir, n)
	if err != nil {
		return err
	}
	defer func() { emu.Process.Kill(); emu.Wait() }()
	time.Sleep(2500 * time.Millisecond)
	cache := filepath.Join(dir, "cache-idle")
	env := environ(dir, url, cache)
	var args []string
	for i := range *projects {
		p := filepath.Join(dir, fmt.Sprintf("idle%d", i))
		os.MkdirAll(p, 0o755)
		if err := os.WriteFile(filepath.Join(p, "gizmo.toml"), []byte("[assets]\nall = true\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n"), 0o644); err != nil {
			return err
		}
		args = append(args, "--project", p)
	}
	args = append(args, "--interval", "1h", "--format", "mjcf", "--concurrency", "8")
	ag, err := startAgent(env, filepath.Join(dir, "agent-idle.log"), args...)
	if err != nil {
		return err
	}
	defer stop(ag)
	took, err := waitReady(cache, 60*time.Minute)
	if err != nil {
		return err
	}
	s, err := (&agent.Client{CacheDir: cache}).Status(context.Background())
	if err != nil {
		return err
	}
	placed := 0
	for _, p := range s.Projects {
		placed += p.Placed
	}
	fmt.Printf("idle setup: first pass placed %d assets in %d projects in %v; %d directories watched\n", placed, len(s.Projects), took.Round(time.Second), s.Watches)
	time.Sleep(10 * time.Second) // let the follow-up checks settle

	pid := ag.Process.Pid
	t0, err := cpuTicks(pid)
	if err != nil {
		return err
	}
	start := time.Now()
	var maxRSS int64
	for time.Since(start) < *idle {
		if r, err := rss(pid); err == nil && r > maxRSS {
			maxRSS = r
		}
		time.Sleep(time.Second)
	}
	t1, err := cpuTicks(pid)
	if err != nil {
		return err
	}
	window := time.Since(start)
	cpu := float64(t1-t0) / 100 / window.Seconds() * 100 // CLK_TCK = 100
	fmt.Printf("idle over %v (%d projects, %d placed assets, %d watches): CPU %.3f %% of one core (%d ticks of 10 ms; one tick is %.3f %%), max RSS %.1f MiB (goals ≤ 1 %%, ≤ 64 MiB)\n",
		idle.Round(time.Second), len(s.Projects), placed, s.Watches, cpu, t1-t0, 1/window.Seconds(), float64(maxRSS)/(1<<20))
	return nil
}

// cpuTicks is utime + stime of pid, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st, nil
}

// rss is VmRSS of pid, in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func nproc() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "processor\t:")
}
