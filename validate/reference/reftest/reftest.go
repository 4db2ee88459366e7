// Package reftest holds test helpers for tests that run the reference
// parsers of package reference.
package reftest

import (
	"testing"

	"github.com/antimlabs/gizmo/validate/reference"
)

// Require skips the test, with a message saying how to install it, when
// tool ("check_urdf", "mujoco-compile" or "mujoco-js") cannot run here.
func Require(t testing.TB, tool string) {
	t.Helper()
	if ok, why := reference.Have(tool); !ok {
		t.Skip(why)
	}
}
