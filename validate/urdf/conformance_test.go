package urdf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/validate"
)

// corpusDir finds ../shared/corpus relative to the repository root, or
// $GIZMO_CORPUS.
func corpusDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("GIZMO_CORPUS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			c := filepath.Join(filepath.Dir(d), "shared", "corpus")
			if _, err := os.Stat(c); err != nil {
				t.Skipf("corpus not found at %s (set GIZMO_CORPUS)", c)
			}
			return c
		}
		if filepath.Dir(d) == d {
			t.Skip("repository root not found")
		}
	}
}

// corpusURDFs lists every .urdf file under the corpus.
func corpusURDFs(t testing.TB) []string {
	root := corpusDir(t)
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".urdf") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	if len(out) == 0 {
		t.Skipf("no URDF files under %s", root)
	}
	return out
}

// checkURDF runs urdfdom's check_urdf. A file counts as rejected when it
// fails or when check_urdf prints any error line (urdfdom logs link-level
// errors and still returns the model).
func checkURDF(ctx context.Context, path string) (accepted bool, first string, err error) {
	cmd := exec.CommandContext(ctx, "check_urdf", path)
	cmd.Dir = filepath.Dir(path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return false, "", ctx.Err()
	}
	parsed := strings.Contains(out.String(), "Successfully Parsed XML")
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "Error") || strings.HasPrefix(line, "ERROR") {
			if first == "" {
				first = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "Error:"), "ERROR:"))
			}
			parsed = false
		}
	}
	if runErr != nil {
		if _, ok := runErr.(*exec.ExitError); !ok {
			return false, "", runErr
		}
		parsed = false
	}
	return parsed, first, nil
}

// deliberate lists the rules where gizmo is stricter than urdfdom on
// purpose, with the reason.
var deliberate = map[string]string{
	"urdf-mesh-missing": "urdfdom never opens mesh files; Isaac Sim's importer does and skips geometry it cannot find, so gizmo reports it (issue: meshes that do not resolve are errors)",
}

// knownDifferences lists files on which gizmo and urdfdom still disagree,
// with the reason (the issue asks to list them rather than bend the
// validator).
var knownDifferences = map[string]string{}

func TestConformanceCheckURDF(t *testing.T) {
	if _, err := exec.LookPath("check_urdf"); err != nil {
		t.Skip("check_urdf not installed (apt-get install liburdfdom-tools); skipping the urdfdom conformance test")
	}
	files := corpusURDFs(t)
	variants, _ := filepath.Glob(filepath.Join("testdata", "conformance", "*.urdf"))
	sort.Strings(variants)
	files = append(files, variants...)
	root := corpusDir(t)

	type row struct {
		file, ref, gizmo, note string
		agree                  bool
	}
	var rows []row
	agree, deliberateN := 0, 0
	for _, f := range files {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		acc, first, err := checkURDF(ctx, f)
		cancel()
		if err != nil {
			t.Fatalf("check_urdf %s: %v", f, err)
		}
		rep := Check(f, validate.Options{})
		var hard, soft []validate.Problem
		for _, p := range rep.Errors {
			if _, ok := deliberate[p.Rule]; ok {
				soft = append(soft, p)
			} else {
				hard = append(hard, p)
			}
		}
		name := f
		if rel, err := filepath.Rel(root, f); err == nil && !strings.HasPrefix(rel, "..") {
			name = rel
		}
		r := row{file: name, ref: "accept", gizmo: "ok"}
		if !acc {
			r.ref = "reject: " + first
		}
		if len(rep.Errors) > 0 {
			r.gizmo = fmt.Sprintf("%d errors: %s", len(rep.Errors), rep.Errors[0].Message)
		}
		switch {
		case !acc && len(hard)+len(soft) > 0, acc && len(rep.Errors) == 0:
			r.agree = true
			agree++
		case acc && len(hard) == 0:
			r.note = "deliberate: " + deliberate[soft[0].Rule]
			deliberateN++
		default:
			if why, ok := knownDifferences[name]; ok {
				r.note = "known difference: " + why
			} else if acc {
				t.Errorf("%s: check_urdf accepts it but gizmo reports errors: %v", name, hard)
			} else {
				t.Errorf("%s: check_urdf rejects it (%s) but gizmo reports no error", name, first)
			}
		}
		rows = append(rows, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-75s | %-6s | %s\n", "file", "agree", "check_urdf / gizmo")
	for _, r := range rows {
		mark := "yes"
		if !r.agree {
			mark = "NO"
		}
		fmt.Fprintf(&b, "%-75s | %-6s | %.70s / %.90s %s\n", r.file, mark, r.ref, r.gizmo, r.note)
	}
	t.Logf("agreement table:\n%s", b.String())
	t.Logf("agreement %d/%d (%d deliberate differences: missing mesh files, see deliberate)", agree, len(rows), deliberateN)
}
