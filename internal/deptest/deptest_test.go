package deptest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/antimlabs/gizmo"

// forbidden lists, for each package prefix, the prefixes it must not import,
// directly or through other packages of the module. Test files do not count.
var forbidden = []struct {
	pkg    string
	denied []string
}{
	{"formats", []string{"cache", "sync", "cmd"}},
	{"validate", []string{"cache", "sync", "cmd"}},
	{"cache", []string{"sync", "validate", "cmd"}},
	{"sync", []string{"validate", "cmd"}},
	{"internal/exitcode", []string{"cache", "sync", "validate", "formats", "cmd"}},
	{"internal/backoff", []string{"cache", "sync", "validate", "formats", "cmd"}},
	{"internal/archive", []string{"cache", "sync", "validate", "formats", "cmd"}},
	{"internal/atomicfile", []string{"cache", "sync", "validate", "formats", "cmd"}},
	{"internal/testcorpus", []string{"cache", "sync", "validate", "formats", "cmd"}},
	{"internal/testreq", []string{"cache", "sync", "validate", "formats", "cmd", "internal/testcorpus"}},
	// The agent sits above prepare and the sync engine; only the command
	// imports it.
	{"sync/prepare", []string{"sync/agent", "cmd"}},
	{"internal/lockedfile", []string{"cache", "sync", "validate", "formats", "cmd"}},
	{"internal/xmlpos", []string{"cache", "sync", "validate", "formats", "cmd"}},
	{"internal/reference", []string{"cache", "sync", "validate", "formats", "cmd"}},
	{"internal/testhook", []string{"cache", "sync", "validate", "formats", "cmd"}},
	{"internal/locklog", []string{"cache", "sync", "validate", "formats", "cmd", "internal/"}},
	{"internal/plural", []string{"cache", "sync", "validate", "formats", "cmd", "internal/"}},
}

// imports reads every non-test Go file under root (files are read, not go
// listed, so the test cache sees changes) and returns each package's direct
// imports of module packages, as paths relative to the module.
func imports(t *testing.T, root string) map[string][]string {
	fset := token.NewFileSet()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if _, ok := out[rel]; !ok {
			out[rel] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module+"/") {
				out[rel] = append(out[rel], strings.TrimPrefix(p, module+"/"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// closure returns every module package pkg depends on.
func closure(direct map[string][]string, pkg string) []string {
	seen := map[string]bool{}
	var visit func(p string)
	visit = func(p string) {
		for _, d := range direct[p] {
			if !seen[d] {
				seen[d] = true
				visit(d)
			}
		}
	}
	visit(pkg)
	var all []string
	for d := range seen {
		all = append(all, d)
	}
	sort.Strings(all)
	return all
}

// pending lists dependencies that break a rule today and are being removed;
// each entry names the package and the dependency. Keep it empty.
var pending = map[[2]string]bool{}

func under(p, prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }

func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	direct := imports(t, root)
	if len(direct) < 5 {
		t.Fatalf("found only %d packages under %s", len(direct), root)
	}
	for pkg := range direct {
		for _, rule := range forbidden {
			if !under(pkg, rule.pkg) {
				continue
			}
			for _, dep := range closure(direct, pkg) {
				if under(dep, rule.pkg) {
					continue // its own subpackages, e.g. sync/api under sync
				}
				for _, d := range rule.denied {
					if under(dep, d) && !pending[[2]string{pkg, d}] {
						t.Errorf("%s depends on %s: %s must not depend on %s", pkg, dep, rule.pkg, d)
					}
				}
			}
		}
	}
}
