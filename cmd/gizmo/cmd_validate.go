package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/check"
)

func init() {
	register(&cli.Command{
		Name:      "validate",
		Usage:     "check URDF, MJCF and USD models for what would make a simulator fail to load them",
		ArgsUsage: "PATH...|-",
		Description: `Checks model files, folders (recursively) and zip archives as Gizmo exports
them. Each file's format is told from its content: a URDF (<robot> root), an
MJCF (<mujoco> root), a USD file (#usda or PXR-USDC header). A PATH of -
reads one model (or a zip of them) from standard input: reports name it
<stdin>, and the files it names (meshes, includes) are looked up from the
current folder.

Problems are printed like a compiler's, file:line:col: error|warning: message
[rule], then a summary line. Errors are what the simulators' own parsers
refuse (urdfdom's check_urdf for URDF, MuJoCo for MJCF) and mesh files that do
not resolve; warnings are what they accept but handle badly (negative mass,
lower > upper, a zero axis, a non-physical inertia). --strict makes warnings
errors; --target adds the checks of one simulator's importer.

In a folder, symbolic links are followed (each real folder once, so loops
end); .xml files that are no model are skipped with a note, and files with
other extensions (meshes, textures) are not looked at. A folder in which
nothing was checked is an error. Special files (FIFOs, devices) are never
read.

Exit status: 0 when no file has errors; 4 when any has; 3 when a path does not
exist or a folder holds no model; 2 for bad flags or a special file given as
PATH; 130 when interrupted.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "strict", Usage: "treat warnings as errors"},
			&cli.StringFlag{Name: "target", Usage: "add the checks of one simulator's importer, `SIM`: isaac (Isaac Sim's URDF importer) or mujoco (MuJoCo's compiler)"},
			&cli.StringSliceFlag{Name: "package-path", Usage: "resolve package:// and relative mesh paths also under `DIR` (repeatable; ROS_PACKAGE_PATH is read too)"},
			&cli.BoolFlag{Name: flagJSON, Usage: "print a JSON array, one object per file"},
		},
		Action: func(c *cli.Context) error {
			opts, err := validateOptionsFrom(c)
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			opts.stdin = c.App.Reader
			return runValidate(ctx, opts, c.App.Writer, c.App.ErrWriter)
		},
	})
}

// validateOptions are the flags and arguments of gizmo validate.
type validateOptions struct {
	paths []string
	check validate.Options
	json  bool
	quiet bool
	stdin io.Reader // read for the path "-"
}

func validateOptionsFrom(c *cli.Context) (validateOptions, error) {
	o := validateOptions{
		paths: c.Args().Slice(),
		json:  jsonOutput(c),
		quiet: c.Bool(flagQuiet),
		check: validate.Options{
			Strict:       c.Bool("strict"),
			PackagePaths: c.StringSlice("package-path"),
		},
	}
	if len(o.paths) == 0 {
		return o, errors.New("validate needs at least one PATH (a model file, a folder or a zip archive, or - for standard input)")
	}
	stdin := 0
	for _, p := range o.paths {
		if p == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return o, errors.New("validate reads standard input (-) once: give - one time")
	}
	switch t := strings.ToLower(c.String("target")); t {
	case "", validate.TargetIsaac, validate.TargetMuJoCo:
		o.check.Target = t
	case "isaac_sim", "isaacsim", "isaac-sim":
		o.check.Target = validate.TargetIsaac
	default:
		return o, fmt.Errorf("unknown --target %q: use isaac or mujoco", c.String("target"))
	}
	return o, nil
}

// jsonReport is one file in the --json output. Slices are never null.
type jsonReport struct {
	Path       string             `json:"path"`
	Format     string             `json:"format"`
	Valid      bool               `json:"valid"`
	Errors     []validate.Problem `json:"errors"`
	Warnings   []validate.Problem `json:"warnings"`
	NotChecked []string           `json:"not_checked"`
}

// validatePath validates one path; tests replace it to stand for a read
// that never returns.
var validatePath = check.Validate

// maxSkipNotes bounds the "skipped" notes printed for one run.
const maxSkipNotes = 20

// runValidate validates every path and prints the reports. It returns an
// exit-code error: Usage when a path is a special file (a FIFO, a device),
// NotFound when a path does not exist or a folder holds no model, Invalid
// when any file has errors. It returns as soon as ctx ends (Ctrl-C), even
// if a read is stuck.
func runValidate(ctx context.Context, o validateOptions, stdout, stderr io.Writer) error {
	var reports []validate.Report
	var skipped []check.Skipped
	missing, special, empty := 0, 0, 0
	for _, p := range o.paths {
		res, err := validateOne(ctx, p, o.check, o.stdin)
		if errors.Is(err, check.ErrNotFound) {
			missing++
			r := validate.Report{Path: p}
			r.Add(validate.Problem{Severity: validate.Error, Rule: "path-not-found", File: p,
				Message: "no such file or directory; check the path"})
			reports = append(reports, r)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r := validate.Report{Path: p}
			r.Add(validate.Problem{Severity: validate.Error, Rule: "path-unreadable", File: p, Message: err.Error()})
			reports = append(reports, r)
			continue
		}
		for _, r := range res.Reports {
			for _, e := range r.Errors {
				switch e.Rule {
				case "path-not-regular":
					special++
				case "no-model":
					empty++
				}
			}
		}
		reports = append(reports, res.Reports...)
		skipped = append(skipped, res.Skipped...)
	}

	if !o.json && !o.quiet {
		if err := writeSkipped(stdout, skipped); err != nil {
			return err
		}
	}
	if o.json {
		out := make([]jsonReport, 0, len(reports))
		for _, r := range reports {
			j := jsonReport{Path: absPath(r.Path), Format: string(r.Format), Valid: len(r.Errors) == 0,
				Errors: r.Errors, Warnings: r.Warnings, NotChecked: r.NotChecked}
			if j.Errors == nil {
				j.Errors = []validate.Problem{}
			}
			if j.Warnings == nil {
				j.Warnings = []validate.Problem{}
			}
			if j.NotChecked == nil {
				j.NotChecked = []string{}
			}
			out = append(out, j)
		}
		if err := ui.PrintJSON(stdout, out); err != nil {
			return err
		}
	} else if err := validate.WriteText(stdout, reports, o.quiet); err != nil {
		return err
	}

	withErrors := 0
	for _, r := range reports {
		if len(r.Errors) > 0 {
			withErrors++
		}
	}
	switch {
	case special > 0:
		return exitcode.Silent(exitcode.Usage)
	case missing > 0, empty > 0:
		return exitcode.Silent(exitcode.NotFound)
	case withErrors > 0:
		return exitcode.Silent(exitcode.Invalid)
	}
	return nil
}

// validateOne runs validatePath in a goroutine of its own and gives up on
// it when ctx ends: a read stuck in the kernel cannot hold Ctrl-C.
func validateOne(ctx context.Context, path string, opts validate.Options, stdin io.Reader) (check.Result, error) {
	type result struct {
		res check.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		var res check.Result
		var err error
		if path == "-" {
			res, err = check.Reader(ctx, check.StdinName, stdin, opts)
		} else {
			res, err = validatePath(ctx, path, opts)
		}
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-ctx.Done():
		return check.Result{}, ctx.Err()
	}
}

// writeSkipped prints a note for each file a walk skipped, at most
// maxSkipNotes of them and then their count.
func writeSkipped(w io.Writer, skipped []check.Skipped) error {
	var b strings.Builder
	for i, s := range skipped {
		if i == maxSkipNotes {
			fmt.Fprintf(&b, "note: %d more files skipped\n", len(skipped)-i)
			break
		}
		fmt.Fprintf(&b, "%s: note: skipped: %s\n", validate.Clean(s.Path), validate.Clean(s.Reason))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonOutput reports whether --json was given, before or after the command
// name: the command's own flag would otherwise hide the global one.
func jsonOutput(c *cli.Context) bool {
	for _, x := range c.Lineage() {
		if x.Command != nil || x.App != nil {
			if x.Bool(flagJSON) {
				return true
			}
		}
	}
	return false
}
