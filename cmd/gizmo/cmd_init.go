package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/internal/atomicfile"
	"github.com/antimlabs/gizmo/internal/exitcode"
)

func init() {
	register(&cli.Command{
		Name:      "init",
		Usage:     "write a commented starter gizmo.toml in a simulation project",
		ArgsUsage: " ",
		Description: `Writes gizmo.toml at the project root with one target per --layout
(default: mujoco and isaac, in assets/<layout>) and an empty selection. Add
assets with 'gizmo place ID' or by editing the file, then run 'gizmo prepare'.`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringSliceFlag{Name: "layout", Aliases: []string{"l"}, Usage: "add a target for `LAYOUT` (mujoco or isaac; repeatable)"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing gizmo.toml"},
			jsonFlag(`print {"path": FILE, "layouts": [LAYOUT...]}: the manifest written (absolute) and its targets' layouts`),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return exitcode.With(exitcode.Usage, fmt.Errorf("init takes no arguments (got %q); the project is --project DIR", c.Args().First()))
			}
			var layouts []layout.Layout
			for _, s := range c.StringSlice("layout") {
				l, err := layout.ParseLayout(s)
				if err != nil {
					return exitcode.With(exitcode.Usage, fmt.Errorf("--layout: %w", err))
				}
				layouts = append(layouts, l)
			}
			if len(layouts) == 0 {
				layouts = []layout.Layout{layout.MuJoCo, layout.Isaac}
			}
			if err := runInit(c.String(flagProject), layouts, c.Bool("force"), c.App.ErrWriter); err != nil {
				return err
			}
			if lineageBool(c, flagJSON) {
				return printInitJSON(c.App.Writer, c.String(flagProject), layouts)
			}
			return nil
		},
	})
}

func runInit(dir string, layouts []layout.Layout, force bool, stderr interface{ Write([]byte) (int, error) }) error {
	p := filepath.Join(dir, project.ManifestFile)
	if _, err := os.Stat(p); err == nil && !force {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%s exists; edit it, or pass --force to overwrite it", p))
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(p, project.StarterManifest(layouts), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "gizmo: wrote %s; add assets with 'gizmo place ID --project %s', then run 'gizmo prepare --project %s'\n", p, dir, dir)
	return nil
}

// printInitJSON prints what init --json reports: the manifest's absolute
// path and the layouts of its targets.
func printInitJSON(w io.Writer, dir string, layouts []layout.Layout) error {
	p, err := filepath.Abs(filepath.Join(dir, project.ManifestFile))
	if err != nil {
		return err
	}
	names := make([]string, len(layouts))
	for i, l := range layouts {
		names[i] = string(l)
	}
	return ui.PrintJSON(w, map[string]any{"path": p, "layouts": names})
}
