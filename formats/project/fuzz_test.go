package project

import (
	"errors"
	"path"
	"strings"
	"testing"
)

// FuzzParseManifest: any input parses or fails with a *Error, and a parsed
// manifest's target folders stay inside the project.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(full))
	f.Add(StarterManifest(nil))
	f.Add([]byte("[assets]\nids = [\n\"a\",\n]\n[[target]]\nlayout=\"isaac\"\ndir='x/../y'\n"))
	f.Add([]byte("[[target]]\nlayout = \"mujoco\"\ndir = \"a\\\\..\\\\..\\\\b\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest("gizmo.toml", data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *project.Error", err)
			}
			return
		}
		for _, tg := range m.Targets {
			c := path.Clean(strings.ReplaceAll(tg.Dir, "\\", "/"))
			if c != tg.Dir || path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") || c == "." {
				t.Fatalf("target dir %q escapes the project", tg.Dir)
			}
		}
		// Adding an id keeps a valid manifest valid.
		if _, err := ParseManifest("gizmo.toml", AddID(data, "ast_fz\"1")); err != nil {
			t.Fatalf("AddID broke a valid manifest: %v\n%s", err, AddID(data, "ast_fz\"1"))
		}
	})
}
