package layout

import (
	"strings"
	"testing"
)

// FuzzSlug: every name gives a short, safe, single path element.
func FuzzSlug(f *testing.F) {
	for _, s := range []string{"", "..", "../../etc", "a/b", "CON", "ünï", "\x00", strings.Repeat("x", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s := Slug(name)
		if s == "" || len(s) > MaxSlug+len("-asset") || strings.ContainsAny(s, "/\\.\x00") || validSlug(s) == "" {
			t.Fatalf("Slug(%q) = %q", name, s)
		}
		if Slug(s) != s && !reserved[strings.TrimSuffix(s, "-asset")] {
			t.Fatalf("Slug is not idempotent: %q -> %q -> %q", name, s, Slug(s))
		}
	})
}
