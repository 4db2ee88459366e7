package deptest

import (
	"fmt"
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

// floors are the layers of the module, ground floor first: each tree (a
// top-level folder, or internal/) may import, directly or through other
// packages, only the trees its row allows (itself included). Every package
// of the module must sit on one floor. README.md's "Architecture" section
// draws the same map.
var floors = []struct {
	tree    string
	allowed []string
}{
	{"internal", []string{"internal"}},
	{"formats", []string{"formats", "internal"}},
	{"validate", []string{"validate", "formats", "internal"}},
	{"cache", []string{"cache", "formats", "internal"}},
	{"sync", []string{"sync", "cache", "formats", "internal"}},
	{"cmd", []string{"cmd", "sync", "cache", "validate", "formats", "internal"}},
}

// forbidden refines the floors inside a tree: for each package prefix, the
// prefixes it must not import, directly or through other packages of the
// module. Test files do not count.
var forbidden = []struct {
	pkg    string
	denied []string
}{
	// The agent sits above prepare and the sync engine; only the command
	// imports it (the rule below).
	{"sync/prepare", []string{"sync/agent"}},
	{"internal/testreq", []string{"internal/testcorpus"}},
	{"internal/locklog", []string{"internal"}},
	{"internal/plural", []string{"internal"}},
}

// onlyImportedBy names packages that only the listed trees (and the
// package's own subtree) may import.
var onlyImportedBy = []struct {
	pkg string
	by  []string
}{
	{"sync/agent", []string{"cmd"}},
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

// violations checks a package graph (each package's direct imports of the
// module's packages) against the rules and says what breaks them.
func violations(direct map[string][]string) []string {
	var out []string
	pkgs := make([]string, 0, len(direct))
	for pkg := range direct {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		deps := closure(direct, pkg)
		floor := -1
		for i, f := range floors {
			if under(pkg, f.tree) {
				floor = i
			}
		}
		if floor < 0 {
			out = append(out, fmt.Sprintf("%s is on no floor: add its tree to floors (and to README.md's Architecture)", pkg))
			continue
		}
		f := floors[floor]
		for _, dep := range deps {
			ok := false
			for _, a := range f.allowed {
				ok = ok || under(dep, a)
			}
			if !ok && !pending[[2]string{pkg, dep}] {
				out = append(out, fmt.Sprintf("%s depends on %s: %s may import only %s", pkg, dep, f.tree, strings.Join(f.allowed, ", ")))
			}
		}
		for _, rule := range forbidden {
			if !under(pkg, rule.pkg) {
				continue
			}
			for _, dep := range deps {
				if under(dep, rule.pkg) {
					continue // its own subpackages, e.g. sync/api under sync
				}
				for _, d := range rule.denied {
					if under(dep, d) && !pending[[2]string{pkg, d}] {
						out = append(out, fmt.Sprintf("%s depends on %s: %s must not depend on %s", pkg, dep, rule.pkg, d))
					}
				}
			}
		}
		for _, rule := range onlyImportedBy {
			if under(pkg, rule.pkg) {
				continue
			}
			allowed := false
			for _, b := range rule.by {
				allowed = allowed || under(pkg, b)
			}
			for _, dep := range deps {
				if under(dep, rule.pkg) && !allowed && !pending[[2]string{pkg, rule.pkg}] {
					out = append(out, fmt.Sprintf("%s depends on %s: only %s may import %s", pkg, dep, strings.Join(rule.by, ", "), rule.pkg))
				}
			}
		}
	}
	return out
}

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
	for _, v := range violations(direct) {
		t.Error(v)
	}
}

// TestRulesCatch feeds the rules graphs that break each of them, so a rule
// that stopped firing is noticed.
func TestRulesCatch(t *testing.T) {
	tests := []struct {
		name   string
		direct map[string][]string
		want   string // a fragment of a violation expected
	}{
		{"internal imports above it", map[string][]string{"internal/x": {"cache"}, "cache": nil}, "internal may import only internal"},
		{"formats imports validate", map[string][]string{"formats/layout": {"validate"}, "validate": nil}, "formats may import only"},
		{"validate imports cache", map[string][]string{"validate/mjcf": {"cache"}, "cache": nil}, "validate may import only"},
		{"cache imports sync", map[string][]string{"cache": {"sync"}, "sync": nil}, "cache may import only"},
		{"sync imports validate", map[string][]string{"sync/oci": {"validate/check"}, "validate/check": nil}, "sync may import only"},
		{"sync imports cmd", map[string][]string{"sync": {"cmd/gizmo"}, "cmd/gizmo": nil}, "sync may import only"},
		{"prepare imports the agent", map[string][]string{"sync/prepare": {"sync/agent"}, "sync/agent": nil}, "sync/prepare must not depend on sync/agent"},
		{"the engine imports the agent", map[string][]string{"sync/api": {"sync/agent"}, "sync/agent": nil}, "only cmd may import sync/agent"},
		{"through another package", map[string][]string{"internal/a": {"internal/b"}, "internal/b": {"formats"}, "formats": nil}, "internal/a depends on formats"},
		{"a new top-level tree", map[string][]string{"tools/x": nil}, "on no floor"},
		{"plural imports internal", map[string][]string{"internal/plural": {"internal/termtext"}, "internal/termtext": nil}, "internal/plural must not depend on internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := violations(tt.direct)
			found := false
			for _, v := range got {
				found = found || strings.Contains(v, tt.want)
			}
			if !found {
				t.Errorf("violations = %q, want one containing %q", got, tt.want)
			}
		})
	}
	// The module's own shape passes.
	ok := map[string][]string{
		"cmd/gizmo": {"sync/agent", "validate/check", "cache"}, "sync/agent": {"sync/prepare"},
		"sync/prepare": {"sync", "formats/layout"}, "sync": {"cache", "internal/backoff"}, "cache": {"formats", "internal/archive"},
		"validate/check": {"validate", "formats", "internal/archive"}, "validate": {"internal/xmlpos"},
		"formats/layout": {"formats", "internal/xmlpos"}, "formats": nil, "internal/archive": nil, "internal/backoff": nil, "internal/xmlpos": nil,
	}
	if got := violations(ok); len(got) != 0 {
		t.Errorf("a graph that keeps the rules: %q", got)
	}
}
