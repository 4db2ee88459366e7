package mjcf

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/testcorpus"
)

// corpusDir locates the shared robot corpus (GIZMO_CORPUS overrides) or
// skips the test.
func corpusDir(t testing.TB) string {
	return testcorpus.Dir(t)
}

// manifestVerdicts reads MANIFEST.md's MuJoCo 3.3.8 column for every MJCF
// XML file: true when MuJoCo accepts the file.
func manifestVerdicts(t testing.TB, corpus string) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| mjcf/") && !strings.HasPrefix(line, "| synthetic/mjcf/") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		name := strings.TrimSpace(cells[0])
		if !strings.HasSuffix(name, ".xml") || len(cells) < 3 {
			continue
		}
		last := strings.TrimSpace(cells[len(cells)-1])
		out[name] = strings.HasPrefix(last, "OK")
	}
	return out
}
