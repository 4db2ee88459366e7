package cache

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/testcorpus"
)

// corpusDir locates the shared robot corpus: $GIZMO_CORPUS, else
// ../shared/corpus next to the repository root (found by walking up to
// go.mod); the test is skipped when it is absent.
func corpusDir(t *testing.T) string {
	return testcorpus.Dir(t)
}

// zipFolder zips dir's files, under prefix ("" for the top level).
func zipFolder(t *testing.T, dir, prefix string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		// Stored, not deflated: the test is about the tree, not about zlib.
		w, err := zw.CreateHeader(&zip.FileHeader{Name: path.Join(prefix, filepath.ToSlash(rel)), Method: zip.Store})
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// eachFile calls f with the slash path and bytes of every file under dir.
func eachFile(t *testing.T, dir string, f func(rel string, data []byte)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f(filepath.ToSlash(rel), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStoreCorpusMJCF stores every MuJoCo Menagerie model of the corpus as
// a zip (files at the top level, and inside one folder) and checks that the
// model file picked is the scene that includes the robot, that every file
// is shown by Files and then, once unpacked, in the tree byte for byte, and
// that verify is clean.
func TestStoreCorpusMJCF(t *testing.T) {
	root := filepath.Join(corpusDir(t), "mjcf")
	models, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	c := openTest(t)
	n, mi := 0, 0
	for _, m := range models {
		if !m.IsDir() {
			continue
		}
		mi++
		dir := filepath.Join(root, m.Name())
		for _, prefix := range []string{"", m.Name()} {
			// The one-folder variant for two models is enough (all with GIZMO_LONG=1).
			if prefix != "" && (testing.Short() || mi > 2) && os.Getenv("GIZMO_LONG") == "" {
				continue
			}
			data := zipFolder(t, dir, prefix)
			id := "ast_" + m.Name() + "_" + prefix
			e, err := c.Store(context.Background(), id, string(formats.MuJoCo), bytesFetch(data, ""))
			if err != nil {
				t.Errorf("%s: %v", m.Name(), err)
				continue
			}
			n++
			if !strings.HasPrefix(path.Base(e.Model), "scene") || path.Dir(e.Model) != strings.TrimSuffix(prefix, "/")+map[bool]string{true: ".", false: ""}[prefix == ""] {
				t.Errorf("%s (prefix %q): model %s, want the scene file", m.Name(), prefix, e.Model)
			}
			if e.ModelKind != formats.KindMJCF {
				t.Errorf("%s: model kind %s", m.Name(), e.ModelKind)
			}
			// Every corpus file is shown by Files before the tree exists,
			// and is in the tree once unpacked, byte for byte.
			ov, closer, err := c.Files(e)
			if err != nil {
				t.Fatalf("%s: Files: %v", m.Name(), err)
			}
			eachFile(t, dir, func(rel string, want []byte) {
				rc, err := ov.Open(filepath.Join(c.TreePath(e), prefix, rel))
				var got []byte
				if err == nil {
					got, err = io.ReadAll(rc)
					rc.Close()
				}
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: %s differs in Files (%v)", m.Name(), rel, err)
				}
			})
			closer.Close()
			if _, err := os.Lstat(c.TreePath(e)); err == nil {
				t.Errorf("%s: Store or Files made the tree", m.Name())
			}
			unpack(t, c, e)
			eachFile(t, dir, func(rel string, want []byte) {
				got, err := os.ReadFile(filepath.Join(c.TreePath(e), prefix, rel))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: %s differs in the tree (%v)", m.Name(), rel, err)
				}
			})
		}
	}
	if n == 0 {
		t.Fatal("no models stored")
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify: %v %v", ps, err)
	}
}
