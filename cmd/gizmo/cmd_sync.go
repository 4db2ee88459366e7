package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/testhook"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/check"
)

func init() {
	register(&cli.Command{
		Name:  "sync",
		Usage: "mirror every ready asset (and scene) of the account into the cache",
		Description: `Lists every asset of the account, records their metadata in the cache, then
exports, downloads, verifies and stores each wanted format of each ready asset
that the cache lacks. URDF and MJCF models are validated as they are stored.

In the current generation of the API the account's scenes are mirrored too
(--scenes=false: assets only): each ready scene's export (the whole scene) is
stored as an asset's is, and a scene edited since its export was cached (its
revision changed) is exported again. The alpha generation has no scenes:
--scenes against it exits 2.

Pending and processing assets are picked up by the next sync (or waited for
with --wait); failed generations are shown with their reason. Assets gone from
the account are marked vanished, and removed from the cache only with --prune.

Exit status: 0 when everything wanted is in the cache; 5 when some files
failed (each is listed with its reason); 6 when the API key is refused; 1 when
the API cannot be reached (the cache is left as it was); 130 when interrupted
(files finished so far are kept: run it again to go on).

Output: on a terminal, an overall bar and one line per active download; else
one line per finished item; with --json, one JSON event per line on stdout
(listed, pending, generation_failed, unknown_status, would_fetch, start,
retry, done, skip, fail, vanished, pruned, summary). A summary closes every
run.`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "format", Aliases: []string{"f"}, Usage: "fetch only `FORMAT` (usd, urdf, mjcf; repeatable; default: every format an asset offers)"},
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "fetch only assets carrying `TAG` (repeatable: any of them)"},
			&cli.IntFlag{Name: "concurrency", Aliases: []string{"j"}, Value: gsync.DefaultConcurrency, Usage: "`N` downloads in flight at once (metadata requests are bounded by N too)"},
			&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "wait for pending and processing assets to settle (each at most 30m; polls from 1s up to every 30s), and fetch those that become ready"},
			&cli.BoolFlag{Name: "prune", Usage: "remove assets that are gone from the account from the cache"},
			&cli.BoolFlag{Name: "scenes", Value: true, Usage: "mirror the account's scenes too (current generation; --scenes=false: assets only)"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "say what would be fetched; fetch and change nothing"},
			&cli.BoolFlag{Name: "no-validate", Usage: "do not validate URDF and MJCF models as they are stored"},
			&cli.BoolFlag{Name: flagJSON, Usage: "one JSON event per line on stdout"},
		},
		Action: func(c *cli.Context) error {
			opts, err := syncOptionsFrom(c)
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			syncRuntime()
			ctx, cancel := commandContext(c)
			defer cancel()
			client, err := newClient(c)
			if err != nil {
				return err
			}
			if c.IsSet("scenes") && opts.engine.Scenes && client.Generation() != api.GenerationCurrent {
				return exitcode.With(exitcode.Usage, fmt.Errorf("sync --scenes: %w: the alpha generation of the API (which %s speaks) has no scenes: gizmo sync mirrors its assets", api.ErrNotInGeneration, client.BaseURL()))
			}
			// Opened once the account is listed: a sync that cannot
			// reach the API creates no cache folder.
			store := &lazyStore{open: func() (*cache.Cache, error) { return openCache(c) }}
			defer store.Close()
			return runSync(ctx, opts, syncDeps{
				remote: client,
				store:  store,
				apiURL: client.BaseURL(),
				stdout: c.App.Writer,
				stderr: c.App.ErrWriter,
				tty:    ui.IsTerminal(c.App.ErrWriter),
			})
		},
	})
}

// syncOptions are the flags of gizmo sync.
type syncOptions struct {
	engine   gsync.Options
	json     bool
	quiet    bool
	verbose  bool
	validate bool
}

// syncDeps are what runSync works with; tests pass their own.
type syncDeps struct {
	remote         gsync.Remote
	store          gsync.Store
	apiURL         string // for error messages
	stdout, stderr io.Writer
	tty            bool // stderr is a terminal: draw live progress
}

func syncOptionsFrom(c *cli.Context) (syncOptions, error) {
	o := syncOptions{
		json:     lineageBool(c, flagJSON),
		quiet:    lineageBool(c, flagQuiet),
		verbose:  lineageBool(c, flagVerbose),
		validate: !c.Bool("no-validate"),
	}
	for _, s := range c.StringSlice("format") {
		f, err := formats.Parse(s)
		if err != nil {
			return o, fmt.Errorf("--format: %w", err)
		}
		o.engine.Formats = append(o.engine.Formats, f)
	}
	o.engine.Tags = c.StringSlice("tag")
	if n := c.Int("concurrency"); n < 1 || n > 256 {
		return o, fmt.Errorf("--concurrency %d: want 1 to 256", n)
	}
	o.engine.Concurrency = c.Int("concurrency")
	o.engine.Wait = c.Bool("wait")
	o.engine.Prune = c.Bool("prune")
	o.engine.Scenes = c.Bool("scenes")
	o.engine.DryRun = c.Bool("dry-run")
	return o, nil
}

