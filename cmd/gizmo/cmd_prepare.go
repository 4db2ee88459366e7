package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/plural"
	"github.com/antimlabs/gizmo/internal/termtext"
	"github.com/antimlabs/gizmo/sync/prepare"
)

// flagProject is the project root flag of init, place and prepare.
const flagProject = "project"

func projectFlag() cli.Flag {
	return &cli.StringFlag{Name: flagProject, Aliases: []string{"C"}, Value: ".", EnvVars: []string{"GIZMO_PROJECT"}, Usage: "the simulation project's root `DIR` (holds gizmo.toml)"}
}

func init() {
	register(&cli.Command{
		Name:      "prepare",
		Usage:     "make the project's placed assets match gizmo.toml (run before every simulation)",
		ArgsUsage: " ",
		Description: `Reads gizmo.toml, fetches into the cache only what it lacks, validates,
places every selected asset into each target's layout, repairs placed files
that were deleted or modified, and prints the placed model paths.

When gizmo.lock was written for the current gizmo.toml and every placed file
still has the size and mtime it was placed with, prepare opens no cache and
sends no request: it costs about what listing the placed files costs.

gizmo.lock is written when it is missing or gizmo.toml changed, and with
--update (which also refreshes the asset list from the API).

An asset that is not ready (pending, processing, or a status gizmo does not
know) is reported and placed by a later prepare once it is ready; one that
failed on Gizmo, or was deleted there while the cache lacks its files, is
reported and makes the run partial. The other assets are placed either way.

Exit status: 0 placed (assets not ready reported); 2 gizmo.toml or gizmo.lock
has an error (file:line); 3 an asset does not exist, or --offline and the
cache lacks a file; 4 a model fails validation (file:line of each problem);
5 partial: an asset gizmo.toml names failed on Gizmo or is gone, the rest is
placed; 6 the API key is refused; 7 --locked and what would be placed differs
from gizmo.lock, or gizmo.lock pins what the cache and Gizmo cannot give
(gizmo.lock is rewritten only with --update).

--from oci://REF (or source = "oci://REF" in gizmo.toml) fills the cache from
a bundle that 'gizmo push' published, then places offline: no request goes
to Gizmo, and gizmo.lock records the bundle's manifest digest; with --locked,
a tag that now names another bundle than gizmo.lock records exits 7.
Registry errors: 3 no such tag, 4 a blob does not match its digest,
6 credentials refused.`,
		Flags: append([]cli.Flag{
			projectFlag(),
			&cli.StringFlag{Name: "from", Usage: "take the assets from a bundle in an OCI registry (`oci://REGISTRY/REPO[:TAG|@DIGEST]`, as 'gizmo push' published it) instead of the Gizmo API; default: gizmo.toml's source"},
			&cli.BoolFlag{Name: "offline", Usage: "never touch the network; fail naming what the cache lacks"},
			&cli.BoolFlag{Name: "locked", Usage: "fail (exit 7), naming the asset, if what would be placed differs from gizmo.lock; never write it"},
			&cli.BoolFlag{Name: "update", Usage: "resolve gizmo.toml again (refreshing the asset list) and rewrite gizmo.lock"},
			&cli.BoolFlag{Name: "verify", Usage: "re-hash every placed file instead of trusting size and mtime"},
			&cli.BoolFlag{Name: "print-env", Usage: "print shell export lines (GIZMO_<SLUG>_<FORMAT>=path) for a launch script to eval"},
			&cli.BoolFlag{Name: flagJSON, Usage: "print the result as JSON"},
		}, registryFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return exitcode.With(exitcode.Usage, fmt.Errorf("prepare takes no arguments (got %q); the project is --project DIR", c.Args().First()))
			}
			if c.Bool("locked") && c.Bool("update") {
				return exitcode.With(exitcode.Usage, errors.New("--locked and --update contradict each other: --locked never changes gizmo.lock"))
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			o := prepareOptions(c)
			o.Offline = c.Bool("offline")
			o.Locked = c.Bool("locked")
			o.Update = c.Bool("update")
			o.Verify = c.Bool("verify")
			src, _ := prepareSource(c, o.Dir)
			var digest string
			if src != "" {
				if o.Offline {
					return exitcode.With(exitcode.Usage, errors.New("--offline and a registry source contradict each other: drop --offline (prepare from a registry sends no request to Gizmo)"))
				}
				var err error
				if digest, err = prepareFromRegistry(ctx, c, src, &o); err != nil {
					return prepareError(err)
				}
			}
			res, err := prepare.Run(ctx, o)
			if err != nil {
				return prepareError(err)
			}
			if src != "" && !o.Locked {
				if err := recordSource(o.Dir, src, digest); err != nil {
					return err
				}
			}
			if err := printPrepared(c.App.Writer, c.App.ErrWriter, o.Dir, res, printMode{
				json: lineageBool(c, flagJSON), env: c.Bool("print-env"), quiet: lineageBool(c, flagQuiet),
			}); err != nil {
				return err
			}
			return partialError(res)
		},
	})
}

