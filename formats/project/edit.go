package project

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// Starter is the commented manifest gizmo init writes; %s is the first
// target's block.
const starter = `# gizmo.toml: the Gizmo assets this simulation project needs, and where
# they go. 'gizmo prepare' makes the project match it (run it before every
# simulation); 'gizmo place ID --project .' adds an asset. Unknown keys are
# errors. Commit this file and gizmo.lock.

[assets]
# Which assets: an asset is selected when any rule matches.
ids = []      # asset ids, e.g. ["ast_8f3k2m"]
names = []    # asset names, exactly as Gizmo shows them
tags = []     # every asset carrying one of these tags
all = false   # true: every asset of the account

# One [[target]] per simulator folder (a path relative to this file).
#   layout  = "mujoco": <dir>/<slug>/<slug>.xml, scene.xml, assets/
#             "isaac":  <dir>/<slug>/<slug>.usda, urdf/<slug>.urdf, urdf/meshes/
#   formats = optional; default: all the layout places
#             (mujoco: ["mjcf"]; isaac: ["usd", "urdf"])
#   link    = optional: "copy" (default: the project stands alone), "hardlink"
#             (no extra disk; falls back to copy across filesystems) or
#             "symlink" (into the cache; breaks when the cache is cleaned)
%s`

// StarterManifest returns the text gizmo init writes, with one target per
// layout given (folder assets/<layout> each).
func StarterManifest(layouts []layout.Layout) []byte {
	var b strings.Builder
	for i, l := range layouts {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[[target]]\nlayout = %s\ndir = %s\n", quote(string(l)), quote("assets/"+string(l)))
	}
	return []byte(fmt.Sprintf(starter, b.String()))
}

// TargetBlock is the text of a [[target]] table.
func TargetBlock(t Target) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[[target]]\nlayout = %s\ndir = %s\n", quote(string(t.Layout)), quote(t.Dir))
	if len(t.Formats) > 0 && !sameFormats(t.Formats, t.Layout.Formats()) {
		var q []string
		for _, f := range t.Formats {
			q = append(q, quote(f.Short()))
		}
		fmt.Fprintf(&b, "formats = [%s]\n", strings.Join(q, ", "))
	}
	if t.Link != "" && t.Link != layout.DefaultLink {
		fmt.Fprintf(&b, "link = %s\n", quote(string(t.Link)))
	}
	return b.String()
}

func sameFormats(a, b []formats.Format) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// AddID returns the manifest text with id added to [assets] ids, changing
// only that line (or adding it). A manifest that already lists the id is
// returned unchanged.
func AddID(data []byte, id string) []byte { return addToList(data, "ids", id) }

// AddScene returns the manifest text with a scene id added to [assets]
// scenes, as AddID does for ids.
func AddScene(data []byte, id string) []byte { return addToList(data, "scenes", id) }

// AddTargetID returns the manifest text with id added to the ids of its
// [[target]] number n (0-based, in file order), changing only that line
// (or adding it under the table's header): the asset is placed in that
// target only (the caller checks Target.Lists first). A manifest with no
// such target is returned unchanged.
func AddTargetID(data []byte, n int, id string) []byte { return addToTarget(data, n, "ids", id) }

// AddTargetScene is AddTargetID for a scene id (the target's scenes).
func AddTargetScene(data []byte, n int, id string) []byte { return addToTarget(data, n, "scenes", id) }

func addToTarget(data []byte, n int, key, id string) []byte {
	lines := splitLines(data)
	keyRe := listKeyRe(key)
	seen := 0
	for i, line := range lines {
		if m := tableHeader(line, keyRe); m != nil && m[1] != "" && normKey(m[2]) == "target" {
			if seen == n {
				return join(addAt(lines, i, key, id))
			}
			seen++
		}
	}
	return data
}

// addToList adds id to the [assets] array key (ids or scenes).
func addToList(data []byte, key, id string) []byte {
	lines := splitLines(data)
	keyRe := listKeyRe(key)
	for i, line := range lines {
		if m := tableHeader(line, keyRe); m != nil && m[1] == "" && normKey(m[2]) == "assets" {
			return join(addAt(lines, i, key, id))
		}
	}
	// No [assets] table: add one before the first table.
	first := len(lines)
	for i, line := range lines {
		if tableHeader(line, keyRe) != nil {
			first = i
			break
		}
	}
	block := []string{"[assets]", key + " = [" + quote(id) + "]", ""}
	return join(append(lines[:first], append(block, lines[first:]...)...))
}

