package main

import (
	"io"
	"time"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/urfave/cli/v2"
)

// Flags shared by the commands: --json and --quiet, flags read across the
// command lineage and the output mode they select. Where flags may stand on
// the command line is reorder_args.go's business.

// jsonFlag is a command's --json flag; usage says what it prints.
func jsonFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: flagJSON, Usage: usage}
}

// quietFlag is a command's --quiet (-q) flag; usage says what it prints.
func quietFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: flagQuiet, Aliases: []string{"q"}, Usage: usage}
}

// lineageBool is true when the boolean flag name is set true on the command
// or on any parent (gizmo --json ls and gizmo ls --json both count, as does
// the flag's environment variable on the global flag).
func lineageBool(c *cli.Context, name string) bool {
	for _, x := range c.Lineage() {
		if x.Bool(name) {
			return true
		}
	}
	return false
}

// lineageDuration is the first non-zero value of the duration flag name on
// the command or a parent.
func lineageDuration(c *cli.Context, name string) time.Duration {
	for _, x := range c.Lineage() {
		if d := x.Duration(name); d != 0 {
			return d
		}
	}
	return 0
}

// outputMode is how a command prints: JSON, quiet, or human (with the
// terminal extras when stderr is a terminal).
type outputMode struct {
	json, quiet, verbose bool
	tty                  bool // stderr is a terminal: spinners and progress bars
	// lines prints JSON results as JSON Lines: set by commands that print
	// a stream (generate --wait prints its job's events, then the result).
	lines bool
}

// printJSON prints v as the command's JSON result: an indented object, or
// one line in a stream (mode.lines).
func (m outputMode) printJSON(w io.Writer, v any) error {
	if m.lines {
		return ui.PrintJSONLine(w, v)
	}
	return ui.PrintJSON(w, v)
}

func outputModeOf(c *cli.Context) outputMode {
	m := outputMode{
		json:    lineageBool(c, flagJSON),
		quiet:   lineageBool(c, flagQuiet),
		verbose: lineageBool(c, flagVerbose),
	}
	m.tty = !m.json && !m.quiet && ui.IsTerminal(c.App.ErrWriter)
	return m
}
