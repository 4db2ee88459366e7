package check

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/procgen"
	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/validate"
)

// syncModel is one procedural export as gizmo sync validates it: the model
// file's path in its (never extracted) tree and the overlay showing the zip
// there.
type syncModel struct {
	path string
	fs   *archive.Overlay
	size int64 // the model file's bytes
}

// syncModels exports n robots of every procedural kind in format f and
// shows each zip under a tree of its own, as cache.StoreChecked does.
func syncModels(tb testing.TB, n int, f formats.Format) []syncModel {
	tb.Helper()
	ext := map[formats.Format]string{formats.IsaacURDF: ".urdf", formats.MuJoCo: ".xml"}[f]
	root := tb.TempDir()
	var out []syncModel
	for i := 0; i < n; i++ {
		for _, kind := range procgen.Kinds {
			id := fmt.Sprintf("ast_%s_%d", kind, i)
			r := procgen.Generate(id, fmt.Sprintf("%s %d", kind, i), procgenPrompts[kind])
			body, _, err := r.Export(f)
			if err != nil {
				tb.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
			if err != nil {
				tb.Fatal(err)
			}
			tree := filepath.Join(root, id, string(f))
			m := syncModel{path: filepath.Join(tree, r.Slug()+ext), fs: archive.NewOverlay(tree, zr)}
			if fi, err := m.fs.Stat(m.path); err == nil {
				m.size = fi.Size()
			}
			out = append(out, m)
		}
	}
	return out
}

// BenchmarkSyncProcgen validates procedural URDF and MJCF exports the way
// gizmo sync does (check.Path on the model file, read through an
// overlay of the downloaded zip). One op is one model; MB/s counts model
// XML.
func BenchmarkSyncProcgen(b *testing.B) {
	for _, f := range []formats.Format{formats.IsaacURDF, formats.MuJoCo} {
		b.Run(string(f), func(b *testing.B) {
			models := syncModels(b, 10, f)
			var size int64
			for _, m := range models {
				size += m.size
			}
			b.SetBytes(size / int64(len(models)))
			b.ReportAllocs()
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m := models[i%len(models)]
				reps, err := Path(ctx, m.path, validate.Options{FS: m.fs})
				if err != nil || len(reps) != 1 || !reps[0].Valid {
					b.Fatalf("%s: %v %+v", m.path, err, reps)
				}
			}
		})
	}
}
