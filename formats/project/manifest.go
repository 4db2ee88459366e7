package project

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
)

// The file names of a project.
const (
	ManifestFile = "gizmo.toml"
	LockFile     = "gizmo.lock"
)

// Manifest is a parsed gizmo.toml.
type Manifest struct {
	Path    string // the file it was read from
	Assets  Selection
	Targets []Target
	// Digest is the SHA-256 of the file's bytes; the lock records it, so that
	// prepare knows when the manifest changed.
	Digest string
	// Source is where prepare takes the assets from instead of the Gizmo
	// API: an oci:// reference to a bundle that 'gizmo push' published
	// (top-level key source); "" means the API.
	Source string
}

// Selection says which assets a project needs. An asset is selected when
// any rule matches it.
type Selection struct {
	IDs   []string
	Names []string
	Tags  []string
	All   bool
	// Scenes are scene ids (the current generation of the API): a scene is
	// fetched and placed as an asset is, its export's root model being the
	// scene.
	Scenes []string
}

// Empty reports whether the selection selects nothing.
func (s Selection) Empty() bool {
	return !s.All && len(s.IDs) == 0 && len(s.Names) == 0 && len(s.Tags) == 0 && len(s.Scenes) == 0
}

// Target is one [[target]] of the manifest.
type Target struct {
	Layout  layout.Layout
	Dir     string // slash-separated, relative to the project root
	Formats []formats.Format
	Link    layout.LinkMode
	Line    int // line of its [[target]] header
	// IDs and Scenes are assets (and scenes) placed in this target only,
	// besides what [assets] selects for every target ('gizmo place
	// --layout' records there).
	IDs    []string
	Scenes []string
}

// Lists reports whether the target lists the id in its own ids or scenes.
func (t Target) Lists(id string) bool {
	return slices.Contains(t.IDs, id) || slices.Contains(t.Scenes, id)
}

// Error is a problem in a project file, with its line (0 when unknown).
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ErrNoManifest is returned when a project has no gizmo.toml.
var ErrNoManifest = errors.New("no " + ManifestFile + " (run 'gizmo init' to write one)")

type rawManifest struct {
	Source string `toml:"source"`
	Assets *struct {
		IDs    []string `toml:"ids"`
		Names  []string `toml:"names"`
		Tags   []string `toml:"tags"`
		All    bool     `toml:"all"`
		Scenes []string `toml:"scenes"`
	} `toml:"assets"`
	Target []struct {
		Layout  string   `toml:"layout"`
		Dir     string   `toml:"dir"`
		Formats []string `toml:"formats"`
		Link    string   `toml:"link"`
		IDs     []string `toml:"ids"`
		Scenes  []string `toml:"scenes"`
	} `toml:"target"`
}

// LoadManifest reads the gizmo.toml of the project at dir.
func LoadManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoManifest)
	}
	if err != nil {
		return nil, err
	}
	return ParseManifest(p, data)
}

// ParseManifest parses a manifest's bytes; file names it in errors.
func ParseManifest(file string, data []byte) (*Manifest, error) {
	var raw rawManifest
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: file, Line: pe.Position.Line, Msg: pe.Message}
		}
		return nil, &Error{File: file, Msg: err.Error()}
	}
	lines := keyLines(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0].String()
		return nil, &Error{File: file, Line: lines.first(k), Msg: fmt.Sprintf("unknown key %q: the manifest knows source, [assets] ids, names, tags, all, scenes and [[target]] layout, dir, formats, link, ids, scenes", k)}
	}
	sum := sha256.Sum256(data)
	m := &Manifest{Path: file, Digest: hex.EncodeToString(sum[:]), Source: raw.Source}
	if m.Source != "" && !strings.HasPrefix(m.Source, "oci://") {
		return nil, &Error{File: file, Line: lines.first("source"), Msg: fmt.Sprintf("source %q: give an oci:// reference to a bundle that 'gizmo push' published, e.g. source = \"oci://registry.example/robots:v1\"", m.Source)}
	}
	if raw.Assets != nil {
		m.Assets = Selection{IDs: raw.Assets.IDs, Names: raw.Assets.Names, Tags: raw.Assets.Tags, All: raw.Assets.All, Scenes: raw.Assets.Scenes}
	}
	headers := lines.all("target")
	seen := map[string]int{}
	for i, rt := range raw.Target {
		line := 0
		if i < len(headers) {
			line = headers[i]
		}
		bad := func(format string, a ...any) error {
			return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, a...)}
		}
		l, err := layout.ParseLayout(rt.Layout)
		if err != nil {
			return nil, bad("[[target]] %d: %v", i+1, err)
		}
		dir, err := cleanDir(rt.Dir)
		if err != nil {
			return nil, bad("[[target]] %d: %v", i+1, err)
		}
		if prev, dup := seen[dir]; dup {
			return nil, bad("[[target]] %d: dir %q is also the dir of the target on line %d; give each target its own folder", i+1, dir, prev)
		}
		// Nested targets would place one into the other (and remove each
		// other's assets as not selected): refused before anything moves.
		for _, t := range m.Targets {
			switch {
			case strings.HasPrefix(dir, t.Dir+"/"):
				return nil, bad("[[target]] %d: dir %q is inside the dir %q of the target on line %d; targets must not nest: give them sibling folders such as %q and %q", i+1, dir, t.Dir, t.Line, path.Join(t.Dir, string(t.Layout)), dir)
			case strings.HasPrefix(t.Dir, dir+"/"):
				return nil, bad("[[target]] %d: the dir %q of the target on line %d is inside the dir %q; targets must not nest: give them sibling folders such as %q and %q", i+1, t.Dir, t.Line, dir, t.Dir, path.Join(dir, string(l)))
			}
		}
		seen[dir] = line
		link, err := layout.ParseLinkMode(rt.Link)
		if err != nil {
			return nil, bad("[[target]] %d: %v", i+1, err)
		}
		t := Target{Layout: l, Dir: dir, Link: link, Line: line, IDs: rt.IDs, Scenes: rt.Scenes}
		for _, s := range rt.Formats {
			f, err := formats.Parse(s)
			if err != nil {
				return nil, bad("[[target]] %d: %v", i+1, err)
			}
			if !l.Accepts(f) {
				return nil, bad("[[target]] %d: the %s layout does not place %s; it places %s", i+1, l, f.Short(), shorts(l.Formats()))
			}
			t.Formats = append(t.Formats, f)
		}
		if len(t.Formats) == 0 {
			t.Formats = l.Formats()
		}
		m.Targets = append(m.Targets, t)
	}
	return m, nil
}

