package urdf

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

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

// checkTree mirrors urdfdom's initTree and initRoot, then looks for what
// urdfdom lets through (a link with two parents, cycles, links the root
// cannot reach) and warns about it.
func (m *model) checkTree() {
	if m.fatal {
		return
	}
	sorted := append([]*joint(nil), m.joints...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].name < sorted[b].name })
	parentOf := map[string]string{}
	treeOK := true
	for _, j := range sorted {
		if j.parent == "" || j.child == "" {
			m.errorf(j.el, "urdf-joint-links", "joint %q is missing a parent or child link; give <parent link=\"...\"/> and <child link=\"...\"/>", j.name)
			treeOK = false
			continue
		}
		if m.linkByName[j.child] == nil {
			m.errorf(j.el, "urdf-joint-links", "joint %q: child link %q is not defined; add <link name=%q/> or fix the name", j.name, j.child, j.child)
			treeOK = false
			continue
		}
		if m.linkByName[j.parent] == nil {
			m.errorf(j.el, "urdf-joint-links", "joint %q: parent link %q is not defined; add <link name=%q/> or fix the name", j.name, j.parent, j.parent)
			treeOK = false
			continue
		}
		parentOf[j.child] = j.parent
	}
	if !treeOK {
		return
	}
	var roots []*link
	for _, l := range m.sortedLinks() {
		if _, has := parentOf[l.name]; !has {
			roots = append(roots, l)
		}
	}
	switch {
	case len(roots) == 0:
		m.errorf(m.robot, "urdf-tree", "no root link: every link has a parent, so the joints form a cycle; the links must form one tree")
		return
	case len(roots) > 1:
		names := make([]string, 0, min(len(roots), maxListed))
		for _, l := range roots[:min(len(roots), maxListed)] {
			names = append(names, l.name)
		}
		m.errorf(roots[1].el, "urdf-tree", "more than one root link (%s): join them with joints so that the links form one tree (a link with two parents also shows as this)", listNames(names, len(roots), ", "))
		return
	}
	// urdfdom is satisfied; look for what it misses.
	parents := map[string][]*joint{}
	for _, j := range m.joints {
		parents[j.child] = append(parents[j.child], j)
	}
	for _, l := range m.links {
		if ps := parents[l.name]; len(ps) > 1 {
			sev := validate.Warning
			if m.opts.Target == validate.TargetMuJoCo {
				sev = validate.Error
			}
			m.add(sev, ps[1].el, "urdf-tree-parents", "link %q is the child of %d joints (%q and %q); urdfdom keeps one, MuJoCo refuses the file: give each link one parent joint", l.name, len(ps), ps[0].name, ps[1].name)
		}
	}
	if cyc := m.cycleFrom(roots[0].name); len(cyc) > 0 {
		m.warnf(m.linkByName[cyc[0]].el, "urdf-tree-cycle", "the joints form a cycle through links %s; urdfdom's parser accepts it (the root is found) but anything that walks the tree loops forever (check_urdf's printout, robot_state_publisher): give each link one parent joint", listNames(cyc, len(cyc), " → "))
	}
	reach := m.reachable(roots[0].name)
	for _, l := range m.links {
		if !reach[l.name] {
			m.warnf(l.el, "urdf-tree-unreachable", "link %q cannot be reached from the root link %q (its joints form a cycle); simulators drop it: fix the joints so the links form one tree", l.name, roots[0].name)
		}
	}
}

// cycleFrom returns the links of a cycle reachable from root along
// parent→child joints (first link repeated at the end), or nil.
func (m *model) cycleFrom(root string) []string {
	kids := map[string][]string{}
	for _, j := range m.joints {
		kids[j.parent] = append(kids[j.parent], j.child)
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	type frame struct {
		name string
		next int
	}
	stack := []frame{{root, 0}}
	color[root] = grey
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == len(kids[top.name]) {
			color[top.name] = black
			stack = stack[:len(stack)-1]
			continue
		}
		c := kids[top.name][top.next]
		top.next++
		switch color[c] {
		case white:
			color[c] = grey
			stack = append(stack, frame{c, 0})
		case grey:
			// The cycle is the stack from c up; built from the top down
			// and reversed (prepending would be quadratic in its length).
			var cyc []string
			for i := len(stack) - 1; i >= 0; i-- {
				cyc = append(cyc, stack[i].name)
				if stack[i].name == c {
					break
				}
			}
			slices.Reverse(cyc)
			return append(cyc, c)
		}
	}
	return nil
}

// maxListed is how many names a message lists: a model with two million
// unconnected links gets a line, not 22 MB of names.
const maxListed = 10

// listNames quotes the first maxListed of names, joined with sep, and says
// how many of total were left out.
func listNames(names []string, total int, sep string) string {
	quoted := make([]string, 0, min(len(names), maxListed))
	for _, n := range names[:min(len(names), maxListed)] {
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	out := strings.Join(quoted, sep)
	if more := total - len(quoted); more > 0 {
		out += fmt.Sprintf("%s… and %d more", sep, more)
	}
	return out
}

func (m *model) sortedLinks() []*link {
	out := append([]*link(nil), m.links...)
	sort.Slice(out, func(a, b int) bool { return out[a].name < out[b].name })
	return out
}

// reachable lists the links reachable from root along parent→child joints.
func (m *model) reachable(root string) map[string]bool {
	kids := map[string][]string{}
	for _, j := range m.joints {
		kids[j.parent] = append(kids[j.parent], j.child)
	}
	seen := map[string]bool{root: true}
	stack := []string{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range kids[n] {
			if !seen[c] {
				seen[c] = true
				stack = append(stack, c)
			}
		}
	}
	return seen
}
