package reference_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/testcorpus"
)

// corpusRoot locates the shared robot corpus: $GIZMO_CORPUS, else
// ../shared/corpus relative to the repository root. It skips the test when
// the corpus is absent.
func corpusRoot(t *testing.T) string {
	return testcorpus.Dir(t)
}

// manifestRow is one file's recorded verdicts in MANIFEST.md; an empty
// column was not recorded.
type manifestRow struct {
	file                  string // relative to the corpus root
	checkURDF, mj222, mj3 string
}

// readManifest reads every table row of MANIFEST.md that names a file
// present in the corpus, with the check_urdf, MuJoCo 2.2.2 and MuJoCo 3.3.8
// columns found by their headers.
func readManifest(t *testing.T, root string) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []manifestRow
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
				}
			}
			continue
		}
		fi, ok := cols["file"]
		if !ok || fi >= len(cells) {
			continue
		}
		file := strings.Trim(cells[fi], "`")
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			continue // appendix rows describe files not copied
		}
		r := manifestRow{file: file}
		get := func(k string) string {
			if i, ok := cols[k]; ok && i < len(cells) {
				return cells[i]
			}
			return ""
		}
		r.checkURDF, r.mj222, r.mj3 = get("urdf"), get("mj222"), get("mj3")
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 50 {
		t.Fatalf("read only %d rows from MANIFEST.md: has its layout changed?", len(rows))
	}
	return rows
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

// squeeze collapses runs of white space.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// sameMessage compares a message with MANIFEST's rendering of it: the
// native locator in brackets, long messages cut with "…".
func sameMessage(got, want string) bool {
	want = squeeze(want)
	for _, loc := range []string{" [Element ", " [Object name"} {
		if i := strings.LastIndex(want, loc); i >= 0 {
			want = want[:i] + " " + strings.TrimSuffix(want[i+2:], "]")
			break
		}
	}
	got = squeeze(got)
	if cut, ok := strings.CutSuffix(want, "…"); ok {
		return strings.HasPrefix(got, strings.TrimSpace(cut))
	}
	return got == want
}
