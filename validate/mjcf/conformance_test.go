package mjcf

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/internal/testcorpus"
	"github.com/antimlabs/gizmo/validate"
)

// knownDifferences are the files where gizmo and MuJoCo 3 disagree on
// purpose, keyed by path relative to the corpus or to testdata/conformance,
// with the reason. The test fails when one of them starts to agree, so the
// list stays current.
var knownDifferences = map[string]string{
	"synthetic/mjcf/wrong_root.xml":               "a URDF (<robot> root): MuJoCo reads it as URDF; gizmo's dispatcher sends it to the URDF validator and mjcf.Check refuses a non-<mujoco> root",
	"testdata/conformance/plugin_first_party.xml": "mujoco.pid is a first-party MuJoCo plugin: mujoco-js is built without plugin libraries and refuses it, the Python wheels and release builds load it; gizmo warns",
}

// freshProcess are variants whose verdict depends on MuJoCo's mesh cache,
// which survives across loads in one process: a mesh file loaded before is
// reused without reading its content_type again. They run in a process of
// their own, as a user's simulator would load them.
var freshProcess = map[string]bool{
	"testdata/conformance/mesh_content_type_invalid.xml": true,
}

// conformanceFiles lists the MJCF files of the conformance run: every XML
// in the corpus's mjcf/ (skipped with -short: the Menagerie models load many
// meshes) and synthetic/mjcf/, and the variants in testdata/conformance/
// (top level; inc/ holds files they include). Keys are display names.
func conformanceFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	dirs := []string{"synthetic/mjcf"}
	if !testing.Short() {
		dirs = append(dirs, "mjcf")
	}
	if corpus, ok := corpusIfPresent(t); ok {
		for _, d := range dirs {
			err := filepath.WalkDir(filepath.Join(corpus, d), func(p string, de os.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !de.IsDir() && strings.HasSuffix(p, ".xml") {
					rel, _ := filepath.Rel(corpus, p)
					files[filepath.ToSlash(rel)] = p
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	variants, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range variants {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		files["testdata/conformance/"+filepath.Base(p)] = abs
	}
	return files
}

// corpusIfPresent returns the corpus, or false when it is absent: the test
// then runs the testdata variants only and is skipped at its end (a failure
// with GIZMO_REQUIRE_REFERENCES=1).
func corpusIfPresent(t *testing.T) (string, bool) {
	dir := testcorpus.IfPresent(t)
	return dir, dir != ""
}

// TestConformanceMuJoCo3 runs gizmo and MuJoCo 3.3.8 (mujoco-js) over every
// conformance file: where MuJoCo rejects a file gizmo must report an error,
// where it accepts one gizmo must report none.
func TestConformanceMuJoCo3(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo3)
	files := conformanceFiles(t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = files[n]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var batch []string
	for i, n := range names {
		if !freshProcess[n] {
			batch = append(batch, paths[i])
		}
	}
	batchVerdicts, err := reference.MuJoCo3Batch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := make([]reference.Verdict, len(names))
	for i, n := range names {
		if freshProcess[n] {
			if verdicts[i], err = reference.MuJoCo3(ctx, paths[i]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		verdicts[i], batchVerdicts = batchVerdicts[0], batchVerdicts[1:]
	}
	agree := 0
	for i, n := range names {
		v := verdicts[i]
		r := Check(paths[i], validate.Options{})
		gizmoOK := len(r.Errors) == 0
		first := ""
		if len(r.Errors) > 0 {
			first = r.Errors[0].Message
		}
		same := gizmoOK == v.Accepted
		if same {
			agree++
		}
		mark := "agree"
		if !same {
			mark = "DIFFER"
		}
		t.Logf("%-6s %-60s mujoco=%-5v gizmo=%-5v | mujoco: %.90s | gizmo: %.90s", mark, n, v.Accepted, gizmoOK, v.First(), first)
		reason, known := knownDifferences[n]
		switch {
		case !same && !known:
			t.Errorf("%s: MuJoCo 3 accepted=%v (%s) but gizmo errors=%v", n, v.Accepted, v.First(), r.Errors)
		case same && known:
			t.Errorf("%s is listed as a known difference (%s) but now agrees: remove it from knownDifferences", n, reason)
		case !same:
			t.Logf("       known difference: %s", reason)
		}
		// Variant names carry the verdict MuJoCo gives them: keep them honest.
		if strings.HasPrefix(n, "testdata/") && strings.HasSuffix(n, "_ok.xml") != v.Accepted {
			t.Errorf("%s: file name says accepted=%v, MuJoCo 3 says %v: rename it", n, strings.HasSuffix(n, "_ok.xml"), v.Accepted)
		}
	}
	t.Logf("agreement %d/%d (known differences: %d)", agree, len(names), len(knownDifferences))
	checkRecorded(t, names, verdicts)
}

// recordedFile holds MuJoCo 3.3.8's verdict on every variant of
// testdata/conformance, for machines without Node: one line per file,
// "name<TAB>accepted|rejected<TAB>MuJoCo's message". TestConformanceMuJoCo3
// checks it against MuJoCo and rewrites it with -update.
const recordedFile = "testdata/conformance/mujoco-3.3.8.txt"

type recordedVerdict struct {
	accepted bool
	message  string
}

// readRecorded reads recordedFile, keyed by the variant's file name.
func readRecorded(t *testing.T) map[string]recordedVerdict {
	t.Helper()
	data, err := os.ReadFile(recordedFile)
	if err != nil {
		t.Fatalf("%v (run TestConformanceMuJoCo3 with Node and -update to record it)", err)
	}
	out := map[string]recordedVerdict{}
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || (f[1] != "accepted" && f[1] != "rejected") {
			t.Fatalf("%s:%d: want name<TAB>accepted|rejected<TAB>message, got %q", recordedFile, i+1, line)
		}
		out[f[0]] = recordedVerdict{accepted: f[1] == "accepted", message: f[2]}
	}
	return out
}

// checkRecorded compares MuJoCo's fresh verdicts on the variants with
// recordedFile, or rewrites it with -update.
func checkRecorded(t *testing.T, names []string, verdicts []reference.Verdict) {
	t.Helper()
	var b strings.Builder
	fresh := map[string]recordedVerdict{}
	for i, n := range names {
		if !strings.HasPrefix(n, "testdata/conformance/") {
			continue
		}
		base := strings.TrimPrefix(n, "testdata/conformance/")
		v := recordedVerdict{accepted: verdicts[i].Accepted, message: strings.Join(strings.Fields(verdicts[i].First()), " ")}
		fresh[base] = v
		word := "rejected"
		if v.accepted {
			word = "accepted"
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\n", base, word, v.message)
	}
	if *update {
		if err := os.WriteFile(recordedFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	rec := readRecorded(t)
	for n, v := range fresh {
		if r, ok := rec[n]; !ok || r != v {
			t.Errorf("%s: MuJoCo 3.3.8 says %+v, %s records %+v: rerun with -update", n, v, recordedFile, r)
		}
	}
	for n := range rec {
		if _, ok := fresh[n]; !ok {
			t.Errorf("%s records %s, which is not a variant any more: rerun with -update", recordedFile, n)
		}
	}
}

// TestRecordedVerdicts checks gizmo, without Node, against MuJoCo 3.3.8's
// recorded verdict on every variant (recordedFile), and the record against
// the variant's name.
func TestRecordedVerdicts(t *testing.T) {
	rec := readRecorded(t)
	variants, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.xml"))
	if err != nil || len(variants) == 0 {
		t.Fatalf("no variants: %v", err)
	}
	for _, p := range variants {
		name := filepath.Base(p)
		r, ok := rec[name]
		if !ok {
			t.Errorf("%s has no recorded MuJoCo verdict in %s: run TestConformanceMuJoCo3 with Node and -update", name, recordedFile)
			continue
		}
		if r.accepted != strings.HasSuffix(name, "_ok.xml") {
			t.Errorf("%s: recorded accepted=%v disagrees with its name", name, r.accepted)
		}
		want := r.accepted
		if _, known := knownDifferences["testdata/conformance/"+name]; known {
			want = !want
		}
		rep := Check(p, validate.Options{})
		if got := len(rep.Errors) == 0; got != want {
			t.Errorf("%s: gizmo accepted=%v, MuJoCo 3.3.8 (recorded) %v: %s; gizmo: %v", name, got, r.accepted, r.message, rep.Errors)
		}
	}
}

// TestVariants checks gizmo against the verdict each variant's name records
// (name_ok.xml: MuJoCo 3 accepts it; otherwise it rejects it), which
// TestConformanceMuJoCo3 verifies against MuJoCo itself. It runs without
// Node.
func TestVariants(t *testing.T) {
	variants, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.xml"))
	if err != nil || len(variants) == 0 {
		t.Fatalf("no variants in testdata/conformance: %v", err)
	}
	for _, p := range variants {
		name := filepath.Base(p)
		t.Run(strings.TrimSuffix(name, ".xml"), func(t *testing.T) {
			r := Check(p, validate.Options{})
			want := strings.HasSuffix(name, "_ok.xml")
			if _, known := knownDifferences["testdata/conformance/"+name]; known {
				want = !want // gizmo differs from MuJoCo here on purpose
			}
			if got := len(r.Errors) == 0; got != want {
				t.Errorf("accepted=%v, want %v; errors: %v", got, want, r.Errors)
			}
			for _, e := range r.Errors {
				if e.Line == 0 && e.Rule != "mjcf-read" {
					t.Errorf("error without a line: %v", e)
				}
			}
		})
	}
}
