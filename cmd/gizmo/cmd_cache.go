package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/plural"
)

func init() {
	jsonFlag := func() cli.Flag { return &cli.BoolFlag{Name: flagJSON, Usage: "print the result as JSON"} }
	register(&cli.Command{
		Name:  "cache",
		Usage: "inspect and maintain the local cache of downloaded assets",
		Description: `The cache (--cache-dir, GIZMO_CACHE_DIR, else $XDG_CACHE_HOME/gizmo, else
~/.cache/gizmo) stores every download once by its SHA-256 and unpacks it into
a read-only tree that simulators can load from directly. Any number of gizmo
processes may use it at once.`,
		Subcommands: []*cli.Command{
			{
				Name:  "ls",
				Usage: "list the assets and formats held, with sizes and status",
				Description: `One row per cached (asset, format), plus the known assets that have no
format cached. --json prints an array of objects with id, name, status,
vanished, format, kind, size, sha256, model (absolute path), fetched_at and
validation. -q prints only the ids of the assets with a format cached,
one per line.`,
				Flags: []cli.Flag{jsonFlag()},
				Action: func(c *cli.Context) error {
					return withCache(c, func(ch *cache.Cache) error {
						return runCacheLs(ch, c.App.Writer, outputModeOf(c))
					})
				},
			},
			{
				Name:      "path",
				Usage:     "print the absolute path of a cached model file",
				ArgsUsage: "ID|NAME",
				Description: `For scripts and simulator configs. Without --format, the asset must be cached
in exactly one format. Exit status 3 when the asset or format is not cached.
--tree prints the folder holding the model and its meshes instead.`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "`FORMAT`: usd, urdf or mjcf"},
					&cli.BoolFlag{Name: "tree", Usage: "print the tree's folder, not the model file"},
					jsonFlag(),
				},
				Action: func(c *cli.Context) error {
					args := c.Args().Slice()
					if len(args) != 1 {
						return exitcode.With(exitcode.Usage, errors.New("cache path takes one asset id or name (see 'gizmo cache path --help')"))
					}
					var f formats.Format
					if s := c.String("format"); s != "" {
						var err error
						if f, err = formats.Parse(s); err != nil {
							return exitcode.With(exitcode.Usage, fmt.Errorf("--format: %w", err))
						}
					}
					return withCache(c, func(ch *cache.Cache) error {
						return runCachePath(c.Context, ch, c.App.Writer, args[0], f, c.Bool("tree"), outputModeOf(c))
					})
				},
			},
			{
				Name:  "verify",
				Usage: "re-hash every file and tree and reconcile the index with the disk",
				Description: `Reports each problem: missing, corrupt, unreadable (a permission or I/O
error), index (a damaged index or record), partial (a temp file left by an
interrupted download, which the next store of it or 'gizmo cache gc'
removes) or extra (referenced by nothing; 'gizmo cache gc' removes it).
--repair rebuilds a damaged index from what can be read of it and from the
stored files, removes a damaged unpacked tree whose download is sound (it
is unpacked again on next use), drops the entries whose download is bad
(so the next sync or export fetches them again) and removes leftover temp
files. An unreadable file is never taken for a damaged one: while any is
reported, --repair repairs nothing.

Exit status: 0 when nothing is left to do (extra and partial files alone
are notes); 4 when problems remain (a damaged index, a missing or corrupt
file); 1 when something cannot be read.`,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "repair", Usage: "remove damaged trees, drop entries with bad downloads, remove leftover temp files"},
					jsonFlag(),
				},
				Action: func(c *cli.Context) error {
					ctx, cancel := commandContext(c)
					defer cancel()
					dir, err := cacheDir(c)
					if err != nil {
						return err
					}
					return runCacheVerify(ctx, dir, c.App.Writer, c.Bool("repair"), outputModeOf(c))
				},
			},
			{
				Name:  "gc",
				Usage: "remove files no index record references and stale temp files",
				Description: `--prune also drops the assets that have vanished from the account (their
records and files). --dry-run only reports what would go.`,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "report, remove nothing"},
					&cli.BoolFlag{Name: "prune", Usage: "also drop assets that have vanished from the account"},
					jsonFlag(),
				},
				Action: func(c *cli.Context) error {
					ctx, cancel := commandContext(c)
					defer cancel()
					return withCache(c, func(ch *cache.Cache) error {
						return runCacheGC(ctx, ch, c.App.Writer, cache.GCOptions{DryRun: c.Bool("dry-run"), Prune: c.Bool("prune")}, outputModeOf(c))
					})
				},
			},
			{
				Name:  "info",
				Usage: "print the cache's location, size, counts and schema version",
				Flags: []cli.Flag{jsonFlag()},
				Action: func(c *cli.Context) error {
					return withCache(c, func(ch *cache.Cache) error {
						return runCacheInfo(ch, c.App.Writer, outputModeOf(c))
					})
				},
			},
			{
				Name:      "rm",
				Usage:     "remove an asset's records and files from the cache",
				ArgsUsage: "ID|NAME...",
				Description: `--json prints {"removed": [ID...]}: the ids whose records and unshared
files are gone.`,
				Flags: []cli.Flag{jsonFlag()},
				Action: func(c *cli.Context) error {
					args := c.Args().Slice()
					if len(args) == 0 {
						return exitcode.With(exitcode.Usage, errors.New("cache rm takes asset ids or names (see 'gizmo cache rm --help')"))
					}
					return withCache(c, func(ch *cache.Cache) error {
						return runCacheRm(c.Context, ch, c.App.Writer, args, outputModeOf(c))
					})
				},
			},
		},
	})
}

