package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/check"
	"github.com/antimlabs/gizmo/validate/mjcf"
	"github.com/antimlabs/gizmo/validate/urdf"
)

func init() {
	register(&cli.Command{
		Name:      "tree",
		Usage:     "print the kinematic tree of a URDF or MJCF model",
		ArgsUsage: "FILE",
		Description: `Prints the links (URDF) or bodies (MJCF) of a model as an indented tree, each
with the joint that connects it to its parent: name, type, axis and limits.
--dot prints a Graphviz digraph instead (gizmo tree --dot robot.urdf | dot
-Tsvg > robot.svg); --json the tree as JSON.

Levels below the 32nd keep its indentation and show [depth N]; --json refuses
trees deeper than 1,000 levels.

Exit status: 0; 4 when the model has no single tree (run gizmo validate for
every problem) or is UTF-16 text; 3 when FILE does not exist; 2 for bad
arguments, a folder or a special file (FIFO, device); 1 when too deep for
--json.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dot", Usage: "print a Graphviz digraph"},
			&cli.BoolFlag{Name: flagJSON, Usage: "print the tree as JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return exitcode.With(exitcode.Usage, errors.New("tree needs exactly one FILE (a URDF or MJCF model)"))
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			return runTree(ctx, treeOptions{path: c.Args().First(), dot: c.Bool("dot"), json: jsonOutput(c)}, c.App.Writer)
		},
	})
}

type treeOptions struct {
	path string
	dot  bool
	json bool
}

// Bounds on what gizmo tree prints, so that a hostile model (a chain of a
// million links, a name of megabytes) gives output proportional to its
// size, not to its depth squared.
const (
	// maxIndent is the deepest level drawn with its own indentation;
	// deeper nodes keep that indentation and carry their depth.
	maxIndent = 32
	// maxJSONDepth is the deepest tree --json prints: deeper nesting is
	// refused by most JSON readers (Python's at about 1,000 levels).
	maxJSONDepth = 1000
	// maxTreeName bounds a printed name, in bytes.
	maxTreeName = 256
)

func runTree(ctx context.Context, o treeOptions, stdout io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(o.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return exitcode.With(exitcode.NotFound, fmt.Errorf("tree %s: no such file", o.path))
	case err != nil:
		return fmt.Errorf("tree %s: %w", o.path, err)
	case !fi.Mode().IsRegular():
		return exitcode.With(exitcode.Usage, fmt.Errorf("tree %s: %s, not a model file; name a URDF or MJCF file", o.path, validate.DescribeMode(fi.Mode())))
	}
	kind, utf16, err := check.Detect(o.path, validate.Options{})
	if err != nil {
		return fmt.Errorf("tree %s: %w", o.path, err)
	}
	if kind != formats.KindURDF && kind != formats.KindMJCF {
		return exitcode.With(exitcode.Usage, fmt.Errorf("tree %s: not a URDF (<robot>) or MJCF (<mujoco>) model", o.path))
	}
	if utf16 {
		return exitcode.With(exitcode.Invalid, fmt.Errorf("tree %s: the file is UTF-16 text, which the simulators' parsers refuse; save it as UTF-8 (iconv -f UTF-16 -t UTF-8)", o.path))
	}
	root, err := buildTree(ctx, kind, o.path)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return exitcode.With(exitcode.Invalid, fmt.Errorf("tree %s: %w", o.path, err))
	}
	switch {
	case o.json:
		if d := root.Depth(); d > maxJSONDepth {
			return fmt.Errorf("tree %s: the tree is %d levels deep, deeper than --json prints (%d; most JSON readers refuse more); use the text output or --dot", o.path, d, maxJSONDepth)
		}
		w := bufio.NewWriter(stdout)
		if err := ui.PrintJSON(w, root); err != nil {
			return err
		}
		return w.Flush()
	case o.dot:
		return writeDot(stdout, root)
	}
	return writeTree(stdout, root)
}

// buildTree reads the tree of the model at path in a goroutine of its own
// and gives up on it when ctx ends (Ctrl-C).
func buildTree(ctx context.Context, kind formats.Kind, path string) (*validate.TreeNode, error) {
	type result struct {
		root *validate.TreeNode
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		if kind == formats.KindURDF {
			r.root, r.err = urdf.Tree(path)
		} else {
			r.root, r.err = mjcf.Tree(path)
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r.root, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// treeName is a name as gizmo tree prints it: escaped, cut.
func treeName(s string) string {
	return validate.Clean(validate.Cut(s, maxTreeName))
}

// writeTree prints the tree indented with box-drawing branches; levels
// past maxIndent keep its indentation and show their depth.
func writeTree(w io.Writer, root *validate.TreeNode) error {
	type frame struct {
		n         *validate.TreeNode
		prefix    string
		depth     int
		last, top bool
	}
	bw := bufio.NewWriter(w)
	stack := []frame{{n: root, last: true, top: true}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		branch, next := "", ""
		if !f.top {
			branch, next = "├── ", "│   "
			if f.last {
				branch, next = "└── ", "    "
			}
		}
		bw.WriteString(f.prefix)
		if f.depth > maxIndent {
			fmt.Fprintf(bw, "[depth %d] ", f.depth)
		}
		bw.WriteString(branch + treeName(f.n.Name))
		if f.n.Joint != nil {
			bw.WriteString("  [" + jointText(*f.n.Joint))
			for _, j := range f.n.Extra {
				bw.WriteString("; " + jointText(j))
			}
			bw.WriteString("]")
		}
		bw.WriteByte('\n')
		childPrefix := f.prefix
		if f.depth < maxIndent {
			childPrefix += next
		}
		for i := len(f.n.Children) - 1; i >= 0; i-- {
			stack = append(stack, frame{n: f.n.Children[i], prefix: childPrefix, depth: f.depth + 1, last: i == len(f.n.Children)-1})
		}
	}
	return bw.Flush()
}

// jointText describes a joint: "j1: revolute, axis 0 0 1, limits -1.57 .. 1.57".
func jointText(j validate.TreeJoint) string {
	s := treeName(j.Name)
	if s == "" {
		s = "(unnamed)"
	}
	s += ": " + treeName(j.Type)
	if len(j.Axis) > 0 {
		s += ", axis " + nums(j.Axis)
	}
	if j.Lower != nil && j.Upper != nil {
		s += ", limits " + num(*j.Lower) + " .. " + num(*j.Upper)
	}
	return s
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func nums(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = num(f)
	}
	return strings.Join(parts, " ")
}

// writeDot prints the tree as a Graphviz digraph: links as boxes, joints as
// labelled edges.
func writeDot(w io.Writer, root *validate.TreeNode) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("digraph " + dotID(root.Name) + " {\n")
	bw.WriteString("  node [shape=box];\n")
	root.Walk(func(n *validate.TreeNode, _ int) {
		fmt.Fprintf(bw, "  %s;\n", dotID(n.Name))
		for _, c := range n.Children {
			label := ""
			if c.Joint != nil {
				label = treeName(c.Joint.Name) + "\\n" + treeName(c.Joint.Type)
				if len(c.Joint.Axis) > 0 {
					label += "\\naxis " + nums(c.Joint.Axis)
				}
				if c.Joint.Lower != nil && c.Joint.Upper != nil {
					label += "\\n[" + num(*c.Joint.Lower) + ", " + num(*c.Joint.Upper) + "]"
				}
			}
			fmt.Fprintf(bw, "  %s -> %s [label=%s];\n", dotID(n.Name), dotID(c.Name), dotLabel(label))
		}
	})
	bw.WriteString("}\n")
	return bw.Flush()
}

// dotID quotes a Graphviz identifier (a name as treeName prints it).
func dotID(s string) string {
	s = treeName(s)
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// dotLabel quotes a label whose \n escapes are meant for Graphviz.
func dotLabel(s string) string {
	return `"` + strings.NewReplacer(`"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
