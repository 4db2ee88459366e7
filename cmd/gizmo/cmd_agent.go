package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/plural"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/agent"
	"github.com/antimlabs/gizmo/sync/api"
)

const flagRegistry = "registry"

func registryFlag() cli.Flag {
	return &cli.StringFlag{Name: flagRegistry, EnvVars: []string{"GIZMO_AGENT_PROJECTS"}, Usage: "the list of registered projects, `FILE` (default $XDG_CONFIG_HOME/gizmo/agent-projects)"}
}

func init() {
	jsonFlag := func() cli.Flag { return &cli.BoolFlag{Name: flagJSON, Usage: "print the result as JSON"} }
	register(&cli.Command{
		Name:  "agent",
		Usage: "the background sync agent: keeps registered projects ready and repairs them as they change",
		Description: `gizmo agent run keeps every registered simulation project ready: it syncs the
account every --interval, brings each project up to date as gizmo prepare
would, and restores placed files that are deleted or modified within a second.
Register projects with gizmo agent add; read its state with gizmo agent
status; install it as a systemd user service or a launchd agent with
gizmo agent install.`,
		Subcommands: []*cli.Command{
			{
				Name:      "run",
				Usage:     "run the agent in the foreground (as systemd and launchd want it)",
				ArgsUsage: " ",
				Description: `Syncs the account every --interval (± 10 % jitter), then brings every
registered project (and each --project) up to date as gizmo prepare --update
would. Watches each project's gizmo.toml and placed files: a placed file that
is deleted, truncated or changed is restored from the cache within a second;
an edited gizmo.toml is read again (an invalid edit keeps the last good one
and shows the error, with its line, in gizmo agent status).

Serves a control API on the unix socket agent.sock in the cache directory
(mode 0600): GET /status, /healthz, /readyz, /metrics; POST /sync.

SIGINT and SIGTERM stop it within 5 seconds (exit 0); SIGHUP reloads the
project list, the API key file and every gizmo.toml. With NOTIFY_SOCKET set
(systemd Type=notify) it sends READY=1 after the first pass, STOPPING=1 on
shutdown and WATCHDOG=1 when WATCHDOG_USEC asks for it.

--once runs one pass and exits with prepare's exit status (for cron and CI).
Exit status: 0; 9 another agent runs on this cache; 2 bad flags; with
--once, as gizmo prepare (and 1 or 6 when the sync failed).`,
				Flags: []cli.Flag{
					&cli.StringSliceFlag{Name: flagProject, Aliases: []string{"C"}, Usage: "also keep `DIR` ready for this run (repeatable)"},
					registryFlag(),
					&cli.DurationFlag{Name: "interval", Value: agent.DefaultInterval, EnvVars: []string{"GIZMO_AGENT_INTERVAL"}, Usage: "sync the account every `D` (± 10 % jitter)"},
					&cli.DurationFlag{Name: "rescan", Value: agent.DefaultRescan, Usage: "check every project every `D` even without file events"},
					&cli.DurationFlag{Name: "max-backoff", Value: agent.DefaultMaxBackoff, Usage: "longest wait between syncs while the API fails (a Retry-After may ask for more)"},
					&cli.BoolFlag{Name: "once", Usage: "one pass (sync, then every project), then exit with prepare's status"},
					&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"GIZMO_LOG_FORMAT"}, Usage: "`text` or json log lines on stderr"},
					&cli.StringSliceFlag{Name: "format", Aliases: []string{"f"}, Usage: "sync only `FORMAT` (usd, urdf, mjcf; repeatable; default: all)"},
					&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "sync only assets carrying `TAG` (repeatable); projects still get what they select"},
					&cli.IntFlag{Name: "concurrency", Aliases: []string{"j"}, Value: 4, Usage: "`N` downloads at once"},
					&cli.BoolFlag{Name: "scenes", Value: true, Usage: "mirror the account's scenes too, as gizmo sync does (current generation; --scenes=false: assets only)"},
				},
				Action: runAgentCommand,
			},
			{
				Name:      "add",
				Usage:     "register a project (a folder holding gizmo.toml) for the agent to keep ready",
				ArgsUsage: "DIR",
				Flags:     []cli.Flag{registryFlag(), jsonFlag()},
				Action: func(c *cli.Context) error {
					dir, reg, err := agentDirAndRegistry(c)
					if err != nil {
						return err
					}
					abs, added, err := reg.Add(c.Context, dir)
					if errors.Is(err, project.ErrNoManifest) {
						return exitcode.With(exitcode.NotFound, err)
					}
					if err != nil {
						return err
					}
					if lineageBool(c, flagJSON) {
						return ui.PrintJSON(c.App.Writer, agentProjectJSON{Project: abs, Registered: true, Added: added})
					}
					if added {
						fmt.Fprintf(c.App.Writer, "registered %s\n", dir) // as given; --json gives it absolute
					} else {
						fmt.Fprintf(c.App.Writer, "%s is registered already\n", dir)
					}
					return nil
				},
			},
			{
				Name:      "remove",
				Usage:     "unregister a project (its files are left as they are)",
				ArgsUsage: "DIR",
				Flags:     []cli.Flag{registryFlag(), jsonFlag()},
				Action: func(c *cli.Context) error {
					dir, reg, err := agentDirAndRegistry(c)
					if err != nil {
						return err
					}
					abs, err := reg.Remove(c.Context, dir)
					if errors.Is(err, agent.ErrNotRegistered) {
						return exitcode.With(exitcode.NotFound, err)
					}
					if err != nil {
						return err
					}
					if lineageBool(c, flagJSON) {
						return ui.PrintJSON(c.App.Writer, agentProjectJSON{Project: abs})
					}
					fmt.Fprintf(c.App.Writer, "unregistered %s\n", dir)
					return nil
				},
			},
			{
				Name:  "list",
				Usage: "list the registered projects",
				Flags: []cli.Flag{registryFlag(), jsonFlag()},
				Action: func(c *cli.Context) error {
					reg, err := agentRegistry(c)
					if err != nil {
						return err
					}
					list, err := reg.List()
					if err != nil {
						return err
					}
					if lineageBool(c, flagJSON) {
						if list == nil {
							list = []string{}
						}
						return ui.PrintJSON(c.App.Writer, struct {
							Registry string   `json:"registry"`
							Projects []string `json:"projects"`
						}{reg.Path, list})
					}
					for _, d := range list {
						fmt.Fprintln(c.App.Writer, d)
					}
					return nil
				},
			},
			{
				Name:  "install",
				Usage: "write a systemd user unit or a launchd agent plist that runs gizmo agent run",
				Description: `--systemd writes $XDG_CONFIG_HOME/systemd/user/gizmo-agent.service
(Type=notify, a watchdog, SIGHUP on reload, restart on failure); --launchd
writes ~/Library/LaunchAgents/com.antimlabs.gizmo.agent.plist. Either takes
the cache directory, the API URL and the project list from the current
settings, and the API key from a key file, never inline: --api-key-file (or
GIZMO_API_KEY_FILE) is used as it is; a key given by GIZMO_API_KEY or
--api-key is written to $XDG_CONFIG_HOME/gizmo/api-key, readable only by
you. Prints the command that enables the service.
Exit status: 0; 2 neither or both of --systemd and --launchd, or a file
exists and differs (--force replaces it); 6 no API key.`,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "systemd", Usage: "write a systemd user unit"},
					&cli.BoolFlag{Name: "launchd", Usage: "write a launchd LaunchAgent plist (macOS)"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the file to `PATH` instead of the service manager's folder"},
					&cli.BoolFlag{Name: "force", Usage: "replace a unit, plist or key file that differs"},
					&cli.DurationFlag{Name: "interval", Usage: "the agent's --interval (default: the agent's default)"},
					registryFlag(),
					jsonFlag(),
				},
				Action: runAgentInstall,
			},
			{
				Name:  "status",
				Usage: "show the running agent's state (exit 8 when none runs on this cache)",
				Description: `Reads the agent's control API (agent.sock in the cache directory). --json
prints it in the README's JSON glossary names: pid, version, ready, last_sync,
next_sync, queue, downloads, projects (with manifest_error and models), errors.
Exit status: 0; 8 no agent runs on this cache.`,
				Flags: []cli.Flag{jsonFlag()},
				Action: func(c *cli.Context) error {
					dir, err := cacheDir(c)
					if err != nil {
						return err
					}
					st, err := (&agent.Client{CacheDir: dir}).Status(c.Context)
					if errors.Is(err, agent.ErrNotRunning) {
						return exitcode.With(exitcode.NotRunning, err)
					}
					if err != nil {
						return err
					}
					if lineageBool(c, flagJSON) {
						return ui.PrintJSON(c.App.Writer, toAgentStatusJSON(st))
					}
					printAgentStatus(c.App.Writer, st)
					return nil
				},
			},
		},
	})
}

