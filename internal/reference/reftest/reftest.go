// Package reftest holds test helpers for tests that run the reference
// parsers of package reference.
package reftest

import (
	"testing"

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
