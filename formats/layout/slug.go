package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mozillazg/go-unidecode"
)

// MaxSlug is the longest slug Slug returns, in bytes.
const MaxSlug = 48

// reserved are names a slug must not take: device names on Windows, and
// names the layouts use themselves.
var reserved = map[string]bool{
	"con": true, "prn": true, "aux": true, "nul": true,
	"com1": true, "com2": true, "com3": true, "com4": true, "com5": true, "com6": true, "com7": true, "com8": true, "com9": true,
	"lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true, "lpt5": true, "lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
	"assets": true, "scene": true, "urdf": true, "meshes": true,
}

// Slug turns an asset name into a folder name: lowercase ASCII letters,
// digits, '-' and '_'. Letters of other scripts are transliterated
// (Unidecode's tables: "Робот" gives "robot", "Über-Greifer"
// "uber-greifer", "机器人" "ji-qi-ren"); every other run of characters
// becomes one '-'. The result is never empty, never "." or "..", holds no
// separator and is at most MaxSlug bytes, so it cannot name a path outside
// the target folder.
//
// ASCII, not the name's own letters, because the folder and file names end
// up where not every reader takes more: MuJoCo opens files with fopen,
// which on Windows reads a path in the ANSI code page; ROS package names
// and package:// URIs are ASCII; USD before 24.03 takes ASCII identifiers
// only; HFS+ stores names decomposed (NFD), so a name written composed does
// not read back the same; shells and build scripts quote them badly. A
// name with nothing to transliterate (emoji alone) gives "asset".
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range name {
		ascii := string(c)
		if c >= utf8.RuneSelf {
			ascii = unidecode.Unidecode(ascii)
		}
		for _, r := range strings.ToLower(ascii) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
				b.WriteRune(r)
				dash = false
			default:
				if !dash && b.Len() > 0 {
					b.WriteByte('-')
				}
				dash = true
			}
		}
		if b.Len() >= MaxSlug {
			break
		}
	}
	s := strings.Trim(b.String(), "-_")
	if len(s) > MaxSlug {
		s = strings.Trim(s[:MaxSlug], "-_")
	}
	if s == "" {
		s = "asset"
	}
	if reserved[s] {
		s += "-asset"
	}
	return s
}

// Named is an asset as slugs see it.
type Named struct {
	ID   string
	Name string
}

// Slugs gives every asset a distinct slug. Slugs already given (prev, by
// asset id) are kept while they stay distinct, so placed paths are stable
// across runs; an asset whose name slugs like another's gets a suffix made
// from its id. Assets are considered in id order, so the result does not
// depend on the order of items.
func Slugs(items []Named, prev map[string]string) map[string]string {
	sorted := append([]Named(nil), items...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	out := make(map[string]string, len(items))
	taken := make(map[string]string) // slug -> id
	// Keep earlier slugs first.
	for _, it := range sorted {
		s, ok := prev[it.ID]
		if !ok || s != validSlug(s) {
			continue
		}
		if _, dup := taken[s]; dup {
			continue
		}
		taken[s] = it.ID
		out[it.ID] = s
	}
	// Group the rest by base slug; a base shared by several gets suffixes.
	count := make(map[string]int)
	for _, it := range sorted {
		if _, ok := out[it.ID]; !ok {
			count[Slug(it.Name)]++
		}
	}
	for _, it := range sorted {
		if _, ok := out[it.ID]; ok {
			continue
		}
		base := Slug(it.Name)
		s := base
		if _, dup := taken[s]; dup || count[base] > 1 {
			s = withSuffix(base, idSuffix(it.ID))
			if _, dup := taken[s]; dup {
				s = withSuffix(base, hashSuffix(it.ID))
			}
		}
		for n := 2; ; n++ {
			if _, dup := taken[s]; !dup {
				break
			}
			s = withSuffix(base, hashSuffix(it.ID+strings.Repeat("~", n)))
		}
		taken[s] = it.ID
		out[it.ID] = s
	}
	return out
}

// validSlug returns s when it is a slug Slug could have produced (possibly
// with a suffix), and "" otherwise. Slugs read back from a state file are
// checked with it, so a tampered state cannot name a path outside the target.
func validSlug(s string) string {
	if s == "" || len(s) > MaxSlug+1+12 || reserved[s] {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return ""
		}
	}
	return s
}

func withSuffix(base, suf string) string {
	if len(base)+1+len(suf) > MaxSlug {
		base = strings.Trim(base[:MaxSlug-1-len(suf)], "-_")
		if base == "" {
			base = "asset"
		}
	}
	return base + "-" + suf
}

// idSuffix is the last 8 slug characters of the id ("ast_8f3k2m" gives
// "8f3k2m"), or a hash when the id has none.
func idSuffix(id string) string {
	s := Slug(id)
	if i := strings.LastIndexAny(s, "-_"); i >= 0 && len(s)-i-1 >= 4 {
		s = s[i+1:]
	}
	if len(s) > 8 {
		s = s[len(s)-8:]
	}
	if s == "asset" || id != strings.ToLower(id) {
		// No usable characters, or ids that differ only in case: a hash.
		return hashSuffix(id)
	}
	return s
}

func hashSuffix(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:3])
}
