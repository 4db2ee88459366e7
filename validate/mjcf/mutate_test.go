package mjcf

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/validate"
)

// mirror recreates src's tree under dst with symbolic links to its files,
// leaving out skip (relative to src).
func mirror(t *testing.T, src, dst, skip string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if rel == skip {
			return nil
		}
		return os.Symlink(p, target)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// allElems lists e and every element below it.
func allElems(e *etree.Element, out *[]*etree.Element) {
	*out = append(*out, e)
	for _, k := range e.ChildElements() {
		allElems(k, out)
	}
}

// numVariants are the odd values mutants get.
var numVariants = []string{"0", "-1", "1 2 3 4 5 6 7", "1", "nan", "1e400", "0 0 0", "-1 -1 -1", "1 0", "0 0 0 0", "abc", ""}

// mutate changes doc once, at random, and says how.
func mutate(rng *rand.Rand, doc *etree.Document) string {
	var els []*etree.Element
	allElems(doc.Root(), &els)
	names := []string{}
	for _, e := range els {
		if a := e.SelectAttr("name"); a != nil {
			names = append(names, a.Value)
		}
	}
	for tries := 0; tries < 50; tries++ {
		e := els[rng.Intn(len(els))]
		switch rng.Intn(11) {
		case 8, 9:
			if spec := findSpec(e); spec != nil && len(spec.attrs) > 0 {
				keys := []string{}
				for k := range spec.attrs {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				k := keys[rng.Intn(len(keys))]
				if k == "content_type" {
					continue // MuJoCo's mesh cache makes its verdict depend on load order
				}
				as := spec.attrs[k]
				v := sampleValue(as)
				if rng.Intn(2) == 0 {
					v = numVariants[rng.Intn(len(numVariants))]
				}
				if as.kind == kindText && len(names) > 0 && rng.Intn(2) == 0 {
					v = names[rng.Intn(len(names))]
				}
				e.CreateAttr(k, v)
				return fmt.Sprintf("add %s@%s=%q", e.Tag, k, v)
			}
		case 10:
			if spec := findSpec(e); spec != nil && len(spec.children) > 0 {
				cs := spec.children[rng.Intn(len(spec.children))]
				k := e.CreateElement(cs.name)
				for a, as := range cs.attrs {
					if as.required || rng.Intn(4) == 0 {
						v := sampleValue(as)
						if as.kind == kindText && len(names) > 0 {
							v = names[rng.Intn(len(names))]
						}
						k.CreateAttr(a, v)
					}
				}
				return "add child " + e.Tag + "/" + cs.name
			}
		case 0:
			if len(e.Attr) > 0 {
				a := e.Attr[rng.Intn(len(e.Attr))]
				e.RemoveAttr(a.Key)
				return "del attr " + e.Tag + "@" + a.Key
			}
		case 1, 2:
			if len(e.Attr) > 0 {
				a := &e.Attr[rng.Intn(len(e.Attr))]
				v := numVariants[rng.Intn(len(numVariants))]
				old := a.Value
				a.Value = v
				return fmt.Sprintf("set %s@%s %q -> %q", e.Tag, a.Key, old, v)
			}
		case 3:
			for i := range e.Attr {
				for _, n := range names {
					if e.Attr[i].Value == n && e.Attr[i].Key != "name" {
						e.Attr[i].Value = "zz"
						return "rename ref " + e.Tag + "@" + e.Attr[i].Key
					}
				}
			}
		case 4:
			if p := e.Parent(); p != nil && e != doc.Root() {
				p.RemoveChild(e)
				return "delete " + e.Tag
			}
		case 5:
			if p := e.Parent(); p != nil && e != doc.Root() {
				p.AddChild(e.Copy())
				return "duplicate " + e.Tag
			}
		case 6:
			if spec := findSpec(e); spec != nil {
				for k, as := range spec.attrs {
					if as.kind == kindKeyword && rng.Intn(3) == 0 {
						v := as.keywords[rng.Intn(len(as.keywords))]
						e.CreateAttr(k, v)
						return fmt.Sprintf("keyword %s@%s=%s", e.Tag, k, v)
					}
				}
			}
		case 7:
			if p := e.Parent(); p != nil && e != doc.Root() {
				q := els[rng.Intn(len(els))]
				if q != e && !isAncestor(e, q) {
					p.RemoveChild(e)
					q.AddChild(e)
					return "move " + e.Tag + " into " + q.Tag
				}
			}
		}
	}
	return "none"
}

func isAncestor(a, b *etree.Element) bool {
	for x := b; x != nil; x = x.Parent() {
		if x == a {
			return true
		}
	}
	return false
}

// findSpec is the table row of e, by its path from the root.
func findSpec(e *etree.Element) *elemSpec {
	var path []string
	for x := e; x != nil && x.Tag != ""; x = x.Parent() {
		path = append([]string{x.Tag}, path...)
	}
	s := schemaRoot
	for _, p := range path[1:] {
		if s = s.child(p); s == nil {
			return nil
		}
	}
	return s
}

// TestMutantsMuJoCo3 is a differential test: it mutates accepted models
// (three small Menagerie models and every *_ok variant) at random — attributes
// deleted, set to odd numbers or other keywords, references renamed, elements
// deleted, duplicated, moved or added from the schema — and asks gizmo and
// MuJoCo 3.3.8 about each mutant. Every disagreement is an error. It runs
// only when GIZMO_MUTANTS gives the number of mutants (about 0.4 s each);
// GIZMO_MUTANT_SEED picks the seed (default 1). Most rules of this package
// were found this way.
func TestMutantsMuJoCo3(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GIZMO_MUTANTS"))
	if n <= 0 {
		t.Skip("set GIZMO_MUTANTS=100 (and optionally GIZMO_MUTANT_SEED) to run the MuJoCo 3 mutation test")
	}
	reftest.Require(t, reference.ToolMuJoCo3)
	var seeds []string
	if corpus, ok := corpusIfPresent(t); ok {
		for _, m := range []string{"skydio_x2/x2.xml", "trossen_wx250s/wx250s.xml", "wonik_allegro/right_hand.xml"} {
			seeds = append(seeds, filepath.Join(corpus, "mjcf", m))
		}
	}
	oks, _ := filepath.Glob(filepath.Join("testdata", "conformance", "*_ok.xml"))
	for _, p := range oks {
		if _, known := knownDifferences["testdata/conformance/"+filepath.Base(p)]; !known {
			abs, _ := filepath.Abs(p)
			seeds = append(seeds, abs)
		}
	}
	seed := int64(1)
	if v, err := strconv.ParseInt(os.Getenv("GIZMO_MUTANT_SEED"), 10, 64); err == nil {
		seed = v
	}
	rng := rand.New(rand.NewSource(seed))
	tmp := t.TempDir()
	var paths, descs []string
	for i := 0; i < n; i++ {
		model := seeds[rng.Intn(len(seeds))]
		doc := etree.NewDocument()
		if err := doc.ReadFromFile(model); err != nil {
			t.Fatal(err)
		}
		d := mutate(rng, doc)
		if rng.Intn(2) == 0 {
			d += "; " + mutate(rng, doc)
		}
		dst := filepath.Join(tmp, fmt.Sprint(i))
		mirror(t, filepath.Dir(model), dst, filepath.Base(model))
		p := filepath.Join(dst, filepath.Base(model))
		if err := doc.WriteToFile(p); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		descs = append(descs, filepath.Base(model)+": "+d)
	}
	vs, err := reference.MuJoCo3Batch(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	agree := 0
	for i, p := range paths {
		r := Check(p, validate.Options{})
		if vs[i].Accepted == r.Valid {
			agree++
			continue
		}
		first := ""
		if len(r.Errors) > 0 {
			first = r.Errors[0].String()
		}
		t.Errorf("mutant %s (%s): MuJoCo 3 accepted=%v (%s), gizmo: %s", filepath.Base(filepath.Dir(p)), descs[i], vs[i].Accepted, vs[i].First(), strings.ReplaceAll(first, tmp, ""))
	}
	t.Logf("agreement %d/%d (seed %d)", agree, n, seed)
}
