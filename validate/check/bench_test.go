package check

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/internal/testcorpus"
	"github.com/antimlabs/gizmo/validate"
)

// corpusDir finds ../shared/corpus next to the repository root, or
// $GIZMO_CORPUS; the benchmark skips without it.
func corpusDir(tb testing.TB) string {
	return testcorpus.Dir(tb)
}

// BenchmarkValidateCorpus is one `gizmo validate` run over the whole shared
// corpus (URDF, MJCF with includes, meshes looked up), set against the
// reference parsers over the same model files: check_urdf once per URDF and
// MuJoCo 3.3.8 (mujoco-js, one Node process for all MJCF models). It
// reports MB/s of model XML and how many times faster gizmo is.
func BenchmarkValidateCorpus(b *testing.B) {
	root := corpusDir(b)
	reftest.Require(b, reference.ToolCheckURDF)
	reftest.Require(b, reference.ToolMuJoCo3)
	ctx := context.Background()
	reports, err := Path(ctx, root, validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var urdfs, mjcfs []string
	var size int64
	for _, r := range reports {
		switch r.Format {
		case formats.KindURDF:
			urdfs = append(urdfs, r.Path)
		case formats.KindMJCF:
			mjcfs = append(mjcfs, r.Path)
		default:
			continue
		}
		if fi, err := os.Stat(r.Path); err == nil {
			size += fi.Size()
		}
	}
	b.SetBytes(size)
	var gizmo, ref time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := Path(ctx, root, validate.Options{}); err != nil {
			b.Fatal(err)
		}
		gizmo += time.Since(start)
		b.StopTimer() // ns/op and MB/s are gizmo's alone
		start = time.Now()
		for _, p := range urdfs {
			if _, err := reference.CheckURDF(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := reference.MuJoCo3Batch(ctx, mjcfs); err != nil {
			b.Fatal(err)
		}
		ref += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(len(urdfs)+len(mjcfs)), "models")
	b.ReportMetric(float64(gizmo.Milliseconds())/float64(b.N), "gizmo-ms")
	b.ReportMetric(float64(ref.Milliseconds())/float64(b.N), "references-ms")
	b.ReportMetric(float64(ref)/float64(gizmo), "x-faster")
}
