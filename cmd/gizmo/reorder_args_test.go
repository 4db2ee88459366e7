package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/internal/exitcode"
)

func TestReorderArgs(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	for _, tc := range []struct {
		in, want string
	}{
		// Flags after arguments go to their command.
		{"validate ./models --strict", "validate --strict -- ./models"},
		{"tree robot.urdf --dot", "tree --dot -- robot.urdf"},
		{"export ast_1 --format urdf -o out.zip", "export --format urdf -o out.zip -- ast_1"},
		{"cache path arm --format=mjcf", "cache path --format=mjcf -- arm"},
		// Global flags anywhere go before the command name.
		{"ls --verbose", "--verbose ls"},
		{"sync --cache-dir X -q", "--cache-dir X -q sync"},
		{"cache path -q arm --cache-dir X", "-q --cache-dir X cache path -- arm"},
		{"--cache-dir X cache ls", "--cache-dir X cache ls"},
		// A command's own flag of a global name stays with the command.
		{"ls --json -q", "ls --json -q"},
		{"sync --json", "sync --json"},
		// "--" ends the flags: what follows is an argument, even "-x".
		{"validate -- -x --strict", "validate -- -x --strict"},
		{"validate --strict -- -x", "validate --strict -- -x"},
		{"validate - --json", "validate --json -- -"},
		// A value that looks like a flag or a command is a value.
		{"export ast_1 -o --strict --format usd", "export -o --strict --format usd -- ast_1"},
		{"--cache-dir sync sync", "--cache-dir sync sync"},
		// Help: the command's after its name, gizmo's before it.
		{"ls -h", "ls -h"},
		{"cache path arm --help", "cache path --help"},
		{"help ls", "help -- ls"},
		{"-v", "-v"},
		// An unknown flag stays with the deepest command, which refuses it.
		{"ls --bogus 3", "ls --bogus -- 3"},
		// An unknown command, or none, is left to urfave/cli.
		{"bogus --verbose x", "bogus --verbose x"},
		{"--verbose", "--verbose"},
		// Completion requests are passed on as typed.
		{"place arm --generate-bash-completion", "place arm --generate-bash-completion"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := strings.Join(reorderArgs(app, append([]string{"gizmo"}, strings.Fields(tc.in)...))[1:], " ")
			if got != tc.want {
				t.Errorf("reorderArgs(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// leafCommands walks the command tree: every command that runs an action,
// with its path ("cache path").
func leafCommands(cmds []*cli.Command, prefix []string) (out [][]string) {
	for _, c := range cmds {
		p := append(append([]string(nil), prefix...), c.Name)
		if len(c.Subcommands) > 0 {
			out = append(out, leafCommands(c.Subcommands, p)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// TestGrammarEveryCommand runs every command (a gizmo process) with its
// --help after an argument and after a global flag that follows the
// command name, and with an unknown flag before and after an argument:
// help is printed (exit 0) in the first two cases, and the unknown flag is
// a usage error (exit 2) naming the command.
func TestGrammarEveryCommand(t *testing.T) {
	dir := t.TempDir()
	g := newGizmoEnv(t, "http://127.0.0.1:1", filepath.Join(dir, "cache"))
	for _, path := range leafCommands(newApp(io.Discard, io.Discard).Commands, nil) {
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			helpHeader := "gizmo " + name + " - "
			if name == "help" {
				helpHeader = "gizmo - " // help's help is gizmo's
			}
			for _, tc := range []struct {
				args     []string
				wantCode int
				want     string // in stdout (help) or stderr (error)
			}{
				{[]string{"word", "--help"}, exitcode.OK, helpHeader},
				{[]string{"--verbose", "--cache-dir", t.TempDir(), "word", "-h"}, exitcode.OK, helpHeader},
				{[]string{"--no-such-flag"}, exitcode.Usage, "flag provided but not defined: --no-such-flag (see 'gizmo " + name + " --help')"},
				{[]string{"word", "--no-such-flag"}, exitcode.Usage, "flag provided but not defined: --no-such-flag (see 'gizmo " + name + " --help')"},
			} {
				args := append(append([]string(nil), path...), tc.args...)
				code, stdout, stderr := g.run(dir, args...)
				if code != tc.wantCode {
					t.Fatalf("gizmo %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, tc.wantCode, stdout, stderr)
				}
				if out := stdout + stderr; !strings.Contains(out, tc.want) {
					t.Errorf("%s: output lacks %q:\n%s", strings.Join(args, " "), tc.want, out)
				}
			}
		})
	}
}

// TestShortFlagsOneMeaning checks that a one-letter flag means the same
// long flag in every command that has it, and that a command's own short
// flag never hides a global one of another meaning.
func TestShortFlagsOneMeaning(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	meaning := map[string]string{} // "o" → "output"
	where := map[string]string{}   // "o" → the first command that defines it
	check := func(cmd string, flags []cli.Flag) {
		for _, f := range flags {
			names := f.Names()
			for _, n := range names[1:] {
				if len(n) != 1 {
					continue
				}
				if m, ok := meaning[n]; ok && m != names[0] {
					t.Errorf("-%s is --%s in %s but --%s in %s", n, m, where[n], names[0], cmd)
					continue
				}
				meaning[n], where[n] = names[0], cmd
			}
		}
	}
	check("gizmo (global)", app.Flags)
	var walk func([]*cli.Command, string)
	walk = func(cmds []*cli.Command, prefix string) {
		for _, c := range cmds {
			check(prefix+c.Name, c.Flags)
			walk(c.Subcommands, prefix+c.Name+" ")
		}
	}
	walk(app.Commands, "gizmo ")
	// Every --wait has -w; -q is --quiet everywhere.
	for _, path := range leafCommands(app.Commands, nil) {
		c := app.Command(path[0])
		for _, p := range path[1:] {
			c = c.Command(p)
		}
		if f := findFlag(c.Flags, "wait"); f != nil && findFlag(c.Flags, "w") == nil {
			t.Errorf("gizmo %s has --wait without -w", strings.Join(path, " "))
		}
	}
}
