// Command gizmo brings Gizmo's generated robot assets into simulators: it
// talks to the Gizmo API, mirrors assets into a local cache, validates URDF and
// MJCF, places files into Isaac Sim and MuJoCo projects, and runs a local
// Gizmo-compatible emulator.
//
// Each command lives in its own cmd_<verb>.go file, which registers itself in
// init with register. main only wires the app and maps errors to exit codes
// (package exitcode) in one place.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/api"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// commands holds every command; cmd_*.go files add theirs in init.
var commands []*cli.Command

func register(c *cli.Command) { commands = append(commands, c) }

// Global flag names, shared by the commands that read them.
const (
	flagAPIURL     = "api-url"
	flagAPIKey     = "api-key"
	flagAPIKeyFile = "api-key-file"
	flagCacheDir   = "cache-dir"
	flagJSON       = "json"
	flagQuiet      = "quiet"
	flagVerbose    = "verbose"
	flagTimeout    = "timeout"
	flagReqTimeout = "request-timeout"
	flagMaxDL      = "max-download"
)

// defaultAPIURL is the vendor's documented base URL.
const defaultAPIURL = "https://api.gizmo.antimlabs.com/v1"

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagAPIURL, Value: defaultAPIURL, EnvVars: []string{"GIZMO_API_URL"}, Usage: "base URL of the Gizmo API"},
		&cli.StringFlag{Name: flagAPIGeneration, Value: "auto", EnvVars: []string{"GIZMO_API_GENERATION"}, Usage: "API `GENERATION` the server speaks: auto (detected once per API URL with GET requests, remembered in the cache directory), alpha or current"},
		&cli.StringFlag{Name: flagAPIKey, EnvVars: []string{"GIZMO_API_KEY"}, Usage: "API key (prefer GIZMO_API_KEY or --api-key-file: flags show in ps)"},
		&cli.StringFlag{Name: flagAPIKeyFile, EnvVars: []string{"GIZMO_API_KEY_FILE"}, Usage: "read the API key from `FILE` (must not be readable by group or others)"},
		&cli.StringFlag{Name: flagCacheDir, EnvVars: []string{"GIZMO_CACHE_DIR"}, Usage: "cache directory (default $XDG_CACHE_HOME/gizmo or ~/.cache/gizmo)"},
		&cli.BoolFlag{Name: flagJSON, EnvVars: []string{"GIZMO_JSON"}, Usage: "machine-readable JSON output"},
		&cli.BoolFlag{Name: flagQuiet, Aliases: []string{"q"}, EnvVars: []string{"GIZMO_QUIET"}, Usage: "print only results and errors"},
		&cli.BoolFlag{Name: flagVerbose, EnvVars: []string{"GIZMO_VERBOSE"}, Usage: "log every request and retry to stderr"},
		&cli.DurationFlag{Name: flagTimeout, Value: 0, EnvVars: []string{"GIZMO_TIMEOUT"}, Usage: "give up after this long (0: no limit)"},
		&cli.DurationFlag{Name: flagReqTimeout, Value: api.DefaultRequestTimeout, EnvVars: []string{"GIZMO_REQUEST_TIMEOUT"}, Usage: "give up on an API request without an answer, or a download receiving nothing, after this long"},
		&cli.StringFlag{Name: flagMaxDL, Value: "4GiB", EnvVars: []string{"GIZMO_MAX_DOWNLOAD"}, Usage: "refuse a download larger than `SIZE` (e.g. 500MiB, 8GiB)"},
	}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	setupOnce.Do(func() {
		setUsageErrors(commands)
		setAssetCompletions(commands)
	})
	cmds := append([]*cli.Command(nil), commands...)
	cmds = append(cmds, helpCommand())
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	// Flags: urfave/cli adds --help only when the app has no help command
	// of its own, and gizmo has one (gizmo help TOPIC).
	return &cli.App{
		Name:                 "gizmo",
		Usage:                "bring Gizmo's generated robot assets into Isaac Sim and MuJoCo",
		UsageText:            "gizmo [global options] command [subcommand] [options and arguments, in any order] [-- arguments]",
		Version:              version,
		Flags:                append(globalFlags(), cli.HelpFlag),
		Commands:             cmds,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// Errors are printed once, by main; usage errors get exit code 2.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   usageError,
		CommandNotFound: func(c *cli.Context, name string) {
			err := fmt.Errorf("unknown command %q (see 'gizmo --help')", name)
			reportError(stderr, err, exitcode.Usage, lineageBool(c, flagJSON))
			os.Exit(exitcode.Usage)
		},
	}
}

// usageError makes a flag-parsing error a usage error (exit 2) pointing at
// the command's help, instead of urfave/cli's help text on stdout.
func usageError(c *cli.Context, err error, _ bool) error {
	// The flag package names every flag with one dash: name a long one as
	// it is written (--bogus).
	const undefined = "flag provided but not defined: -"
	if name, ok := strings.CutPrefix(err.Error(), undefined); ok && len(name) > 1 {
		err = errors.New(undefined + "-" + name)
	}
	return exitcode.With(exitcode.Usage, fmt.Errorf("%w (see '%s --help')", err, commandPath(c)))
}

// commandPath is the command's full name as typed: "gizmo cache path".
func commandPath(c *cli.Context) string {
	var names []string
	for _, x := range c.Lineage() {
		if x.Command != nil && x.Command.Name != "" && x.Command.Name != c.App.Name {
			names = append([]string{x.Command.Name}, names...)
		}
	}
	return strings.Join(append([]string{c.App.Name}, names...), " ")
}

var setupOnce sync.Once

// setUsageErrors gives every command and subcommand usageError: urfave/cli
// does not pass the app's OnUsageError down.
func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		if c.OnUsageError == nil {
			c.OnUsageError = usageError
		}
		setUsageErrors(c.Subcommands)
	}
}

// commandContext returns the command's context, bounded by --timeout.
func commandContext(c *cli.Context) (context.Context, context.CancelFunc) {
	ctx := c.Context
	if d := c.Duration(flagTimeout); d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run runs gizmo with args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer startProfile(stderr)()
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err == nil {
		return exitcode.OK
	}
	code := exitcode.Of(err)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		code = exitcode.Interrupted
	}
	reportError(stderr, err, code, jsonRequested(args))
	return code
}
