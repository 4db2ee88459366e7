// Package testcorpus locates the shared robot corpus for tests: the
// directory named by $GIZMO_CORPUS, else ../shared/corpus beside the
// repository root (found by walking up to go.mod). Tests that need it skip
// when it is absent.
package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
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
			c := filepath.Join(filepath.Dir(dir), "shared", "corpus")
			if fi, err := os.Stat(c); err == nil && fi.IsDir() {
				return c
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Dir returns the corpus directory, or skips the test with a message saying
// how to provide it.
func Dir(tb testing.TB) string {
	tb.Helper()
	c := Find()
	if c == "" {
		tb.Skip("robot corpus not found: set GIZMO_CORPUS, or put it at ../shared/corpus beside the repository")
	}
	return c
}