// withCache opens the cache for one command and maps its errors.
func withCache(c *cli.Context, fn func(*cache.Cache) error) error {
	ch, err := openCache(c)
	if err == nil {
		defer ch.Close()
		err = fn(ch)
	}
	var coded *exitcode.Error
	switch {
	case err == nil || errors.As(err, &coded):
		return err
	case errors.Is(err, cache.ErrIndexDamaged):
		return exitcode.With(exitcode.Invalid, err)
	case errors.Is(err, cache.ErrNotFound), errors.Is(err, cache.ErrNotCached):
		return exitcode.With(exitcode.NotFound, err)
	}
	return err
}

// cacheRow is one line of 'gizmo cache ls', and its JSON form.
type cacheRow struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Status   string `json:"status,omitempty"`
	Vanished bool   `json:"vanished,omitempty"`
	Format   string `json:"format,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Size     int64  `json:"size,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Model    string `json:"model,omitempty"`
	// Unpacked tells whether Model's tree is on disk yet ('gizmo cache
	// path' unpacks it on first use).
	Unpacked       bool              `json:"unpacked,omitempty"`
	FetchedAt      *time.Time        `json:"fetched_at,omitempty"`
	Validation     *cache.Validation `json:"-"`
	ValidationJSON *validationJSON   `json:"validation,omitempty"`
}

func runCacheLs(ch *cache.Cache, w io.Writer, mode outputMode) error {
	assets, err := ch.Assets()
	if err != nil {
		return err
	}
	entries, err := ch.Entries()
	if err != nil {
		return err
	}
	meta := map[string]cache.AssetMeta{}
	for _, a := range assets {
		meta[a.ID] = a
	}
	held := map[string]bool{}
	rows := []cacheRow{}
	for _, e := range entries {
		a := meta[e.AssetID]
		held[e.AssetID] = true
		fetched := e.FetchedAt
		rows = append(rows, cacheRow{ID: e.AssetID, Name: a.Name, Status: a.Status, Vanished: a.Vanished,
			Format: e.Format, Kind: string(e.Kind), Size: e.Size, SHA256: e.Hash, Model: ch.ModelPath(e), Unpacked: isDir(ch.TreePath(e)),
			FetchedAt: &fetched, Validation: e.Validation, ValidationJSON: toValidationJSON(e.Validation)})
	}
	for _, a := range assets {
		if !held[a.ID] {
			rows = append(rows, cacheRow{ID: a.ID, Name: a.Name, Status: a.Status, Vanished: a.Vanished})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Name != rows[j].Name {
			return rows[i].Name < rows[j].Name
		}
		if rows[i].ID != rows[j].ID {
			return rows[i].ID < rows[j].ID
		}
		return rows[i].Format < rows[j].Format
	})
	if mode.json {
		return ui.PrintJSON(w, rows)
	}
	if mode.quiet {
		// The ids of the assets with a format cached, once each, as
		// 'gizmo ls -q' prints the account's.
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Format != "" && !seen[r.ID] {
				seen[r.ID] = true
				fmt.Fprintln(w, r.ID)
			}
		}
		return nil
	}
	if len(rows) == 0 {
		if !mode.quiet {
			fmt.Fprintf(w, "the cache at %s is empty: 'gizmo sync' or 'gizmo export' fill it\n", ch.Root())
		}
		return nil
	}
	t := ui.NewTable(w, "ID", "NAME", "FORMAT", "KIND", "SIZE", "STATUS", "VALID")
	var total int64
	for _, r := range rows {
		status := r.Status
		if r.Vanished {
			status += " (vanished)"
		}
		format, kind, size, valid := "-", "-", "-", "-"
		if r.Format != "" {
			format, kind, size = formats.Format(r.Format).Short(), r.Kind, ui.Bytes(r.Size)
			total += r.Size
		}
		if v := r.Validation; v.Interrupted() {
			valid = "interrupted" // no verdict: the next sync validates it
		} else if v != nil {
			valid = "ok"
			if !v.Valid {
				valid = plural.Count(v.Errors, "error", "errors")
			} else if v.Warnings > 0 {
				valid = "ok, " + plural.Count(v.Warnings, "warning", "warnings")
			}
		}
		t.Row(r.ID, ui.Truncate(ui.OrDash(r.Name), 32), format, kind, size, ui.OrDash(status), valid)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if !mode.quiet {
		fmt.Fprintf(w, "%s, %s of downloads, in %s\n", plural.Count(len(entries), "entry", "entries"), ui.Bytes(total), ch.Root())
	}
	return nil
}

