package urdf

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/validate"
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

// bigURDF generates a chain of n links, about 300 bytes a link.
func bigURDF(n int) []byte {
	var b []byte
	b = append(b, "<robot name=\"big\">\n"...)
	for i := 0; i < n; i++ {
		b = fmt.Appendf(b, "  <link name=\"l%d\">\n    <inertial><mass value=\"1\"/><inertia ixx=\"1\" ixy=\"0\" ixz=\"0\" iyy=\"1\" iyz=\"0\" izz=\"1\"/></inertial>\n  </link>\n", i)
	}
	for i := 1; i < n; i++ {
		b = fmt.Appendf(b, "  <joint name=\"j%d\" type=\"revolute\">\n    <parent link=\"l%d\"/>\n    <child link=\"l%d\"/>\n    <limit lower=\"-1\" upper=\"1\" effort=\"1\" velocity=\"1\"/>\n  </joint>\n", i, i-1, i)
	}
	return append(b, "</robot>\n"...)
}

// BenchmarkCheckURDFLarge validates one generated URDF of about 600 KB
// (2000 links and joints): MB/s here shows whether reading scales linearly
// with the file.
func BenchmarkCheckURDFLarge(b *testing.B) {
	data := bigURDF(2000)
	dir := b.TempDir()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if r := CheckBytes("big.urdf", data, dir, validate.Options{}); len(r.Errors) > 0 {
			b.Fatal(r.Errors[0])
		}
	}
}
