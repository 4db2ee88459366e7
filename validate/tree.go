package validate

// TreeNode is one link (URDF) or body (MJCF) of a kinematic tree, as `gizmo
// tree` prints it.
type TreeNode struct {
	Name string `json:"name"`
	// Line is where the link or body is defined, 1-based; 0 when unknown.
	Line int `json:"line,omitempty"`
	// Joint connects the node to its parent; nil for a root. An MJCF body
	// with several joints lists the first here and the rest in Extra.
	Joint    *TreeJoint  `json:"joint,omitempty"`
	Extra    []TreeJoint `json:"extra_joints,omitempty"`
	Children []*TreeNode `json:"children,omitempty"`
}

// TreeJoint is the joint between a node and its parent.
type TreeJoint struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Axis is the joint axis, nil when the joint type has none (fixed,
	// floating, free, ball).
	Axis []float64 `json:"axis,omitempty"`
	// Lower and Upper are the limits when the joint has them.
	Lower *float64 `json:"lower,omitempty"`
	Upper *float64 `json:"upper,omitempty"`
}

// Walk calls fn for n and every node below it, depth first, with the depth
// (0 for n). It keeps a stack of its own: a chain of a million links does
// not recurse a million calls deep.
func (n *TreeNode) Walk(fn func(node *TreeNode, depth int)) {
	if n == nil {
		return
	}
	type frame struct {
		node  *TreeNode
		depth int
	}
	stack := []frame{{n, 0}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fn(f.node, f.depth)
		for i := len(f.node.Children) - 1; i >= 0; i-- {
			stack = append(stack, frame{f.node.Children[i], f.depth + 1})
		}
	}
}

// Depth is the number of levels below n: 0 for a leaf.
func (n *TreeNode) Depth() int {
	deepest := 0
	n.Walk(func(_ *TreeNode, d int) { deepest = max(deepest, d) })
	return deepest
}
