package urdf

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/antimlabs/gizmo/validate"
)

// Tree returns the kinematic tree of the URDF at path: the root link, and
// below each link the links its joints carry, in document order. It fails
// when the file has errors that leave no single tree (not well-formed, bad
// joints, several roots, a cycle); the error names the first problem.
func Tree(path string) (*validate.TreeNode, error) {
	data, err := readFile(path, validate.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return TreeBytes(path, data)
}

// TreeBytes is Tree for a document already in memory.
func TreeBytes(name string, data []byte) (*validate.TreeNode, error) {
	m, r := parse(name, data, filepath.Dir(name), validate.Options{}, false)
	if m != nil {
		m.checkTree()
	}
	if m == nil || m.fatal || len(r.Errors) > 0 && treeBroken(r.Errors) {
		if len(r.Errors) > 0 {
			return nil, fmt.Errorf("no kinematic tree: %s (run gizmo validate for every problem)", r.Errors[0])
		}
		return nil, fmt.Errorf("%s: no kinematic tree", name)
	}
	parentOf := map[string]bool{}
	kids := map[string][]*joint{}
	for _, j := range m.joints {
		if parentOf[j.child] {
			continue // a second parent: urdfdom keeps one, so does the tree
		}
		parentOf[j.child] = true
		kids[j.parent] = append(kids[j.parent], j)
	}
	var root *link
	for _, l := range m.links {
		if !parentOf[l.name] {
			root = l
			break
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%s: no root link", name)
	}
	// Built with a stack of its own, not by recursion: a chain of a
	// million links is a million levels deep.
	seen := map[string]bool{root.name: true}
	top := m.treeNode(root, nil)
	type frame struct {
		l *link
		n *validate.TreeNode
	}
	stack := []frame{{root, top}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		start := len(stack)
		for _, j := range kids[f.l.name] {
			c := m.linkByName[j.child]
			if c == nil || seen[c.name] {
				continue
			}
			seen[c.name] = true
			n := m.treeNode(c, j)
			f.n.Children = append(f.n.Children, n)
			stack = append(stack, frame{c, n})
		}
		// Children are taken from the stack's end: reverse them so that
		// the first child's subtree is built first, as in document order.
		slices.Reverse(stack[start:])
	}
	return top, nil
}

// treeNode is the tree node of link l, reached through joint via (nil for
// the root).
func (m *model) treeNode(l *link, via *joint) *validate.TreeNode {
	n := &validate.TreeNode{Name: l.name, Line: m.doc.Line(l.el)}
	if via == nil {
		return n
	}
	tj := &validate.TreeJoint{Name: via.name, Type: via.typ, Lower: via.lower, Upper: via.upper}
	if via.typ != "fixed" && via.typ != "floating" {
		tj.Axis = via.axis[:]
	}
	if via.typ == "continuous" || via.typ == "fixed" || via.typ == "floating" || via.typ == "planar" {
		tj.Lower, tj.Upper = nil, nil
	} else {
		lo, hi := 0.0, 0.0
		if via.lower != nil {
			lo = *via.lower
		}
		if via.upper != nil {
			hi = *via.upper
		}
		tj.Lower, tj.Upper = &lo, &hi
	}
	n.Joint = tj
	return n
}

// treeBroken reports whether errors leave the links without one tree; a bad
// inertial or mesh does not.
func treeBroken(errs []validate.Problem) bool {
	for _, p := range errs {
		switch p.Rule {
		case "urdf-xml", "urdf-robot", "urdf-no-links", "urdf-tree", "urdf-joint-links", "urdf-link-duplicate", "urdf-joint-duplicate":
			return true
		}
	}
	return false
}
