package mjcf

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/testcorpus"
	"github.com/antimlabs/gizmo/validate"
)

// corpusDir locates the shared robot corpus (GIZMO_CORPUS overrides) or
// skips the test.
func corpusDir(t testing.TB) string {
	return testcorpus.Dir(t)
}

// TestCorpusRecordedVerdicts checks gizmo, without Node, against the MuJoCo
// 3.3.8 verdict MANIFEST.md records for each MJCF file of the corpus
// (mjcf/ and synthetic/mjcf/): where MuJoCo rejected a file gizmo must
// report an error, where it accepted one gizmo must report none, apart from
// the knownDifferences. TestConformanceMuJoCo3 asks MuJoCo 3 itself, and
// internal/reference's TestMuJoCo3Corpus checks that the recorded verdicts
// are still the ones MuJoCo gives.
func TestCorpusRecordedVerdicts(t *testing.T) {
	root := corpusDir(t)
	n, accepted := 0, 0
	for _, v := range testcorpus.Manifest(t, root) {
		if v.MuJoCo3 == "" || !strings.HasSuffix(v.File, ".xml") {
			continue
		}
		n++
		want, _, msg := testcorpus.ParseMuJoCo(v.MuJoCo3)
		if want {
			accepted++
		}
		t.Run(v.File, func(t *testing.T) {
			r := Check(filepath.Join(root, filepath.FromSlash(v.File)), validate.Options{})
			got := len(r.Errors) == 0
			reason, known := knownDifferences[v.File]
			switch {
			case got != want && !known && want:
				t.Errorf("MuJoCo 3.3.8 accepted it (MANIFEST.md), gizmo reports %v", r.Errors)
			case got != want && !known:
				t.Errorf("MuJoCo 3.3.8 rejected it (MANIFEST.md: %s), gizmo reports no error", msg)
			case got == want && known:
				t.Errorf("listed as a known difference (%s) but now agrees with MuJoCo 3: remove it from knownDifferences", reason)
			}
		})
	}
	// The manifest records 34 Menagerie files and 39 synthetic ones, both
	// verdicts among them: a smaller count means the reading broke.
	if n < 70 || accepted < 30 || n-accepted < 30 {
		t.Errorf("MANIFEST.md gave %d MuJoCo 3.3.8 verdicts for MJCF files (%d accepted): want at least 70, 30 of each", n, accepted)
	}
}
