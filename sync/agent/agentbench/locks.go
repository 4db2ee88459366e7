package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/internal/locklog"
	"github.com/antimlabs/gizmo/internal/testhook"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/agent"
	"github.com/antimlabs/gizmo/sync/api"
)

// lockFigure runs the other commands beside a syncing, then placing,
// agent on one cache, every process logging its lock waits and the agent
// its holds (the test hooks), and prints how long the agent kept them
// waiting: the part of each wait during which the agent held that lock
// file, apart from the time it held the very file the wait was for (the
// cache's shared download, which stands for the waiter's own).
func lockFigure(dir string) error {
	emu, url, err := startEmulatorArgs("--api", *lockAPI, "--assets", strconv.Itoa(*lockN), "--seed", "3", "--slow", "512k")
	if err != nil {
		return err
	}
	defer func() { emu.Process.Kill(); emu.Wait() }()
	time.Sleep(2500 * time.Millisecond) // seeded assets settle
	cache := filepath.Join(dir, "cache-locks")
	waitLog, holdLog := filepath.Join(dir, "lock-waits.log"), filepath.Join(dir, "agent-holds.log")
	env := append(environ(dir, url, cache), testhook.LockLogEnv+"="+waitLog)
	manifest := func(layout string) string {
		return "[assets]\nall = true\n\n[[target]]\nlayout = \"" + layout + "\"\ndir = \"sim\"\n"
	}
	project := func(name, layout string) (string, error) {
		p := filepath.Join(dir, "locks", name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return "", err
		}
		return p, os.WriteFile(filepath.Join(p, "gizmo.toml"), []byte(manifest(layout)), 0o644)
	}
	var args []string
	for _, l := range []string{"isaac", "mujoco"} {
		p, err := project("agent-"+l, l)
		if err != nil {
			return err
		}
		args = append(args, "--project", p)
	}
	ag, err := startAgent(append(env, testhook.HoldLogEnv+"="+holdLog), filepath.Join(dir, "agent-locks.log"),
		append(args, "--interval", "1h", "--concurrency", "8")...)
	if err != nil {
		return err
	}
	defer stop(ag)
	client, err := api.New(api.Options{BaseURL: url, APIKey: "dev", Generation: api.Generation(*lockAPI)})
	if err != nil {
		return err
	}
	var exportID string
	listing, err := gsync.List(context.Background(), client)
	if err != nil {
		return err
	}
	for _, a := range listing.Assets {
		if a.Status == api.StatusReady {
			exportID = a.ID
		}
	}
	c := &agent.Client{CacheDir: cache}
	waitStatus := func(what string, cond func(*agent.Status) bool) error {
		for start := time.Now(); time.Since(start) < 5*time.Minute; time.Sleep(20 * time.Millisecond) {
			if s, err := c.Status(context.Background()); err == nil && cond(s) {
				return nil
			}
		}
		return fmt.Errorf("waited 5 min for %s", what)
	}
	wave := func(name, layout string) error {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		run := func(args ...string) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(*gizmo, args...)
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					errs <- fmt.Errorf("%s: gizmo %s: %v\n%s", name, strings.Join(args, " "), err, out)
				}
			}()
		}
		for i := range 8 {
			p, err := project(fmt.Sprintf("%s-%d", name, i), layout)
			if err != nil {
				return err
			}
			run("prepare", "--project", p)
		}
		run("sync", "--format", "mjcf")
		run("sync")
		run("export", exportID, "--format", "usd")
		run("cache", "verify")
		run("cache", "gc")
		wg.Wait()
		close(errs)
		for err := range errs {
			return err
		}
		return nil
	}
	if err := waitStatus("the agent's downloads", func(s *agent.Status) bool { return s.Syncing && len(s.Downloads) > 0 }); err != nil {
		return err
	}
	if err := wave("syncing", "mujoco"); err != nil {
		return err
	}
	if err := waitStatus("the agent's sync to end", func(s *agent.Status) bool { return !s.Syncing && s.LastSync != nil }); err != nil {
		return err
	}
	placing := "while it placed"
	if s, err := c.Status(context.Background()); err == nil && s.Ready {
		placing = "after it had placed everything"
	}
	if err := wave("placing", "isaac"); err != nil {
		return err
	}
	if err := waitStatus("the agent to be ready", func(s *agent.Status) bool { return s.Ready }); err != nil {
		return err
	}
	stop(ag)

	waits, err := locklog.Read(waitLog)
	if err != nil {
		return err
	}
	holds, err := locklog.Read(holdLog)
	if err != nil {
		return err
	}
	var held, same []time.Duration
	worst := locklog.Blamed{}
	for _, b := range locklog.Blame(waits, holds, ag.Process.Pid) {
		held = append(held, b.Held)
		if b.SameKey > 0 {
			same = append(same, b.SameKey)
		}
		if b.Held > worst.Held {
			worst = b
		}
	}
	fmt.Printf("lock waits beside the agent (%s emulator, %d assets, --slow 512k; 8 prepare, 2 sync, export, cache verify, cache gc while it synced, again %s): "+
		"%d waits, %d on a lock the agent held; the agent's share max %v (gizmo %s on %s), p95 %v (goal ≤ 1s); waits for a file the agent was storing: %d, max %v\n",
		*lockAPI, *lockN, placing, len(waits), len(held), ms(locklog.Percentile(held, 100)), worst.Wait.Command, filepath.Base(worst.Wait.Path),
		ms(locklog.Percentile(held, 95)), len(same), ms(locklog.Percentile(same, 100)))
	return nil
}
