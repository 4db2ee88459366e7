package main

// The systemd unit that gizmo agent install writes, run the way a systemd
// user manager runs a Type=notify service. A real user manager cannot be
// started by the tests here: systemd --user refuses to run unless the
// machine booted with systemd (/run/systemd/system), and where it can be
// made to start (a private mount namespace) it takes over the machine's
// cgroups, moving every process of its cgroup, other programs included,
// into its own init.scope. So the test plays the manager's part of the
// protocol: it starts the unit's ExecStart with the unit's Environment=
// (and none of the test's variables: the key comes from the key file),
// NOTIFY_SOCKET and WATCHDOG_USEC from WatchdogSec, waits for READY=1,
// reloads with ExecReload's signal (RELOADING=1, then READY=1 again) and
// stops with systemd's default KillSignal (STOPPING=1, exit 0 within
// TimeoutStopSec).

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/sync/emulator"
)

// systemdUnit is what the test reads of a unit file.
type systemdUnit struct {
	execStart []string
	env       []string
	watchdog  time.Duration
	stopAfter time.Duration // TimeoutStopSec
	reload    string
	typ       string
}

// parseSystemdUnit reads the few keys the test needs, undoing the unit's
// quoting ("..." with \" and \\, %% and $$).
func parseSystemdUnit(t *testing.T, path string) systemdUnit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var u systemdUnit
	unquote := func(s string) string {
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			s = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(s[1 : len(s)-1])
		}
		return strings.NewReplacer("%%", "%", "$$", "$").Replace(s)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch k {
		case "Type":
			u.typ = v
		case "ExecStart":
			for _, a := range strings.Fields(v) {
				u.execStart = append(u.execStart, unquote(a))
			}
		case "ExecReload":
			u.reload = v
		case "Environment":
			u.env = append(u.env, unquote(v))
		case "WatchdogSec", "TimeoutStopSec":
			d, err := time.ParseDuration(strings.Replace(v, "min", "m", 1))
			if err != nil {
				t.Fatalf("%s=%s: %v", k, v, err)
			}
			if k == "WatchdogSec" {
				u.watchdog = d
			} else {
				u.stopAfter = d
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAgentSystemdUnitRuns(t *testing.T) { forGenerations(t, true, testAgentSystemdUnitRuns) }

func testAgentSystemdUnitRuns(t *testing.T, gen string) {
	e := newAgentEnv(t, emulator.Config{API: gen, Assets: 4, Seed: 7})
	proj := e.project("proj", "[assets]\nall = true\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n")
	e.mustRun("agent", "add", proj)
	unitPath := filepath.Join(e.work, "gizmo-agent.service")
	e.mustRun("agent", "install", "--systemd", "-o", unitPath, "--interval", "1h")
	u := parseSystemdUnit(t, unitPath)
	if u.typ != "notify" || len(u.execStart) < 3 || u.watchdog <= 0 || u.stopAfter <= 0 || u.reload != "/bin/kill -HUP $MAINPID" {
		t.Fatalf("the unit: %+v", u)
	}
	real, _ := filepath.EvalSymlinks(e.exe)
	if u.execStart[0] != real || u.execStart[1] != "agent" || u.execStart[2] != "run" {
		t.Fatalf("ExecStart %q does not run this gizmo's agent (%s)", u.execStart, real)
	}
	for _, kv := range u.env {
		if strings.HasPrefix(kv, "GIZMO_API_KEY=") {
			t.Fatalf("the unit holds the key: %s", kv)
		}
	}

	sock, msgs := listenNotify(t, e.work)
	// What a user manager gives a service: its own few variables, the
	// unit's Environment=, NOTIFY_SOCKET and WATCHDOG_USEC. The test's
	// GIZMO_* variables (the key among them) are not passed.
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.work, "XDG_CONFIG_HOME=" + filepath.Join(e.work, "config"),
		"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=" + strconv.FormatInt(u.watchdog.Microseconds(), 10)}
	env = append(env, u.env...)
	for _, kv := range e.env {
		if strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	p := e.startAgentEnv(env, u.execStart[3:]...)
	seen := map[string]int{}
	await := func(what string, done func() bool) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for !done() {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("the notify socket closed waiting for %s", what)
				}
				for _, l := range strings.Split(m, "\n") {
					seen[l]++
				}
			case <-deadline:
				t.Fatalf("no %s after 30 s: %v\n%s", what, seen, p.log)
			}
		}
	}
	await("READY=1 and WATCHDOG=1", func() bool { return seen["READY=1"] == 1 && seen["WATCHDOG=1"] > 0 })
	// "active (running)": ready, the project placed with the key read from
	// the key file.
	if s := p.status(); !s.Ready || len(s.Projects) != 1 || !s.Projects[0].OK || s.Projects[0].Placed == 0 {
		t.Errorf("READY=1 sent, but the status is %+v", s)
	}

	// systemctl reload: ExecReload sends SIGHUP.
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	await("RELOADING=1 then READY=1", func() bool { return seen["RELOADING=1"] == 1 && seen["READY=1"] == 2 })

	// systemctl stop: SIGTERM (KillSignal's default), STOPPING=1, exit 0
	// within TimeoutStopSec.
	code, took := p.stop(syscall.SIGTERM)
	if code != 0 || took > u.stopAfter {
		t.Errorf("systemctl stop: exit %d after %v, want 0 within TimeoutStopSec=%v", code, took, u.stopAfter)
	}
	await("STOPPING=1", func() bool { return seen["STOPPING=1"] == 1 })
}
