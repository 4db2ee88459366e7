package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/validate"
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

Exit status: 0; 4 when the model has no single tree (run gizmo validate for
every problem); 3 when FILE does not exist; 2 for bad arguments.`,
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

func runTree(ctx context.Context, o treeOptions, stdout io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	head, err := readHead(o.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return exitcode.With(exitcode.NotFound, fmt.Errorf("tree %s: no such file", o.path))
		}
		return fmt.Errorf("tree %s: %w", o.path, err)
	}
	var root *validate.TreeNode
	switch kind := formats.Detect(head); kind {
	case formats.KindURDF:
		root, err = urdf.Tree(o.path)
	case formats.KindMJCF:
		root, err = mjcf.Tree(o.path)
	default:
		return exitcode.With(exitcode.Usage, fmt.Errorf("tree %s: not a URDF (<robot>) or MJCF (<mujoco>) model", o.path))
	}
	if err != nil {
		return exitcode.With(exitcode.Invalid, fmt.Errorf("tree %s: %w", o.path, err))
	}
	switch {
	case o.json:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(root)
	case o.dot:
		return writeDot(stdout, root)
	}
	return writeTree(stdout, root)
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:n], nil
}

// writeTree prints the tree indented with box-drawing branches.
func writeTree(w io.Writer, root *validate.TreeNode) error {
	var b strings.Builder
	var walk func(n *validate.TreeNode, prefix string, last, top bool)
	walk = func(n *validate.TreeNode, prefix string, last, top bool) {
		branch, next := "", ""
		if !top {
			branch, next = "├── ", "│   "
			if last {
				branch, next = "└── ", "    "
			}
		}
		b.WriteString(prefix + branch + n.Name)
		if n.Joint != nil {
			b.WriteString("  [" + jointText(*n.Joint))
			for _, j := range n.Extra {
				b.WriteString("; " + jointText(j))
			}
			b.WriteString("]")
		}
		b.WriteByte('\n')
		for i, c := range n.Children {
			walk(c, prefix+next, i == len(n.Children)-1, false)
		}
	}
	walk(root, "", true, true)
	_, err := io.WriteString(w, b.String())
	return err
}

// jointText describes a joint: "j1: revolute, axis 0 0 1, limits -1.57 .. 1.57".
func jointText(j validate.TreeJoint) string {
	s := j.Name
	if s == "" {
		s = "(unnamed)"
	}
	s += ": " + j.Type
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
	var b strings.Builder
	b.WriteString("digraph " + dotID(root.Name) + " {\n")
	b.WriteString("  node [shape=box];\n")
	root.Walk(func(n *validate.TreeNode, _ int) {
		fmt.Fprintf(&b, "  %s;\n", dotID(n.Name))
		for _, c := range n.Children {
			label := ""
			if c.Joint != nil {
				label = c.Joint.Name + "\\n" + c.Joint.Type
				if len(c.Joint.Axis) > 0 {
					label += "\\naxis " + nums(c.Joint.Axis)
				}
				if c.Joint.Lower != nil && c.Joint.Upper != nil {
					label += "\\n[" + num(*c.Joint.Lower) + ", " + num(*c.Joint.Upper) + "]"
				}
			}
			fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", dotID(n.Name), dotID(c.Name), dotLabel(label))
		}
	})
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotID quotes a Graphviz identifier.
func dotID(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// dotLabel quotes a label whose \n escapes are meant for Graphviz.
func dotLabel(s string) string {
	return `"` + strings.NewReplacer(`"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
