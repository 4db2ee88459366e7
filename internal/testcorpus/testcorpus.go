// Package testcorpus locates the shared robot corpus for tests: the
// directory named by $GIZMO_CORPUS, else shared/corpus beside the
// repository root (found by walking up to go.mod) or beside a folder above
// it. Tests that need it skip when it is absent, or fail with
// GIZMO_REQUIRE_REFERENCES=1 (see internal/testreq).
package testcorpus

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/antimlabs/gizmo/internal/testreq"
)

// Find returns the corpus directory, or "" when there is none.
func Find() string {
	if d := os.Getenv("GIZMO_CORPUS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			// Beside the repository, or beside a folder above it (a
			// worktree kept in a subfolder of the main checkout's parent).
			for up := filepath.Dir(dir); ; up = filepath.Dir(up) {
				c := filepath.Join(up, "shared", "corpus")
				if fi, err := os.Stat(c); err == nil && fi.IsDir() {
					return c
				}
				if filepath.Dir(up) == up {
					return ""
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// missing says how to provide the corpus.
const missing = "robot corpus not found: set GIZMO_CORPUS, or put it at ../shared/corpus beside the repository"

// Dir returns the corpus directory, or ends the test (a skip, or a failure
// with GIZMO_REQUIRE_REFERENCES=1) with a message saying how to provide it.
// Call it before the test's other assertions.
func Dir(tb testing.TB) string {
	tb.Helper()
	c := Find()
	if c == "" {
		testreq.Missing(tb, missing)
	}
	return c
}

// IfPresent returns the corpus directory, or "" for a test that also runs
// without it: the test goes on and is skipped at its end (a failure with
// GIZMO_REQUIRE_REFERENCES=1), so the part it could not run is not passed
// silently.
func IfPresent(tb testing.TB) string {
	tb.Helper()
	c := Find()
	if c == "" {
		testreq.MissingAtEnd(tb, missing)
	}
	return c
}
