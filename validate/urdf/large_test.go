package urdf

import (
	"fmt"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/validate"
)

// TestLargeModels checks models with very many links: every message stays
// short (a model with 2 M unconnected links printed every name, 22 MB
// on one line), a long cycle is reported without a cost
// quadratic in its length, and the tree of a 100,000-link chain is built
// without recursing 100,000 calls deep.
func TestLargeModels(t *testing.T) {
	const n = 100000
	link := func(i int) string { return fmt.Sprintf("<link name=\"l%d\"/>\n", i) }
	joint := func(name string, parent, child int) string {
		return fmt.Sprintf("<joint name=%q type=\"fixed\"><parent link=\"l%d\"/><child link=\"l%d\"/></joint>\n", name, parent, child)
	}
	var roots, cycle, chain strings.Builder
	for _, b := range []*strings.Builder{&roots, &cycle, &chain} {
		b.WriteString("<robot name=\"r\">\n")
		for i := range n {
			b.WriteString(link(i))
		}
	}
	// cycle: l0 is the root; l1 → l2 → ... → l(n-1) → l1.
	cycle.WriteString(joint("a", 0, 1))
	for i := 1; i < n; i++ {
		cycle.WriteString(joint(fmt.Sprintf("c%d", i), i, i%(n-1)+1))
		chain.WriteString(joint(fmt.Sprintf("c%d", i), i-1, i))
	}
	for _, b := range []*strings.Builder{&roots, &cycle, &chain} {
		b.WriteString("</robot>\n")
	}
	tests := []struct {
		name, doc, rule, says string
	}{
		{"roots", roots.String(), "urdf-tree", `"l10004", … and 99990 more`},
		{"cycle", cycle.String(), "urdf-tree-cycle", `"l10" → … and 99990 more`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := CheckBytes("big.urdf", []byte(tt.doc), t.TempDir(), validate.Options{})
			found := false
			for _, p := range append(r.Errors, r.Warnings...) {
				if len(p.Message) > validate.MaxMessage+100 {
					t.Errorf("%s: a message of %d bytes", p.Rule, len(p.Message))
				}
				if p.Rule == tt.rule && strings.Contains(p.Message, tt.says) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s problem saying %q: %+v", tt.rule, tt.says, append(r.Errors, r.Warnings...))
			}
		})
	}
	t.Run("chain tree", func(t *testing.T) {
		root, err := TreeBytes("chain.urdf", []byte(chain.String()))
		if err != nil {
			t.Fatal(err)
		}
		if d := root.Depth(); d != n-1 {
			t.Errorf("depth %d, want %d", d, n-1)
		}
	})
}