// runSync runs the sync engine and reports: live progress on a terminal,
// one line per finished item otherwise, one JSON event per line with --json.
func runSync(ctx context.Context, o syncOptions, d syncDeps) error {
	var rep ui.Reporter
	switch {
	case o.json:
		rep = ui.NewSyncReporter(d.stdout, ui.ReportJSON, false, false)
	case d.tty && !o.quiet:
		rep = ui.NewSyncReporter(d.stderr, ui.ReportTerminal, o.quiet, o.verbose)
	default:
		rep = ui.NewSyncReporter(d.stderr, ui.ReportLines, o.quiet, o.verbose)
	}
	opts := o.engine
	opts.OnEvent = rep.Event
	if o.validate {
		opts.Validator = syncValidator
	}
	sum, err := gsync.Run(ctx, d.remote, d.store, opts)
	rep.Close()
	if err == nil && !o.json && !o.quiet {
		reportRate(d.stderr, d.remote, sum) // cmd_sync_rate.go
	}
	if err != nil {
		return syncError(err, d.apiURL)
	}
	if !sum.OK() {
		// Every failure is in the summary already. Partial only when
		// something wanted is in the cache: when every file failed, the
		// sync failed.
		if sum.Failed > 0 && sum.New == 0 && sum.Skipped == 0 {
			return fmt.Errorf("sync: every file wanted failed (%d), nothing is in the cache", sum.Failed)
		}
		return exitcode.Silent(exitcode.Partial)
	}
	return nil
}

// syncError turns a run-stopping error into a message that says what to do,
// with the exit code for it.
func syncError(err error, apiURL string) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sync interrupted: %w (files finished so far are kept; run gizmo sync again to go on)", err)
	case errors.Is(err, api.ErrUnauthorized), errors.Is(err, api.ErrForbidden):
		return exitcode.With(exitcode.Auth, fmt.Errorf("sync: %w (check the API key: GIZMO_API_KEY, --api-key-file or --api-key)", err))
	case syncUnreachable(err):
		return fmt.Errorf("sync: cannot reach the Gizmo API at %s: %w (check --api-url or GIZMO_API_URL, and the network; the cache was not changed)", apiURL, err)
	}
	return fmt.Errorf("sync: %w", err)
}

// syncUnreachable tells whether err is a failure to connect to the server.
func syncUnreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial")
}

// syncValidator validates a stored model with the project's validators,
// reading it through files (its download, shown where its tree will be).
// The verdict keeps the first five error lines.
func syncValidator(ctx context.Context, path string, files gsync.Files) gsync.Validation {
	testhook.Reached(ctx, testhook.Validating)
	return checkModel(ctx, path, files, 5)
}

// prepareValidator validates a model before prepare places it; the verdict
// keeps every error line, for prepare's InvalidError.
func prepareValidator(ctx context.Context, path string, files gsync.Files) gsync.Validation {
	return checkModel(ctx, path, files, -1)
}

// checkModel runs the project's validators on a model read through files
// (the operating system when nil), keeping at most maxLines error lines
// (all when negative). A model that cannot be checked at all is invalid,
// with the reason in Summary and Err.
func checkModel(ctx context.Context, path string, files gsync.Files, maxLines int) gsync.Validation {
	reps, err := check.Path(ctx, path, validate.Options{FS: files})
	if err != nil {
		return gsync.Validation{Valid: false, Errors: 1, Summary: []string{err.Error()}, Err: err}
	}
	v := gsync.Validation{Valid: true}
	for _, r := range reps {
		if !r.Valid {
			v.Valid = false
		}
		v.Errors += len(r.Errors)
		v.Warnings += len(r.Warnings)
		for _, p := range r.Errors {
			if maxLines < 0 || len(v.Summary) < maxLines {
				v.Summary = append(v.Summary, p.String())
			}
		}
	}
	return v
}

// syncGCPercent is the garbage collector's target for a sync, unless GOGC
// says otherwise. A sync's live heap is a few MiB while it allocates
// hundreds (requests, zips, parsed models), so at Go's default of 100 the
// collector runs hundreds of times. bench.sh (3,000 files): 100 gave
// 6.6-6.7 s and 8.6-8.8 s of CPU, 400 gave 4.6-4.8 s and 5.7-6.2 s of CPU,
// for a peak RSS of 37-38 MiB instead of 25 (800: no faster, 55 MiB).
const syncGCPercent = 400

// syncProcs is how many Ps a sync runs with, per core Go would use, unless
// GOMAXPROCS says otherwise. A sync spends much of its time in file system
// calls (creating, renaming, flushing, locking), and a goroutine in such a
// call holds its P until the runtime's monitor takes it back (20 µs to
// 10 ms later); meanwhile, with one P per core, the downloads and stores
// that could run wait. Alternated runs of a 3,000-file sync on 2 cores:
// 2.37-2.43 s with 2 Ps, 2.04-2.09 s with 4 (medians over 8 runs: 2.50
// and 2.19 s), with a third fewer context switches and less CPU for the
// server; 3, 6 and 8 were no better than 4; peak RSS +4-8 MiB.
const syncProcs = 2

// syncRuntime tunes the Go runtime for a sync: see syncGCPercent and
// syncProcs.
func syncRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(syncGCPercent)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(syncProcs * runtime.GOMAXPROCS(0))
	}
}