// resolveCached finds the cached entry for an id or name, and a format
// (empty: the only one cached).
func resolveCached(ch *cache.Cache, idOrName string, f formats.Format) (cache.Entry, error) {
	id := idOrName
	a, err := ch.Asset(idOrName)
	switch {
	case err == nil:
		id = a.ID
	case !errors.Is(err, cache.ErrNotFound):
		return cache.Entry{}, exitcode.With(exitcode.Usage, err) // an ambiguous name
	}
	if f != "" {
		e, err := ch.Entry(id, string(f))
		if errors.Is(err, cache.ErrNotCached) {
			return e, exitcode.With(exitcode.NotFound, fmt.Errorf("%s is not cached as %s: fetch it with: gizmo export %s --format %s (or gizmo sync)", idOrName, f, shellWord(id), f.Short()))
		}
		return e, err
	}
	entries, err := ch.Entries()
	if err != nil {
		return cache.Entry{}, err
	}
	var mine []cache.Entry
	var names []string
	for _, e := range entries {
		if e.AssetID == id {
			mine = append(mine, e)
			names = append(names, formats.Format(e.Format).Short())
		}
	}
	switch len(mine) {
	case 0:
		return cache.Entry{}, exitcode.With(exitcode.NotFound, fmt.Errorf("%s is not cached in any format: fetch it with: gizmo export %s --format FORMAT (or gizmo sync)", idOrName, shellWord(id)))
	case 1:
		return mine[0], nil
	}
	return cache.Entry{}, exitcode.With(exitcode.Usage, fmt.Errorf("%s is cached in %d formats (%s): pass --format", idOrName, len(mine), strings.Join(names, ", ")))
}

func runCachePath(ctx context.Context, ch *cache.Cache, w io.Writer, idOrName string, f formats.Format, tree bool, mode outputMode) error {
	e, err := resolveCached(ch, idOrName, f)
	if err != nil {
		return err
	}
	// The path printed is to be opened: unpack the tree on first use.
	p, err := ch.Unpack(ctx, e)
	if err != nil {
		return err
	}
	if tree {
		p = ch.TreePath(e)
	}
	if mode.json {
		return ui.PrintJSON(w, map[string]string{"id": e.AssetID, "format": e.Format, "model": ch.ModelPath(e), "tree": ch.TreePath(e)})
	}
	_, err = fmt.Fprintln(w, p)
	return err
}

// runCacheVerify opens the cache at dir itself: a damaged index is one of
// the problems it reports (and, with repair, rebuilds).
func runCacheVerify(ctx context.Context, dir string, w io.Writer, repair bool, mode outputMode) error {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	var problems []cache.Problem
	ch, err := cache.Open(dir)
	if err == nil {
		defer ch.Close()
		problems, err = ch.Verify(ctx, repair)
	}
	var damaged *cache.IndexDamagedError
	if errors.As(err, &damaged) {
		p := cache.Problem{Kind: cache.ProblemIndex, Path: damaged.Path, Detail: "the index is damaged: " + damaged.Reason}
		if !repair {
			p.Detail += "; 'gizmo cache verify --repair' rebuilds it from what can be read of it and from the stored files"
			return reportVerify(w, dir, []cache.Problem{p}, mode)
		}
		res, rerr := cache.RepairIndex(ctx, dir)
		if rerr != nil {
			return rerr
		}
		if res.Rebuilt {
			p.Repaired = true
			p.Detail += fmt.Sprintf("; rebuilt from the stored files: %d assets and %d entries recovered, %d entries whose download is gone dropped (the next sync fetches what is missing); the damaged index is kept as %s",
				res.Assets, res.Entries, res.Dropped, res.SavedAs)
		}
		if ch, err = cache.Open(dir); err == nil {
			defer ch.Close()
			problems, err = ch.Verify(ctx, repair)
		}
		problems = append([]cache.Problem{p}, problems...)
	}
	if err != nil {
		if errors.Is(err, cache.ErrIndexDamaged) {
			return exitcode.With(exitcode.Invalid, err)
		}
		return err
	}
	return reportVerify(w, dir, problems, mode)
}

