package reference_test

import (
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

// readManifest reads the verdicts MANIFEST.md records for the files present
// in the corpus (see testcorpus.Manifest).
func readManifest(t *testing.T, root string) []manifestRow {
	t.Helper()
	var rows []manifestRow
	for _, v := range testcorpus.Manifest(t, root) {
		rows = append(rows, manifestRow{file: v.File, checkURDF: v.CheckURDF, mj222: v.MuJoCo222, mj3: v.MuJoCo3})
	}
	return rows
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