// agentDirAndRegistry reads the one project folder that add and remove
// take, and opens the project registry.
func agentDirAndRegistry(c *cli.Context) (string, agent.Registry, error) {
	args := c.Args().Slice()
	if len(args) != 1 {
		return "", agent.Registry{}, exitcode.With(exitcode.Usage, fmt.Errorf("want one project folder (see 'gizmo agent %s --help')", c.Command.Name))
	}
	reg, err := agentRegistry(c)
	return args[0], reg, err
}

func agentRegistry(c *cli.Context) (agent.Registry, error) {
	for _, x := range c.Lineage() {
		if p := x.String(flagRegistry); p != "" {
			abs, err := filepath.Abs(p)
			if err != nil {
				return agent.Registry{}, err
			}
			return agent.Registry{Path: abs}, nil
		}
	}
	p, err := agent.DefaultRegistry()
	return agent.Registry{Path: p}, err
}

// agentLogger is the agent's logger on stderr.
func agentLogger(w io.Writer, format string, verbose bool) (*slog.Logger, error) {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	o := &slog.HandlerOptions{Level: level}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, exitcode.With(exitcode.Usage, fmt.Errorf("--log-format %q: want text or json", format))
}

func runAgentCommand(c *cli.Context) error {
	if c.NArg() > 0 {
		return exitcode.With(exitcode.Usage, fmt.Errorf("agent run takes no arguments (got %q); projects are --project DIR or 'gizmo agent add DIR'", c.Args().First()))
	}
	log, err := agentLogger(c.App.ErrWriter, c.String("log-format"), lineageBool(c, flagVerbose))
	if err != nil {
		return err
	}
	dir, err := cacheDir(c)
	if err != nil {
		return err
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	reg, err := agentRegistry(c)
	if err != nil && len(c.StringSlice(flagProject)) == 0 {
		return err
	}
	if c.Duration("interval") < time.Second {
		return exitcode.With(exitcode.Usage, fmt.Errorf("--interval %v: want at least 1s", c.Duration("interval")))
	}
	if n := c.Int("concurrency"); n < 1 || n > 256 {
		return exitcode.With(exitcode.Usage, fmt.Errorf("--concurrency %d: want 1 to 256", n))
	}
	cfg := agent.Config{
		CacheDir:   dir,
		Registry:   reg,
		Projects:   c.StringSlice(flagProject),
		Interval:   c.Duration("interval"),
		Rescan:     c.Duration("rescan"),
		MaxBackoff: c.Duration("max-backoff"),
		Version:    version,
		Sync: gsync.Options{
			Tags:        c.StringSlice("tag"),
			Concurrency: c.Int("concurrency"),
			Scenes:      c.Bool("scenes"),
			Validator:   syncValidator,
		},
	}
	for _, s := range c.StringSlice("format") {
		f, err := formats.Parse(s)
		if err != nil {
			return exitcode.With(exitcode.Usage, fmt.Errorf("--format: %w", err))
		}
		cfg.Sync.Formats = append(cfg.Sync.Formats, f)
	}
	metrics := &agent.Metrics{}
	deps := agent.Deps{
		OpenCache: func() (*cache.Cache, error) { return cache.Open(dir) },
		Remote: func() (agent.Remote, error) {
			return newAgentClient(c, metrics, log)
		},
		Validate: prepareValidator,
		Log:      log,
		Metrics:  metrics,
		Notify:   agent.NotifierFromEnv(),
	}

	lock, err := agent.Lock(dir)
	var busy *agent.BusyError
	if errors.As(err, &busy) {
		return exitcode.With(exitcode.Busy, err)
	}
	if err != nil {
		return err
	}
	defer lock.Unlock()

	a := agent.New(cfg, deps)
	if c.Bool("once") {
		return agentOnce(c, a)
	}

	ln, err := agent.Listen(dir)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	log.Info("agent started", "pid", os.Getpid(), "version", version, "cache", dir, "socket", agent.SocketPath(dir),
		"registry", reg.Path, "interval", cfg.Interval.String())
	// Signals end c.Context (main); the agent then stops within 5 s and
	// the command exits 0.
	return a.Run(c.Context, reload, func(ctx context.Context) error { return a.Serve(ctx, ln) })
}

// newAgentClient is the API client of the agent: the command's client,
// counting its requests and bytes for /metrics.
func newAgentClient(c *cli.Context, m *agent.Metrics, log *slog.Logger) (*api.Client, error) {
	key, err := apiKey(c)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 2 * time.Minute
	t.MaxIdleConnsPerHost = 16
	o := api.Options{
		BaseURL:    c.String(flagAPIURL),
		APIKey:     key,
		UserAgent:  userAgent() + " agent",
		HTTPClient: &http.Client{Transport: m.Transport(t)},
	}
	if lineageBool(c, flagVerbose) {
		o.Logger = log // every request and retry, at debug level
	}
	o.Budget = rateBudget(c, o.BaseURL, key) // shared with the commands on this key
	client, err := api.New(o)
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("%w (--api-url or GIZMO_API_URL)", err))
	}
	// The generation the server speaks, as for every command (generation.go).
	return withGeneration(c, client, o)
}