func splitLines(data []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// listKeyRe matches the first line of the array key.
func listKeyRe(key string) *regexp.Regexp {
	return regexp.MustCompile(`^\s*` + regexp.QuoteMeta(key) + `\s*=\s*\[`)
}

// tableHeader returns headerRe's match of a table header line ([t] or
// [[t]]), or nil: comments and the array key's own line are no headers.
func tableHeader(line string, keyRe *regexp.Regexp) []string {
	if strings.HasPrefix(strings.TrimSpace(line), "#") || keyRe.MatchString(line) {
		return nil
	}
	return headerRe.FindStringSubmatch(line)
}

// addAt adds id to the array key of the table whose header is line at,
// appending to the array where it is, or adding the key under the header.
func addAt(lines []string, at int, key, id string) []string {
	keyRe := listKeyRe(key)
	for i := at + 1; i < len(lines); i++ {
		if tableHeader(lines[i], keyRe) != nil {
			break
		}
		if !keyRe.MatchString(lines[i]) {
			continue
		}
		// Find the closing bracket of the array, on this line or a later one.
		for j := i; j < len(lines); j++ {
			code := stripStrings(lines[j])
			if strings.LastIndex(code, "]") < 0 {
				continue
			}
			// Map the position in the stripped text back to the line.
			pos := closingBracket(lines[j])
			if pos < 0 {
				break
			}
			before := strings.TrimRight(lines[j][:pos], " \t")
			sep := ", "
			if strings.HasSuffix(before, "[") || strings.HasSuffix(before, ",") && j > i {
				sep = ""
			}
			if strings.HasSuffix(before, ",") && j == i {
				sep = " "
			}
			if j > i && strings.TrimSpace(before) == "" {
				// "]" on its own line: add an element line before it.
				lines = append(lines[:j], append([]string{"  " + quote(id) + ","}, lines[j:]...)...)
				if !strings.HasSuffix(strings.TrimRight(stripStrings(lines[j-1]), " \t"), ",") && !strings.HasSuffix(strings.TrimRight(stripStrings(lines[j-1]), " \t"), "[") {
					lines[j-1] += ","
				}
				return lines
			}
			lines[j] = before + sep + quote(id) + lines[j][pos:]
			return lines
		}
		break
	}
	return append(lines[:at+1], append([]string{key + " = [" + quote(id) + "]"}, lines[at+1:]...)...)
}

// closingBracket finds the index of the last ']' outside strings and
// comments in a line, or -1.
func closingBracket(line string) int {
	var q rune
	last := -1
	for i, r := range line {
		switch {
		case q != 0:
			if r == '\\' && q == '"' {
				continue
			}
			if r == q {
				q = 0
			}
		case r == '"' || r == '\'':
			q = r
		case r == '#':
			return last
		case r == ']':
			last = i
		}
	}
	return last
}

func join(lines []string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

// AddTarget returns the manifest text with a [[target]] block appended.
func AddTarget(data []byte, t Target) []byte {
	s := strings.TrimRight(string(data), "\n")
	if s != "" {
		s += "\n\n"
	}
	return []byte(s + TargetBlock(t))
}

// Lists reports whether the selection names the id or name explicitly
// (among ids, names or scenes).
func (s Selection) Lists(idOrName string) bool {
	for _, x := range s.Scenes {
		if x == idOrName {
			return true
		}
	}
	for _, x := range s.IDs {
		if x == idOrName {
			return true
		}
	}
	for _, x := range s.Names {
		if x == idOrName {
			return true
		}
	}
	return false
}

// Edit reads the project's manifest, applies change to its text, checks that
// the result still parses, and writes it back atomically.
func Edit(dir string, change func([]byte) ([]byte, error)) (*Manifest, error) {
	p := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	out, err := change(data)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(p, out)
	if err != nil {
		return nil, fmt.Errorf("editing %s would break it (%v); edit it by hand", p, err)
	}
	if bytes.Equal(out, data) {
		return m, nil
	}
	if err := atomicfile.WriteFile(p, out, 0o644); err != nil {
		return nil, err
	}
	return m, nil
}
