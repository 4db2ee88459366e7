package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// The command-line grammar, the same for every command:
//
//	gizmo [global flags] COMMAND [SUBCOMMAND] [flags and arguments, in any order] [-- arguments]
//
// urfave/cli stops reading flags at a command's first argument and knows
// global flags only before the command name. reorderArgs, run before it
// parses, moves every flag to the level that defines it (the deepest
// command first, then its parents, then the global flags) using the
// commands' own flag definitions, and puts the arguments last, after "--",
// so that an argument that starts with "-" stays an argument. It is the
// one place flags are sorted out: commands read c.Args() as their
// arguments.

// bashCompletionFlag is urfave/cli's hidden last argument asking for
// completions; such a command line is passed on untouched.
const bashCompletionFlag = "--generate-bash-completion"

// reorderArgs returns args (args[0] being the program name) rewritten as
// urfave/cli parses them: each level's flags right after its name, the
// arguments after "--". A command line whose command is unknown is
// returned as it is, for urfave/cli to report.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 || args[len(args)-1] == bashCompletionFlag {
		return args
	}
	type level struct {
		name  string // the command's name as typed ("" for gizmo itself)
		cmd   *cli.Command
		flags []string
	}
	levels := []*level{{}}
	var positional []string
	rest := args[1:]
	for len(rest) > 0 {
		a := rest[0]
		rest = rest[1:]
		if a == "--" {
			positional = append(positional, rest...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			// The deepest level defining the flag takes it; an unknown
			// flag stays with the deepest command, which reports it.
			at, f := len(levels)-1, cli.Flag(nil)
			for i := len(levels) - 1; i >= 0 && f == nil; i-- {
				if f = findFlag(levelFlags(app, levels[i].cmd, len(levels) == 1), name); f != nil {
					at = i
				}
			}
			levels[at].flags = append(levels[at].flags, a)
			if f != nil && !hasValue && takesValue(f) && len(rest) > 0 {
				levels[at].flags = append(levels[at].flags, rest[0])
				rest = rest[1:]
			}
			continue
		}
		// The first word of a level that has commands names one.
		if len(positional) == 0 {
			if sub := subcommand(app, levels[len(levels)-1].cmd, a); sub != nil {
				levels = append(levels, &level{name: a, cmd: sub})
				continue
			}
			if len(levels) == 1 {
				return args // an unknown command, or none
			}
		}
		positional = append(positional, a)
	}
	out := []string{args[0]}
	help := false
	for _, l := range levels {
		if l.name != "" {
			out = append(out, l.name)
		}
		out = append(out, l.flags...)
		help = help || l.cmd != nil && (slices.Contains(l.flags, "-h") || slices.Contains(l.flags, "--help"))
	}
	// urfave/cli's help takes a command's first argument for the name of
	// a command to describe: "gizmo tree robot.urdf --help" is tree's help.
	if len(positional) > 0 && !help {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// levelFlags are the flags a level defines: gizmo's global flags for the
// top level (with --help and --version before a command name only, so that
// "gizmo ls -h" is ls's help), a command's own flags (and --help) below it.
func levelFlags(app *cli.App, c *cli.Command, beforeCommand bool) []cli.Flag {
	if c == nil {
		if !beforeCommand {
			return app.Flags
		}
		return append(append([]cli.Flag(nil), app.Flags...), cli.HelpFlag, cli.VersionFlag)
	}
	if c.HideHelp {
		return c.Flags
	}
	return append(append([]cli.Flag(nil), c.Flags...), cli.HelpFlag)
}

// subcommand is the command named name under c (under the app when c is
// nil), or nil.
func subcommand(app *cli.App, c *cli.Command, name string) *cli.Command {
	cmds := app.Commands
	if c != nil {
		cmds = c.Subcommands
	}
	for _, s := range cmds {
		if s.HasName(name) {
			return s
		}
	}
	return nil
}

// takesValue reports whether the flag reads the next word as its value
// (every flag but a boolean one).
func takesValue(f cli.Flag) bool {
	if v, ok := f.(interface{ TakesValue() bool }); ok {
		return v.TakesValue()
	}
	return true
}

// findFlag is the flag among flags that has the name (or alias) name.
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
