package urdf

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/validate"
)

// xmlMessage tells a urdfdom message about the XML itself (tinyxml2's, or
// no <robot> found) from one about the robot description.
func xmlMessage(m string) bool {
	for _, s := range []string{"Error reading", "Error parsing", "Error document empty", "Could not find the 'robot' element", "Error: XML_", "Error when"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// TestByteMutations corrupts the conformance variants byte by byte
// (inserting, deleting or replacing markup characters, NUL and invalid
// UTF-8) and compares gizmo with check_urdf on each mutant. XML that is
// malformed in odd ways has corners where tinyxml2 and gizmo's reader still
// differ (tinyxml2 takes "<]" or "<!-x" as text; it refuses non-UTF-8
// attribute values after some XML declarations); they are logged, and the
// test fails when they pass 3% of the mutants, or on any difference outside
// malformed XML.
func TestByteMutations(t *testing.T) {
	reftest.Require(t, reference.ToolCheckURDF)
	seeds, _ := filepath.Glob(filepath.Join("testdata", "conformance", "*.urdf"))
	var small []string
	for _, s := range seeds {
		if fi, _ := os.Stat(s); fi.Size() < 2000 {
			small = append(small, s)
		}
	}
	seed := int64(1)
	if s := os.Getenv("GIZMO_MUTATION_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	rng := rand.New(rand.NewSource(seed))
	n := 300
	if testing.Short() {
		n = 100
	}
	alphabet := []byte("<>&\"' /=\n\t;#x!-?[]abc01\x00\xff")
	dir := t.TempDir()
	bad := 0
	judged := 0
	for i := 0; i < n; i++ {
		data, _ := os.ReadFile(small[rng.Intn(len(small))])
		for k := 0; k <= rng.Intn(3); k++ {
			p := rng.Intn(len(data) + 1)
			switch rng.Intn(3) {
			case 0:
				data = append(data[:p], append([]byte{alphabet[rng.Intn(len(alphabet))]}, data[p:]...)...)
			case 1:
				if p < len(data) {
					data = append(data[:p], data[p+1:]...)
				}
			default:
				if p < len(data) {
					data[p] = alphabet[rng.Intn(len(alphabet))]
				}
			}
		}
		f := filepath.Join(dir, fmt.Sprintf("b%03d.urdf", i))
		os.WriteFile(f, data, 0o644)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := reference.CheckURDF(ctx, f)
		cancel()
		if err != nil {
			continue // check_urdf hung (a cycle it prints forever) or failed to run
		}
		judged++
		r := CheckBytes(f, data, dir, validate.Options{})
		hard := 0
		for _, e := range r.Errors {
			if e.Rule != "urdf-mesh-missing" {
				hard++
			}
		}
		if v.Accepted && hard > 0 || !v.Accepted && len(r.Errors) == 0 {
			xmlCorner := !v.Accepted && xmlMessage(v.First()) || v.Accepted && hasRule(r.Errors, "urdf-xml")
			if !xmlCorner {
				t.Errorf("disagreement outside malformed XML: check_urdf accepted=%v (%s), gizmo %v\n%q", v.Accepted, v.First(), r.Errors, data)
			}
			bad++
			t.Logf("malformed-XML corner: check_urdf accepted=%v (%s), gizmo %v\n%q", v.Accepted, v.First(), r.Errors, data)
		}
	}
	t.Logf("agreement %d/%d on byte-level mutants", judged-bad, judged)
	// A mutant is not judged when check_urdf hangs on it (a cycle it prints
	// forever) or cannot run: a harness that judges few of them tests little.
	if judged*10 < n*9 {
		t.Errorf("only %d of %d mutants judged (check_urdf hung or failed on the rest): want at least 90%%", judged, n)
	}
	if bad*100 > 3*judged {
		t.Errorf("%d of %d mutants disagree, more than 3%%", bad, judged)
	}
}
