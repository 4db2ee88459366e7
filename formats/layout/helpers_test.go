package layout

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/procgen"
	"github.com/antimlabs/gizmo/internal/testcorpus"
)

// corpusDir finds the shared robot corpus (../shared/corpus from the
// repository root, or $GIZMO_CORPUS), or skips.
func corpusDir(t testing.TB) string {
	return testcorpus.Dir(t)
}

// corpusIfPresent returns the corpus folder, or "" when it is absent (the
// test goes on, and is skipped at its end: see testcorpus.IfPresent).
func corpusIfPresent(t testing.TB) string {
	return testcorpus.IfPresent(t)
}

// procgenSource writes a procedural robot's export into a folder, as the
// cache would extract it, and returns it as a Source.
func procgenSource(t testing.TB, id, name, prompt string, f formats.Format) Source {
	t.Helper()
	body, filename, err := procgen.Generate(id, name, prompt).Export(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tree")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := Source{Format: f, Hash: sha(body), Tree: dir}
	if formats.Detect(body) != formats.KindZip {
		if err := os.WriteFile(filepath.Join(dir, filename), body, 0o444); err != nil {
			t.Fatal(err)
		}
		src.Model = filename
		return src
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		p := filepath.Join(dir, filepath.FromSlash(zf.Name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b.Bytes(), 0o444); err != nil {
			t.Fatal(err)
		}
		if k := formats.Detect(b.Bytes()); k == formats.KindURDF || k == formats.KindMJCF {
			src.Model = zf.Name
		}
	}
	return src
}

func sha(b []byte) string { return hashBytes(b) }

func hashBytes(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
