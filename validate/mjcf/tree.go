package mjcf

import (
	"fmt"
	"math"
	"strings"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/validate"
)

// readModel loads path with its includes and its default classes, for Tree
// and Includes, through opts.FS. A model that cannot be read gives an error
// naming the first problem.
func readModel(path string, opts validate.Options) (*checker, error) {
	r := reportFor(path)
	m := load(path, nil, &r, opts)
	if m.fatal || len(r.Errors) > 0 {
		msgs := make([]string, 0, len(r.Errors))
		for _, p := range r.Errors {
			msgs = append(msgs, p.String())
		}
		if len(msgs) > 3 {
			msgs = append(msgs[:3], fmt.Sprintf("and %d more", len(msgs)-3))
		}
		return nil, fmt.Errorf("read MJCF model %s: %s", path, strings.Join(msgs, "; "))
	}
	c := newChecker(m)
	c.compiler()
	// Default classes without reporting: Tree is not a validator.
	quiet := validate.Report{}
	m.report = &quiet
	c.defaults()
	c.compose()
	m.report = &r
	return c, nil
}

// Includes returns the files the model at path includes, transitively, and
// the model files its <model> assets name (for <attach>) with what those
// include, as absolute paths in the order gizmo reads them, reading them
// through opts.FS. The model itself is not in the list.
func Includes(path string, opts validate.Options) ([]string, error) {
	c, err := readModel(path, opts)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), c.m.files...), nil
}

// Tree returns the kinematic tree of the model at path: the world body as
// root, each body a node, frames looked through. A body's first joint is its
// Joint; further joints are in Extra. Hinge and ball limits are in radians.
func Tree(path string) (*validate.TreeNode, error) {
	c, err := readModel(path, validate.Options{})
	if err != nil {
		return nil, err
	}
	root := &validate.TreeNode{Name: "world"}
	for _, wb := range c.m.root.SelectElements("worldbody") {
		if root.Line == 0 {
			root.Line = c.line(wb)
		}
		c.treeChildren(root, wb)
	}
	return root, nil
}

func (c *checker) line(e *etree.Element) int {
	if s, ok := c.m.origin[e]; ok && s.doc != nil {
		return s.doc.Line(e)
	}
	return 0
}

func (c *checker) treeChildren(n *validate.TreeNode, e *etree.Element) {
	for _, k := range e.ChildElements() {
		switch k.Tag {
		case "frame", "replicate":
			c.treeChildren(n, k)
		case "joint", "freejoint":
			j := c.treeJoint(k)
			if n.Joint == nil {
				n.Joint = &j
			} else {
				n.Extra = append(n.Extra, j)
			}
		case "body":
			name := k.SelectAttrValue("name", "")
			if name == "" {
				name = fmt.Sprintf("(unnamed body, line %d)", c.line(k))
			}
			child := &validate.TreeNode{Name: name, Line: c.line(k)}
			n.Children = append(n.Children, child)
			c.treeChildren(child, k)
		}
	}
}

func (c *checker) treeJoint(j *etree.Element) validate.TreeJoint {
	typ := c.jointType(j)
	tj := validate.TreeJoint{Name: j.SelectAttrValue("name", ""), Type: typ}
	if typ == "hinge" || typ == "slide" {
		tj.Axis = []float64{0, 0, 1}
		if ax, ok := c.numsOf(j, "axis"); ok && len(ax) == 3 {
			tj.Axis = ax
		}
	}
	if typ == "free" {
		return tj
	}
	limited := c.attrOr(j, "limited", "auto")
	rng, ok := c.numsOf(j, "range")
	if !ok || len(rng) != 2 {
		return tj
	}
	autoOK := limited == "auto" && c.comp.autolimits && rng[0] < rng[1]
	if limited != "true" && !autoOK {
		return tj
	}
	lo, hi := rng[0], rng[1]
	if c.comp.degree && (typ == "hinge" || typ == "ball") {
		lo, hi = lo*math.Pi/180, hi*math.Pi/180
	}
	tj.Lower, tj.Upper = &lo, &hi
	return tj
}