func shorts(fs []formats.Format) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Short())
	}
	return strings.Join(s, ", ")
}

// cleanDir checks a target folder: relative, inside the project.
func cleanDir(d string) (string, error) {
	if strings.TrimSpace(d) == "" {
		return "", errors.New(`dir is missing: say where the assets go, e.g. dir = "assets/mujoco"`)
	}
	s := strings.ReplaceAll(d, "\\", "/")
	if path.IsAbs(s) || filepath.IsAbs(d) || filepath.VolumeName(d) != "" {
		return "", fmt.Errorf("dir %q is absolute: give a folder relative to the project root", d)
	}
	s = path.Clean(s)
	if s == "." || s == ".." || strings.HasPrefix(s, "../") {
		return "", fmt.Errorf("dir %q is not a folder inside the project", d)
	}
	if s == ".gizmo" || strings.HasPrefix(s, ".git/") || s == ".git" {
		return "", fmt.Errorf("dir %q is reserved", d)
	}
	return s, nil
}

// keyLines maps full dotted key paths to the lines they appear on, by a
// plain scan of the text (BurntSushi/toml keeps key positions private).
type keyIndex map[string][]int

var (
	headerRe = regexp.MustCompile(`^\s*\[(\[)?\s*([^\]]+?)\s*\]`)
	keyRe    = regexp.MustCompile(`^\s*([A-Za-z0-9_\-."' ]+?)\s*=`)
)

func keyLines(data []byte) keyIndex {
	idx := keyIndex{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	depth := 0 // inside a multi-line array or string: no keys
	for sc.Scan() {
		n++
		line := sc.Text()
		if depth == 0 {
			if m := headerRe.FindStringSubmatch(line); m != nil && !strings.HasPrefix(strings.TrimSpace(line), "#") {
				table = normKey(m[2])
				idx[table] = append(idx[table], n)
			} else if m := keyRe.FindStringSubmatch(line); m != nil {
				k := normKey(m[1])
				if table != "" {
					k = table + "." + k
				}
				idx[k] = append(idx[k], n)
			}
		}
		depth += strings.Count(stripStrings(line), "[") - strings.Count(stripStrings(line), "]")
		if depth < 0 {
			depth = 0
		}
	}
	return idx
}

// stripStrings removes quoted strings and comments from a line.
func stripStrings(line string) string {
	var b strings.Builder
	var q rune
	for _, r := range line {
		switch {
		case q != 0:
			if r == q {
				q = 0
			}
		case r == '"' || r == '\'':
			q = r
		case r == '#':
			return b.String()
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func normKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

func (idx keyIndex) first(k string) int {
	if l := idx[k]; len(l) > 0 {
		return l[0]
	}
	// A key under a table defined by a dotted key: try its parents.
	for i := strings.LastIndex(k, "."); i > 0; i = strings.LastIndex(k[:i], ".") {
		if l := idx[k[:i]]; len(l) > 0 {
			return l[0]
		}
	}
	return 0
}

func (idx keyIndex) all(k string) []int { return idx[k] }

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteString(`\u` + fmt.Sprintf("%04X", r))
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
