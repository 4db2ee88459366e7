package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
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

// TestAppHelp checks that gizmo --help and -h print gizmo's help, with
// the grammar in its usage line.
func TestAppHelp(t *testing.T) {
	g := newGizmoEnv(t, "http://127.0.0.1:1", filepath.Join(t.TempDir(), "cache"))
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--verbose", "--help"}} {
		code, stdout, stderr := g.run(t.TempDir(), args...)
		if code != exitcode.OK || !strings.Contains(stdout, "[options and arguments, in any order]") || !strings.Contains(stdout, "COMMANDS:") {
			t.Errorf("gizmo %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
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

// grammarNotRun are the commands TestGrammarFlagsTakeEffect does not run,
// with why.
var grammarNotRun = map[string]string{
	"emulator": "serves until interrupted; TestGrammarEveryCommand checks its flags, and the tests start it with flags after the command name throughout",
}

// TestGrammarFlagsTakeEffect runs every command (a gizmo process) against
// the emulator with its flags after its arguments and global flags after
// the command name, and checks that each flag did what it says: a cache
// named by --cache-dir after the command (GIZMO_CACHE_DIR points
// elsewhere), --strict after the file, -q after the id, --json after
// everything. Every command must have a case or a reason in grammarNotRun.
func TestGrammarFlagsTakeEffect(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every command end to end (-short)")
	}
	_, url := emulatortest.StartTest(t, emulator.Config{Assets: 3, Seed: 7, API: emulator.APICurrent})
	work := t.TempDir()
	c, p, r := filepath.Join(work, "cache"), filepath.Join(work, "project"), filepath.Join(work, "agent-projects")
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	warn := `<robot name="r"><link name="a"><inertial><mass value="0"/><inertia ixx="1" iyy="1" izz="1" ixy="0" ixz="0" iyz="0"/></inertial></link></robot>`
	if err := os.WriteFile(filepath.Join(work, "w.urdf"), []byte(warn), 0o644); err != nil {
		t.Fatal(err)
	}
	// The environment's cache is a decoy: the commands that print paths
	// show theirs come from --cache-dir after the command name.
	g := newGizmoEnv(t, url, filepath.Join(work, "decoy-cache"))
	g.env = append(g.env, "XDG_CONFIG_HOME="+filepath.Join(work, "config"))
	vars := strings.NewReplacer("$C", c, "$P", p, "$R", r, "$W", work)
	re := strings.NewReplacer("$C", regexp.QuoteMeta(c), "$P", regexp.QuoteMeta(p))
	cases := []struct {
		cmd            string // the command's path, as leafCommands gives it
		args           []string
		code           int
		stdout, stderr string // regexps; "" checks nothing
	}{
		{"whoami", []string{"whoami", "--json", "--verbose"}, 0, `"generation": "current"`, `gizmo api.*op=whoami`},
		{"ls", []string{"ls", "--cache-dir", "$C", "--limit", "1", "-q"}, 0, `\Aast_[a-z0-9]+\n\z`, ""},
		{"status", []string{"status", "ast_he71kcar", "-q", "--verbose"}, 0, `\Aready\n\z`, `op="get ast_he71kcar"`},
		{"sync", []string{"sync", "--cache-dir", "$C", "-f", "mjcf", "-n", "--json"}, 0, `"mujoco_mjcf"`, ""},
		{"sync", []string{"sync", "--cache-dir", "$C", "-f", "mjcf", "-q", "-j", "2"}, 0, `\A\z`, ""},
		{"cache ls", []string{"cache", "ls", "--cache-dir", "$C", "--json"}, 0, `"mujoco_mjcf"`, ""},
		{"cache ls", []string{"cache", "ls", "-q", "--cache-dir", "$C"}, 0, `\A(\w+\n){3,}\z`, ""},
		{"cache path", []string{"cache", "path", "arm 1", "--cache-dir", "$C", "-f", "mjcf"}, 0, `\A$C/trees/[0-9a-f]+/arm_1\.xml\n\z`, ""},
		{"cache verify", []string{"cache", "verify", "--cache-dir", "$C", "--json"}, 0, `"problems": \[\]`, ""},
		{"cache gc", []string{"cache", "gc", "--cache-dir", "$C", "-n"}, 0, `would remove`, ""},
		{"cache info", []string{"cache", "info", "--cache-dir", "$C", "--json"}, 0, `"root": "$C"`, ""},
		{"export", []string{"export", "gripper 2", "-f", "mjcf", "--cache-dir", "$C", "-q"}, 0, `\A$C/trees/[0-9a-f]+/gripper_2\.xml\n\z`, ""},
		{"cache rm", []string{"cache", "rm", "gripper 2", "--cache-dir", "$C", "--json"}, 0, `"removed": \[\s*"ast_0466r7mw"`, ""},
		{"validate", []string{"validate", "$W/w.urdf"}, 0, `warning: .*\[urdf-mass\]`, ""},
		{"validate", []string{"validate", "$W/w.urdf", "--strict"}, 4, `error: .*\[urdf-mass\]`, ""},
		{"tree", []string{"tree", "$W/w.urdf", "--dot"}, 0, `\Adigraph`, ""},
		{"init", []string{"init", "--json", "-C", "$P", "--layout", "mujoco", "--verbose"}, 0, `"layouts": \[\s*"mujoco"`, ""},
		{"place", []string{"place", "arm 1", "-C", "$P", "--cache-dir", "$C", "--json"}, 0, `"project": "$P"`, ""},
		{"prepare", []string{"prepare", "-C", "$P", "--cache-dir", "$C", "--offline", "-q"}, 0, `arm-1\.xml`, ""},
		{"generate", []string{"generate", "a small gripper", "--json", "--verbose"}, 0, `\A\{`, `gizmo api`},
		{"edit", []string{"edit", "nosuchscene", "add a belt", "--json"}, 3, "", `\A\{"error":\{"code":"not_found"`},
		{"completion", []string{"completion", "bash", "--verbose"}, 0, `complete`, ""},
		{"help", []string{"help", "cache", "--verbose"}, 0, `--cache-dir`, ""},
		{"agent add", []string{"agent", "add", "$P", "--registry", "$R"}, 0, `registered`, ""},
		{"agent list", []string{"agent", "list", "--registry", "$R", "--json"}, 0, `"projects": \[\s*"$P"`, ""},
		{"agent status", []string{"agent", "status", "--json", "--cache-dir", "$C"}, 8, "", `"code":"not_running".*$C`},
		{"agent run", []string{"agent", "run", "--once", "--registry", "$R", "--cache-dir", "$C"}, 0, `1 model in place`, ""},
		{"agent remove", []string{"agent", "remove", "$P", "--registry", "$R"}, 0, `unregistered`, ""},
		{"agent install", []string{"agent", "install", "--systemd", "-o", "$W/unit.service", "--force"}, 0, "", `wrote .*unit\.service`},
		{"push", []string{"push", "oci://127.0.0.1:1/x:v1", "-C", "$P", "--cache-dir", "$C", "--plain-http"}, 1, "", `127\.0\.0\.1:1`},
		{"pull", []string{"pull", "oci://127.0.0.1:1/x:v1", "--plain-http", "--cache-dir", "$C"}, 1, "", `cannot reach the registry`},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.cmd] = true
		args := make([]string, len(tc.args))
		for i, a := range tc.args {
			args[i] = vars.Replace(a)
		}
		code, stdout, stderr := g.run(work, args...)
		line := "gizmo " + strings.Join(args, " ")
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", line, code, tc.code, stdout, stderr)
			continue
		}
		for _, chk := range []struct{ name, pat, out string }{{"stdout", tc.stdout, stdout}, {"stderr", tc.stderr, stderr}} {
			if chk.pat != "" && !regexp.MustCompile(re.Replace(chk.pat)).MatchString(chk.out) {
				t.Errorf("%s: %s does not match %s:\n%s", line, chk.name, re.Replace(chk.pat), chk.out)
			}
		}
	}
	for _, path := range leafCommands(newApp(io.Discard, io.Discard).Commands, nil) {
		name := strings.Join(path, " ")
		if !covered[name] && grammarNotRun[name] == "" {
			t.Errorf("gizmo %s has no case in TestGrammarFlagsTakeEffect (nor a reason in grammarNotRun)", name)
		}
	}
}
