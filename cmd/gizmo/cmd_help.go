package main

import (
	"embed"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/internal/exitcode"
)

// helpTopics holds the text of the help topics that are not generated.
//
//go:embed helptopic/manifest.txt helptopic/cache.txt helptopic/environment.txt
var helpTopics embed.FS

// helpTopic is one "gizmo help TOPIC" page, as "go help" has them.
type helpTopic struct {
	name, summary string
	print         func(w io.Writer, app *cli.App) error
}

// topicFile prints an embedded topic file.
func topicFile(name string) func(io.Writer, *cli.App) error {
	return func(w io.Writer, _ *cli.App) error {
		b, err := helpTopics.ReadFile("helptopic/" + name)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
}

var topics = []helpTopic{
	{"cache", "the cache's layout on disk", topicFile("cache.txt")},
	{"environment", "environment variables", printEnvironmentTopic},
	{"exit-codes", "exit codes and the --json error object", printExitCodesTopic},
	{"manifest", "gizmo.toml, gizmo.lock and project layouts", topicFile("manifest.txt")},
}

func topicNamed(name string) (helpTopic, bool) {
	for _, t := range topics {
		if t.name == name {
			return t, true
		}
	}
	return helpTopic{}, false
}

// helpCommand replaces urfave/cli's help command: "gizmo help TOPIC" prints
// a topic; anything else goes to the default help (a command's, or gizmo's).
func helpCommand() *cli.Command {
	tmp := &cli.App{}
	tmp.Setup()
	defaultHelp := tmp.Action // urfave/cli's own help action
	var list strings.Builder
	for _, t := range topics {
		fmt.Fprintf(&list, "\n   %-12s %s", t.name, t.summary)
	}
	return &cli.Command{
		Name:         "help",
		Aliases:      []string{"h"},
		Usage:        "show help for a command, or a topic: " + topicNames(),
		ArgsUsage:    "[COMMAND|TOPIC]",
		OnUsageError: usageError,
		Description: `gizmo help COMMAND prints the command's help (as gizmo COMMAND --help does);
gizmo help TOPIC prints one of these topics:` + list.String(),
		BashComplete: func(c *cli.Context) {
			for _, t := range topics {
				fmt.Fprintln(c.App.Writer, t.name)
			}
			for _, cmd := range c.App.VisibleCommands() {
				fmt.Fprintln(c.App.Writer, cmd.Name)
			}
		},
		Action: func(c *cli.Context) error {
			if t, ok := topicNamed(c.Args().First()); ok && c.Args().Len() == 1 {
				return t.print(c.App.Writer, c.App)
			}
			return defaultHelp(c)
		},
	}
}

func topicNames() string {
	var names []string
	for _, t := range topics {
		names = append(names, t.name)
	}
	return strings.Join(names, ", ")
}

// printExitCodesTopic prints the exit codes from internal/exitcode, the
// table the README's "Exit codes" section is checked against.
func printExitCodesTopic(w io.Writer, _ *cli.App) error {
	fmt.Fprint(w, `gizmo exits with one of these codes. With --json (anywhere on the command line,
or GIZMO_JSON=1) a failing command also prints one JSON object on stderr:
   {"error": {"code": "not_found", "message": "...", "exit": 3}}
where code is the name below and exit the exit status.

`)
	for _, c := range exitcode.Classes {
		fmt.Fprintf(w, "   %3d  %-12s %s\n", c.Code, c.Name, wrapText(plainText(c.Meaning), 60, strings.Repeat(" ", 21)))
	}
	return nil
}

// printEnvironmentTopic lists every flag's environment variable, from the
// flags themselves, then the other variables gizmo reads.
func printEnvironmentTopic(w io.Writer, app *cli.App) error {
	type envVar struct {
		name, flag, usage string
		cmds              []string
	}
	byName := map[string]*envVar{}
	var walk func(cmd string, flags []cli.Flag, cmds []*cli.Command)
	walk = func(cmd string, flags []cli.Flag, cmds []*cli.Command) {
		for _, f := range flags {
			ef, ok := f.(interface{ GetEnvVars() []string })
			df, ok2 := f.(cli.DocGenerationFlag)
			if !ok || !ok2 {
				continue
			}
			for _, e := range ef.GetEnvVars() {
				v := byName[e]
				if v == nil {
					v = &envVar{name: e, flag: "--" + f.Names()[0], usage: strings.ReplaceAll(df.GetUsage(), "`", "")}
					byName[e] = v
				}
				if cmd != "" {
					v.cmds = append(v.cmds, cmd)
				}
			}
		}
		for _, c := range cmds {
			walk(strings.TrimSpace(cmd+" "+c.Name), c.Flags, c.Subcommands)
		}
	}
	walk("", app.Flags, app.Commands)
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "Every flag with a variable (the flag wins over the variable):\n\n")
	for _, n := range names {
		v := byName[n]
		flag := v.flag
		if len(v.cmds) > 0 {
			flag += " (" + strings.Join(v.cmds, ", ") + ")"
		}
		fmt.Fprintf(w, "   %s\n      %s\n", v.name, wrapText(flag+": "+v.usage, 72, "      "))
	}
	fmt.Fprintln(w)
	return topicFile("environment.txt")(w, app)
}

// plainText drops Markdown's code marks from a README phrase.
func plainText(s string) string { return strings.ReplaceAll(s, "`", "") }

// wrapText wraps s at width columns; lines after the first start with
// indent.
func wrapText(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 && n+1+len(word) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
