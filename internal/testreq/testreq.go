// Package testreq decides what a test does when the machine lacks something
// it needs from outside the repository: a reference parser (check_urdf,
// mujoco-compile, Node and mujoco-js), the shared robot corpus, or another
// tool. On a developer's machine such a test skips with a message saying
// how to provide it; with GIZMO_REQUIRE_REFERENCES=1 (set by CI) the same
// skip is a failure, so a CI machine that lost a tool cannot pass by
// testing less.
//
// A test checks its requirements at its start with Missing. A test whose
// reference check is one step among others calls MissingAtEnd instead: its
// other assertions still run, and it is skipped (or failed) when it ends.
package testreq

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Env names the environment variable that turns every skip for a missing
// reference into a failure.
const Env = "GIZMO_REQUIRE_REFERENCES"

// Required reports whether $GIZMO_REQUIRE_REFERENCES asks for every
// reference to be present (any value but "", "0" or "false").
func Required() bool {
	switch os.Getenv(Env) {
	case "", "0", "false":
		return false
	}
	return true
}

// Missing ends tb because something it needs is missing: why says what and
// how to install or provide it. The test is skipped, or fails when
// Required. Call it before the test's own assertions.
func Missing(tb testing.TB, why string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s (%s=1: a missing reference fails the test)", why, Env)
	}
	tb.Skip(why)
}

// pending holds, for each test that called MissingAtEnd, the reasons
// already recorded.
var pending sync.Map // testing.TB -> *atEnd

type atEnd struct {
	mu   sync.Mutex
	whys []string
}

// MissingAtEnd records that tb could not run one of its checks because
// something is missing (why says what and how to provide it). When
// Required the test fails now and goes on; otherwise it goes on and is
// skipped when it ends, after its other assertions (a test that failed
// meanwhile stays failed). Each reason is reported once per test.
func MissingAtEnd(tb testing.TB, why string) {
	tb.Helper()
	v, loaded := pending.LoadOrStore(tb, &atEnd{})
	a := v.(*atEnd)
	if !loaded {
		tb.Cleanup(func() {
			pending.Delete(tb)
			a.mu.Lock()
			whys := strings.Join(a.whys, "; ")
			a.mu.Unlock()
			if !Required() {
				tb.Skip("some checks did not run: " + whys)
			}
		})
	}
	a.mu.Lock()
	if slices.Contains(a.whys, why) {
		a.mu.Unlock()
		return
	}
	a.whys = append(a.whys, why)
	a.mu.Unlock()
	if Required() {
		tb.Errorf("%s (%s=1: a missing reference fails the test)", why, Env)
		return
	}
	tb.Logf("not checked: %s", why)
}
