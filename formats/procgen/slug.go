package procgen

import "strings"

// maxSlug bounds the length of a slug.
const maxSlug = 64

// Slug turns an asset name into a safe file stem: lowercase letters, digits
// and single underscores, at most 64 bytes, never empty (then "robot"), never
// a path or a dot file.
func Slug(name string) string {
	var b strings.Builder
	under := true // suppress a leading underscore
	for _, r := range strings.ToLower(name) {
		switch {
		case (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
			under = false
		case !under:
			b.WriteByte('_')
			under = true
		}
		if b.Len() >= maxSlug {
			break
		}
	}
	s := strings.Trim(b.String(), "_")
	if len(s) > maxSlug {
		s = strings.TrimRight(s[:maxSlug], "_")
	}
	if s == "" {
		return "robot"
	}
	return s
}
