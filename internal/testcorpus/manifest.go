package testcorpus

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Verdicts are the reference verdicts MANIFEST.md records for one file of
// the corpus, as the manifest writes them; an empty field was not
// recorded.
type Verdicts struct {
	File      string // relative to the corpus root, slash-separated
	CheckURDF string // check_urdf 3.0.1: "PARSED rc=0 | first msg: ..." or "REJECTED ..."
	MuJoCo222 string // MuJoCo 2.2.2: "OK" or "FAIL: message [locator]" (see ParseMuJoCo)
	MuJoCo3   string // MuJoCo 3.3.8: "OK nbody=1 njnt=0 ngeom=1 nmesh=0" or "FAIL: ..."
	// Meshes is, for a URDF, "N/M (...)": M distinct <mesh filename> URIs,
	// N of which resolve inside the corpus (the scheme dropped, joined to
	// each folder above the URDF).
	Meshes string
}

// Manifest reads every table row of root's MANIFEST.md that names a file
// present in the corpus, with the check_urdf, MuJoCo 2.2.2, MuJoCo 3.3.8
// and meshes columns found by their headers. It fails the test when the manifest
// cannot be read or yields fewer than 50 rows (its layout changed).
func Manifest(tb testing.TB, root string) []Verdicts {
	tb.Helper()
	f, err := os.Open(filepath.Join(root, "MANIFEST.md"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var rows []Verdicts
	cols := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inBody := false // past the header's --- row
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "|") {
			cols, inBody = map[string]int{}, false
			continue
		}
		cells := splitRow(line)
		if strings.HasPrefix(cells[0], "---") {
			inBody = true
			continue
		}
		if !inBody {
			// A header row.
			for i, c := range cells {
				switch {
				case c == "file":
					cols["file"] = i
				case strings.HasPrefix(c, "check_urdf") || c == "verdict":
					cols["urdf"] = i
				case strings.HasPrefix(c, "MJ 2.2.2"):
					cols["mj222"] = i
				case strings.HasPrefix(c, "MJ 3.3.8"):
					cols["mj3"] = i
				case c == "meshes":
					cols["meshes"] = i
				}
			}
			continue
		}
		fi, ok := cols["file"]
		if !ok || fi >= len(cells) {
			continue
		}
		file := strings.Trim(cells[fi], "`")
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
			continue // appendix rows describe files not copied
		}
		get := func(k string) string {
			if i, ok := cols[k]; ok && i < len(cells) {
				return cells[i]
			}
			return ""
		}
		rows = append(rows, Verdicts{File: file, CheckURDF: get("urdf"), MuJoCo222: get("mj222"), MuJoCo3: get("mj3"), Meshes: get("meshes")})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(rows) < 50 {
		tb.Fatalf("read only %d rows from %s: has its layout changed?", len(rows), filepath.Join(root, "MANIFEST.md"))
	}
	return rows
}

// ParseMuJoCo reads a MuJoCo verdict cell: "OK", "OK nbody=1 njnt=0
// ngeom=1 nmesh=0", "FAIL: message [locator]" or "FAIL(null model):
// message".
func ParseMuJoCo(cell string) (ok bool, sizes string, msg string) {
	switch {
	case cell == "OK":
		return true, "", ""
	case strings.HasPrefix(cell, "OK "):
		return true, strings.TrimPrefix(cell, "OK "), ""
	case strings.HasPrefix(cell, "FAIL: "):
		return false, "", strings.TrimPrefix(cell, "FAIL: ")
	case strings.HasPrefix(cell, "FAIL(null model): "):
		return false, "", strings.TrimPrefix(cell, "FAIL(null model): ")
	}
	return false, "", cell
}

// splitRow splits a markdown table row into trimmed cells, honouring \|.
func splitRow(line string) []string {
	line = strings.ReplaceAll(line, `\|`, "\x00")
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	parts := strings.Split(line, "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(strings.ReplaceAll(p, "\x00", "|"))
	}
	return parts
}