// prepareOptions wires prepare to the cache, the API client and the
// validators; nothing is opened until prepare asks.
func prepareOptions(c *cli.Context) prepare.Options {
	stderr := c.App.ErrWriter
	quiet := lineageBool(c, flagQuiet)
	o := prepare.Options{
		Dir: c.String(flagProject),
		OpenCache: func() (prepare.Cache, error) {
			return openCache(c)
		},
		Remote: func() (prepare.Remote, error) {
			return newClient(c)
		},
		Validate: prepareValidator,
	}
	if !quiet && !lineageBool(c, flagJSON) {
		o.Log = func(format string, args ...any) {
			fmt.Fprintf(stderr, "gizmo: %s\n", termtext.Lines(fmt.Sprintf(format, args...)))
		}
	}
	return o
}

// partialError is exit status 5 (partial) when an asset gizmo.toml names
// failed on Gizmo or is gone: the rest is placed, and each was reported.
func partialError(res *prepare.Result) error {
	if !res.Partial() {
		return nil
	}
	var lines []string
	for _, u := range res.Unplaced {
		if u.Named && (u.Status == "failed" || u.Status == prepare.StatusGone) {
			lines = append(lines, prepare.UnplacedStatus(u.ID, u.Name, u.Status, u.Reason))
		}
	}
	return exitcode.With(exitcode.Partial, fmt.Errorf("%d of the assets gizmo.toml names could not be placed (the rest is in place; remove them from gizmo.toml, or generate them again):\n  %s", len(lines), strings.Join(lines, "\n  ")))
}

// prepareError gives prepare's errors their exit codes.
func prepareError(err error) error {
	var (
		pe *project.Error
		le *prepare.LockedError
		ie *prepare.InvalidError
		me *prepare.MissingError
		nf *prepare.NotFoundError
	)
	switch {
	case errors.As(err, &pe), errors.Is(err, project.ErrNoManifest):
		return exitcode.With(exitcode.Usage, err)
	case errors.As(err, &le):
		return exitcode.With(exitcode.Locked, err)
	case errors.As(err, &ie):
		return exitcode.With(exitcode.Invalid, err)
	case errors.As(err, &me), errors.As(err, &nf):
		return exitcode.With(exitcode.NotFound, err)
	}
	return exitForAPI(err)
}

type printMode struct{ json, env, quiet bool }

// printPrepared prints the placed models: one path per line, export lines
// with --print-env, or JSON.
func printPrepared(stdout, stderr io.Writer, dir string, res *prepare.Result, m printMode) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	switch {
	case m.json:
		return ui.PrintJSON(stdout, toPreparedJSON(abs, res))
	case m.env:
		fmt.Fprintf(stdout, "export GIZMO_PROJECT=%s\n", shellQuote(abs))
		for _, l := range envLines(abs, res.Items) {
			fmt.Fprintln(stdout, l)
		}
		return nil
	}
	for _, it := range res.Items {
		fmt.Fprintln(stdout, filepath.Join(dir, filepath.FromSlash(it.Path)))
	}
	if !m.quiet {
		switch {
		case res.NoOp:
			fmt.Fprintf(stderr, "gizmo: %s in place\n", plural.Count(len(res.Items), "model", "models"))
		default:
			fmt.Fprintf(stderr, "gizmo: %s\n", prepareSummary(res))
		}
	}
	return nil
}

// envLines names each placed model GIZMO_<SLUG>_<FORMAT> (and the MuJoCo
// scene GIZMO_<SLUG>_SCENE); a name taken twice (one slug in two targets)
// gets the target folder in it.
func envLines(abs string, items []prepare.Item) []string {
	type kv struct{ k, v string }
	var vars []kv
	count := map[string]int{}
	name := func(parts ...string) string {
		s := strings.ToUpper(strings.Join(parts, "_"))
		return "GIZMO_" + strings.Map(func(r rune) rune {
			if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
				return r
			}
			return '_'
		}, s)
	}
	for _, it := range items {
		count[name(it.Slug, it.Format.Short())]++
	}
	for _, it := range items {
		k := name(it.Slug, it.Format.Short())
		scene := name(it.Slug, "scene")
		if count[k] > 1 {
			k = name(it.Target, it.Slug, it.Format.Short())
			scene = name(it.Target, it.Slug, "scene")
		}
		vars = append(vars, kv{k, filepath.Join(abs, filepath.FromSlash(it.Path))})
		if it.Scene != "" && it.Format == formats.MuJoCo {
			vars = append(vars, kv{scene, filepath.Join(abs, filepath.FromSlash(it.Scene))})
		}
	}
	sort.SliceStable(vars, func(i, j int) bool { return vars[i].k < vars[j].k })
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = "export " + v.k + "=" + shellQuote(v.v)
	}
	return out
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellWord is s as one word of a POSIX shell command line: as it is when
// that is safe (ids, plain names), quoted otherwise ("arm 1").
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:@+=") == "" {
		return s
	}
	return shellQuote(s)
}

// prepareSummary is the line a prepare that changed something ends with:
// "3 models in place (1 fetched, 1 folder written, 0 repaired, 0 removed)".
func prepareSummary(res *prepare.Result) string {
	return fmt.Sprintf("%s in place (%d fetched, %s, %d repaired, %d removed)",
		plural.Count(len(res.Items), "model", "models"), res.Fetched,
		plural.Count(res.Placed, "folder written", "folders written"), res.Repaired, res.Removed)
}
