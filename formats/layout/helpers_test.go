package layout

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/procgen"
	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
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

// mujocoCompile compiles file with MuJoCo 2.2.2's mujoco-compile from its
// folder; success is the word Done (its exit code is 0 even on failure).
// ran is false when mujoco-compile is not installed: the test goes on
// without the check and is skipped at its end (see reftest.Have).
func mujocoCompile(t *testing.T, file string) (ok bool, out string, ran bool) {
	t.Helper()
	if !reftest.Have(t, reference.ToolMuJoCo222) {
		return false, "", false
	}
	bin, err := exec.LookPath("mujoco-compile")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, filepath.Base(file), filepath.Join(t.TempDir(), "out.mjb"))
	cmd.Dir = filepath.Dir(file)
	b, _ := cmd.CombinedOutput()
	return strings.Contains(string(b), "Done"), strings.TrimSpace(string(b)), true
}

// checkURDF runs check_urdf; success is "Successfully Parsed XML". ran is
// false when check_urdf is not installed, as for mujocoCompile.
func checkURDF(t *testing.T, file string) (ok bool, out string, ran bool) {
	t.Helper()
	if !reftest.Have(t, reference.ToolCheckURDF) {
		return false, "", false
	}
	bin, err := exec.LookPath("check_urdf")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, _ := exec.CommandContext(ctx, bin, file).CombinedOutput()
	return strings.Contains(string(b), "Successfully Parsed XML"), strings.TrimSpace(string(b)), true
}

func hashBytes(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