// reportVerify prints what verify found and returns the exit status for it.
func reportVerify(w io.Writer, dir string, problems []cache.Problem, mode outputMode) error {
	bad, unreadable, partial := 0, 0, 0
	for _, p := range problems {
		switch {
		case p.Kind == cache.ProblemUnreadable:
			unreadable++
		case p.Kind == cache.ProblemPartial && !p.Repaired:
			partial++
		}
		if p.Unresolved() {
			bad++
		}
	}
	if mode.json {
		if problems == nil {
			problems = []cache.Problem{}
		}
		if err := ui.PrintJSON(w, map[string]any{"problems": problems, "unresolved": bad, "unreadable": unreadable}); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			if p.Kind == cache.ProblemPartial && !p.Repaired {
				fmt.Fprintln(w, "note: "+p.String())
				continue
			}
			fmt.Fprintln(w, p.String())
		}
		if !mode.quiet {
			switch {
			case unreadable > 0:
				fmt.Fprintf(w, "cache %s: %s cannot be read (permission or I/O errors): nothing was repaired, since that is no proof of damage; fix the permissions or the disk and run it again\n", dir, plural.Count(unreadable, "file or folder", "files or folders"))
			case len(problems) == 0:
				fmt.Fprintf(w, "cache %s: all files verified\n", dir)
			case bad == 0 && partial > 0:
				fmt.Fprintf(w, "cache %s: all files verified; %d temp files of interrupted downloads are left, which the next sync or 'gizmo cache gc' removes\n", dir, partial)
			case bad == 0:
				fmt.Fprintf(w, "cache %s: %s, none left unresolved\n", dir, plural.Count(len(problems), "problem", "problems"))
			default:
				fmt.Fprintf(w, "cache %s: %s; run 'gizmo cache verify --repair' (a damaged index is rebuilt; damaged trees are unpacked again; entries with a bad download are dropped, and 'gizmo sync' fetches them again)\n", dir, plural.Count(bad, "problem", "problems"))
			}
		}
	}
	switch {
	case unreadable > 0:
		return exitcode.Silent(exitcode.Failure)
	case bad > 0:
		return exitcode.Silent(exitcode.Invalid)
	}
	return nil
}

func runCacheGC(ctx context.Context, ch *cache.Cache, w io.Writer, opts cache.GCOptions, mode outputMode) error {
	res, err := ch.GC(ctx, opts)
	if err != nil {
		return err
	}
	if mode.json {
		if res.Removed == nil {
			res.Removed = []string{}
		}
		return ui.PrintJSON(w, map[string]any{"dry_run": opts.DryRun, "removed": nonNil(res.Removed), "bytes": res.Bytes, "pruned": nonNil(res.Pruned)})
	}
	verb := "removed"
	if opts.DryRun {
		verb = "would remove"
	}
	if mode.verbose || opts.DryRun {
		for _, p := range res.Removed {
			fmt.Fprintf(w, "%s %s\n", verb, p)
		}
	}
	for _, id := range res.Pruned {
		fmt.Fprintf(w, "%s vanished asset %s\n", strings.Replace(verb, "remove", "prune", 1), id)
	}
	if !mode.quiet {
		fmt.Fprintf(w, "%s %s (%s)\n", verb, plural.Count(len(res.Removed), "file", "files"), ui.Bytes(res.Bytes))
	}
	return nil
}

func runCacheInfo(ch *cache.Cache, w io.Writer, mode outputMode) error {
	in, err := ch.Info()
	if err != nil {
		return err
	}
	if mode.json {
		return ui.PrintJSON(w, in)
	}
	t := ui.NewTable(w)
	t.Row("location:", in.Root)
	t.Row("schema:", fmt.Sprint(in.SchemaVersion))
	t.Row("assets:", fmt.Sprintf("%d (%d vanished from the account)", in.Assets, in.Vanished))
	t.Row("entries:", fmt.Sprintf("%d (asset, format) pairs", in.Entries))
	t.Row("files:", fmt.Sprintf("%d downloads, %d unpacked trees, %d temp files", in.Blobs, in.Trees, in.TempFiles))
	t.Row("size:", fmt.Sprintf("%s on disk (%s of downloads)", ui.Bytes(in.DiskBytes), ui.Bytes(in.DownloadBytes)))
	return t.Flush()
}

func runCacheRm(ctx context.Context, ch *cache.Cache, w io.Writer, args []string, mode outputMode) error {
	removed := []string{}
	for _, arg := range args {
		id := arg
		if a, err := ch.Asset(arg); err == nil {
			id = a.ID
		} else if !errors.Is(err, cache.ErrNotFound) {
			return exitcode.With(exitcode.Usage, err)
		}
		if err := ch.Remove(ctx, id); err != nil {
			return err
		}
		removed = append(removed, id)
		if !mode.quiet && !mode.json {
			fmt.Fprintf(w, "removed %s\n", id)
		}
	}
	if mode.json {
		return ui.PrintJSON(w, map[string]any{"removed": removed})
	}
	return nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
