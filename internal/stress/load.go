package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

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
