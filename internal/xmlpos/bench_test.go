package xmlpos

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/antimlabs/gizmo/internal/testcorpus"
)

// benchFiles are corpus documents of different kinds and sizes, from a big
// URDF to a typical MJCF model.
var benchFiles = []string{
	"urdf/example-robot-data/robots/pr2_description/urdf/pr2.urdf",
	"urdf/bullet3/data/quadruped/minitaur.urdf",
	"urdf/example-robot-data/robots/hyq_description/robots/hyq_no_sensors.urdf",
	"mjcf/agility_cassie/cassie.xml",
	"mjcf/shadow_hand/right_hand.xml",
}

// BenchmarkParse parses a few real robot files; the MB/s column is the
// figure to compare across changes to Parse.
func BenchmarkParse(b *testing.B) {
	benchParse(b, Parse)
}

func benchParse(b *testing.B, parse func([]byte) (*Doc, error)) {
	dir := testcorpus.Dir(b)
	for _, name := range benchFiles {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseSlow runs the encoding/xml path alone on the files of
// BenchmarkParse: Parse's fallback, and what Parse cost before the fast path.
func BenchmarkParseSlow(b *testing.B) {
	benchParse(b, parseSlow)
}