// agentOnce runs one pass and maps its outcome to prepare's exit codes:
// the first failing project's, else the sync's.
func agentOnce(c *cli.Context, a *agent.Agent) error {
	rep := a.Once(c.Context)
	if c.Context.Err() != nil {
		return c.Context.Err()
	}
	w := c.App.Writer
	var firstErr error
	for _, p := range rep.Projects {
		switch {
		case p.Err != nil:
			fmt.Fprintf(c.App.ErrWriter, "gizmo: %s: %v\n", p.Dir, p.Err)
			if firstErr == nil {
				firstErr = exitcode.With(exitcode.Of(prepareError(p.Err)), fmt.Errorf("%s: not ready", p.Dir))
			}
		case p.Result != nil:
			fmt.Fprintf(w, "%s: %s\n", p.Dir, prepareSummary(p.Result))
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if rep.SyncErr != nil {
		return exitForAPI(syncError(unwrapSync(rep.SyncErr), c.String(flagAPIURL)))
	}
	if rep.Sync != nil && !rep.Sync.OK() {
		for _, f := range rep.Sync.Failures {
			fmt.Fprintf(c.App.ErrWriter, "gizmo: sync: %s %s: %s\n", f.ID, f.Format.Short(), f.Reason)
		}
		return exitcode.Silent(exitcode.Partial)
	}
	if len(rep.Projects) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "gizmo: the account is synced; %v\n", agent.ErrNoProjects)
	}
	return nil
}

