// Package reftest holds test helpers for tests that run the reference
// parsers of package reference.
package reftest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/testreq"
)

// Require ends the test, with a message saying how to install it, when
// tool ("check_urdf", "mujoco-compile" or "mujoco-js") cannot run here: a
// skip, or a failure with GIZMO_REQUIRE_REFERENCES=1 (see internal/testreq).
// Call it before the test's other assertions.
func Require(t testing.TB, tool string) {
	t.Helper()
	if ok, why := reference.Have(tool); !ok {
		testreq.Missing(t, why)
	}
}

// Have reports whether tool can run here, for a test whose check with the
// tool is one step among others: when it cannot, the test goes on without
// that check and is skipped at its end (a failure with
// GIZMO_REQUIRE_REFERENCES=1).
func Have(t testing.TB, tool string) bool {
	t.Helper()
	ok, why := reference.Have(tool)
	if !ok {
		testreq.MissingAtEnd(t, why)
	}
	return ok
}

// toolTimeout bounds one run of a reference parser from a test.
const toolTimeout = time.Minute

// MuJoCo222 compiles the MJCF at file with MuJoCo 2.2.2's mujoco-compile
// (reference.MuJoCo222), for a test whose check with it is one step among
// others: ran is false when mujoco-compile is not installed (see Have);
// ok is its verdict and out what it printed.
func MuJoCo222(t testing.TB, file string) (ok bool, out string, ran bool) {
	t.Helper()
	return run(t, reference.ToolMuJoCo222, reference.MuJoCo222, file)
}

// CheckURDF parses the URDF at file with urdfdom's check_urdf
// (reference.CheckURDF), as MuJoCo222 does with mujoco-compile.
func CheckURDF(t testing.TB, file string) (ok bool, out string, ran bool) {
	t.Helper()
	return run(t, reference.ToolCheckURDF, reference.CheckURDF, file)
}

func run(t testing.TB, tool string, check func(context.Context, string) (reference.Verdict, error), file string) (ok bool, out string, ran bool) {
	t.Helper()
	if !Have(t, tool) {
		return false, "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	v, err := check(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	return v.Accepted, strings.TrimSpace(v.Output), true
}
