package main

// Ctrl-C during a sync: a validation cut short is no verdict, so nothing
// is recorded for it (earlier, about half the SIGINTs left entries stored
// as {"valid": false, "summary": ["context canceled"]}, shown as INVALID
// and kept through a complete resync). Real gizmo processes against a
// real emulator, interrupted with a real SIGINT.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/testhook"
)

func TestSyncInterruptRecordsNoVerdict(t *testing.T) {
	h := newCrashHarness(t)

	// A SIGINT that lands while a model is being validated, for certain:
	// the test hook holds the third validation until the interruption.
	out, code := h.interruptAt(t, "validating@3", 0)
	if code != 130 {
		t.Fatalf("interrupted sync exited %d, want 130\n%s", code, out)
	}
	h.checkNoFalseVerdict(t, "after a SIGINT during a validation")

	// SIGINTs at random instants (seeded) of fresh syncs.
	trials := 4
	if os.Getenv("GIZMO_LONG") != "" {
		trials = 20
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GIZMO_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("random SIGINTs: seed %d (GIZMO_CRASH_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for i := range trials {
		if err := os.RemoveAll(h.dir); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(2 * time.Second)))
		out, code := h.interruptAt(t, "", delay)
		// -1: the SIGINT came before the runtime's handler was in place
		// and ended the process as a kill would.
		if code != 130 && code != 0 && code != -1 {
			t.Fatalf("trial %d: sync interrupted at %v exited %d\n%s", i, delay, code, out)
		}
		h.checkNoFalseVerdict(t, "trial "+strconv.Itoa(i))
	}

	// A complete resync heals a false verdict left by an earlier version:
	// the entry is validated again. Until then ls and verify both say so.
	h.mustRun("sync")
	c, err := cache.Open(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	victim := h.validatable(t, c)[0]
	interrupted := cache.Validation{Valid: false, Errors: 1, Checked: time.Now(), Summary: []string{"context canceled"}}
	if err := c.SetValidation(victim.AssetID, victim.Format, interrupted); err != nil {
		t.Fatal(err)
	}
	ls := h.mustRun("cache", "ls")
	if !lineWith(ls, victim.AssetID, "interrupted") {
		t.Errorf("cache ls does not show the interrupted verdict of %s:\n%s", victim.AssetID, ls)
	}
	problems, vcode, vout := h.verify()
	if vcode != 4 || countKind(problems, cache.ProblemVerdict) != 1 {
		t.Errorf("cache verify with a false verdict: exit %d, %d verdict problems, want 4 and 1\n%s", vcode, countKind(problems, cache.ProblemVerdict), vout)
	}
	h.mustRun("sync")
	h.checkNoFalseVerdict(t, "after a complete resync")
	e, err := c.Entry(victim.AssetID, victim.Format)
	if err != nil || e.Validation == nil || !e.Validation.Checked.After(interrupted.Checked) {
		t.Errorf("resync left %s/%s with %+v (%v), want a new verdict", victim.AssetID, victim.Format, e.Validation, err)
	}
	h.verifyClean("after the resync")
}

// interruptAt runs 'gizmo sync' and sends it SIGINT: when it reaches the
// test hook point (GIZMO_TEST_HOOK), or after delay when point is empty.
// It returns the output and the exit status.
func (h *crashHarness) interruptAt(t *testing.T, point string, delay time.Duration) (string, int) {
	t.Helper()
	var stdout bytes.Buffer
	cmd := &exec.Cmd{Path: h.exe, Args: []string{"gizmo", "sync"}, Env: h.env, Stdout: &stdout}
	if point != "" {
		cmd.Env = append(append([]string(nil), h.env...), testhook.Env+"="+point)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reached := make(chan struct{})
	var errOut bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(io.TeeReader(stderr, &errOut))
		seen := false
		for sc.Scan() {
			if !seen && strings.HasPrefix(sc.Text(), testhook.Marker) {
				seen = true
				close(reached)
			}
		}
	}()
	if point != "" {
		select {
		case <-reached:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
			cmd.Wait()
			t.Fatalf("sync never reached the hook %s\n%s%s", point, stdout.String(), errOut.String())
		}
	} else {
		time.Sleep(delay)
	}
	cmd.Process.Signal(syscall.SIGINT)
	<-done
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String() + errOut.String(), code
}

// checkNoFalseVerdict asserts that no entry of the cache records a
// validation cut short, and that 'gizmo cache ls --json' and 'gizmo cache
// verify' agree: nothing invalid for a reason that is no finding.
func (h *crashHarness) checkNoFalseVerdict(t *testing.T, when string) {
	t.Helper()
	c, err := cache.Open(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	es, err := c.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if v := e.Validation; v != nil && (v.Interrupted() || strings.Contains(strings.Join(v.Summary, " "), context.Canceled.Error())) {
			t.Errorf("%s: %s/%s recorded as %+v", when, e.AssetID, e.Format, *v)
		}
	}
	ls := h.mustRun("cache", "ls", "--json")
	var rows []struct {
		Validation *cache.Validation `json:"validation"`
	}
	if err := json.Unmarshal([]byte(ls), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if v := r.Validation; v != nil && (v.Interrupted() || strings.Contains(strings.Join(v.Summary, " "), context.Canceled.Error())) {
			t.Errorf("%s: cache ls shows a validation cut short: %+v", when, *v)
		}
	}
	problems, code, out := h.verify()
	if code != 0 || len(problems)-countKind(problems, cache.ProblemPartial)-countKind(problems, cache.ProblemExtra) != 0 {
		t.Errorf("%s: cache verify exited %d:\n%s", when, code, out)
	}
}

// validatable lists the entries the sync validates (URDF and MJCF models).
func (h *crashHarness) validatable(t *testing.T, c *cache.Cache) []cache.Entry {
	t.Helper()
	es, err := c.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var out []cache.Entry
	for _, e := range es {
		if e.ModelKind == formats.KindURDF || e.ModelKind == formats.KindMJCF {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		t.Fatal("no URDF or MJCF entry cached")
	}
	return out
}

// lineWith tells whether a line of s holds every one of words.
func lineWith(s string, words ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			return true
		}
	}
	return false
}
