package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

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
