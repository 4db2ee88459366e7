package urdf

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/reference"
	"github.com/antimlabs/gizmo/validate/reference/reftest"
)

type corpusFile struct {
	path string
	data []byte
}

func loadCorpus(b *testing.B) ([]corpusFile, int64) {
	var files []corpusFile
	var total int64
	for _, p := range corpusURDFs(b) {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, corpusFile{p, data})
		total += int64(len(data))
	}
	return files, total
}

// BenchmarkCheckURDF validates every corpus URDF once per iteration;
// MB/s is XML validated per second (mesh lookups included).
func BenchmarkCheckURDF(b *testing.B) {
	files, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			CheckBytes(f.path, f.data, filepath.Dir(f.path), validate.Options{})
		}
	}
}

// BenchmarkCorpusVsCheckURDF times gizmo and urdfdom's check_urdf over the
// same corpus URDFs and reports how many times faster gizmo is. check_urdf
// runs as one process per file, as users run it.
func BenchmarkCorpusVsCheckURDF(b *testing.B) {
	reftest.Require(b, reference.ToolCheckURDF)
	files, total := loadCorpus(b)
	b.SetBytes(total)
	var gizmo, ref time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		for _, f := range files {
			Check(f.path, validate.Options{})
		}
		gizmo += time.Since(start)
		start = time.Now()
		for _, f := range files {
			if _, err := reference.CheckURDF(context.Background(), f.path); err != nil {
				b.Fatal(err)
			}
		}
		ref += time.Since(start)
	}
	b.ReportMetric(float64(ref)/float64(gizmo), "x-faster-than-check_urdf")
	b.ReportMetric(float64(gizmo.Milliseconds())/float64(b.N), "gizmo-ms/corpus")
	b.ReportMetric(float64(ref.Milliseconds())/float64(b.N), "check_urdf-ms/corpus")
}