// unwrapSync drops the agent's "sync: " prefix, which syncError adds again.
func unwrapSync(err error) error {
	if u := errors.Unwrap(err); u != nil && strings.HasPrefix(err.Error(), "sync: ") {
		return u
	}
	return err
}

// printAgentStatus prints the agent's state for a person.
func printAgentStatus(w io.Writer, s *agent.Status) {
	state := "starting (first pass running)"
	if s.Ready {
		state = "ready"
	}
	fmt.Fprintf(w, "agent: PID %d, %s, version %s, up %s\n", s.PID, state, s.Version, time.Since(s.Started).Round(time.Second))
	fmt.Fprintf(w, "cache: %s\n", s.CacheDir)
	switch {
	case s.Syncing:
		fmt.Fprintf(w, "sync: running (%d queued, %d downloading)\n", s.Queue, len(s.Downloads))
	case s.LastSync != nil && s.LastSync.OK:
		fmt.Fprintf(w, "sync: ok at %s (%s, %s), next at %s\n", s.LastSync.Finished.Local().Format(time.DateTime), plural.Count(s.LastSync.Assets, "asset", "assets"), plural.Count(s.LastSync.New, "new file", "new files"), s.NextSync.Local().Format(time.DateTime))
	case s.LastSync != nil:
		fmt.Fprintf(w, "sync: FAILED at %s: %s; next try at %s\n", s.LastSync.Finished.Local().Format(time.DateTime), s.LastSync.Error, s.NextSync.Local().Format(time.DateTime))
	}
	for _, p := range s.Projects {
		mark := "ok"
		if !p.OK {
			mark = "NOT READY"
		}
		watch := "watched"
		if !p.Watched {
			watch = "rescanned"
		}
		fmt.Fprintf(w, "project %s: %s, %s, %s, %s\n", p.Dir, mark, plural.Count(p.Placed, "model", "models"), plural.Count(int(p.Restores), "restore", "restores"), watch)
		if p.ManifestError != nil {
			loc := p.ManifestError.File
			if p.ManifestError.Line > 0 {
				loc = fmt.Sprintf("%s:%d", loc, p.ManifestError.Line)
			}
			fmt.Fprintf(w, "  %s: %s (the last good gizmo.toml stays in use)\n", loc, p.ManifestError.Message)
		} else if p.Error != "" {
			fmt.Fprintf(w, "  %s\n", p.Error)
		}
	}
	if len(s.Projects) == 0 {
		fmt.Fprintln(w, "no projects: register one with 'gizmo agent add DIR'")
	}
}
