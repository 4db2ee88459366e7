package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/urfave/cli/v2"
)

// Flags shared by the commands: --json and --quiet, flags read across the
// command lineage, the output mode they select, and flags read after a
// command's arguments.

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

// positionalArgs returns the command's arguments, reading any flags of the
// command that follow them: urfave/cli stops at the first argument, so in
// "gizmo export ID --format urdf" the flag would otherwise be taken for an
// argument. Flags found there are set on the command's context (global
// flags on the app's). Arguments
// after "--" are kept as they are. (Flags marked Required are checked by
// urfave/cli before this runs: check such flags in the action instead.)
func positionalArgs(c *cli.Context) ([]string, error) {
	args := c.Args().Slice()
	var pos []string
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			args = args[1:]
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := findFlag(c.Command.Flags, name)
		if f == nil {
			// A global flag (gizmo status ID --verbose): Set finds the
			// flag set it lives in up the lineage.
			f = findFlag(c.App.Flags, name)
		}
		if f == nil {
			return nil, fmt.Errorf("flag provided but not defined: %s", a)
		}
		args = args[1:]
		if _, isBool := f.(*cli.BoolFlag); isBool {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if len(args) == 0 {
				return nil, fmt.Errorf("flag needs an argument: %s", a)
			}
			value, args = args[0], args[1:]
		}
		// urfave/cli reads a flag under its first name (aliases are copied
		// over only while it parses), so set that one.
		if err := c.Set(f.Names()[0], value); err != nil {
			return nil, fmt.Errorf("invalid value %q for flag %s: %v", value, a, err)
		}
	}
	return pos, nil
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}
