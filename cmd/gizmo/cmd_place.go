package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/termtext"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/prepare"
)

func init() {
	register(&cli.Command{
		Name:      "place",
		Usage:     "place one asset into the project and record it in gizmo.toml and gizmo.lock",
		ArgsUsage: "ID|NAME",
		Description: `Finds the asset (in the cache, else from the API), adds its id to gizmo.toml's
[assets] ids (a scene's, of the current generation, to [assets] scenes),
keeping the file's comments, then prepares the project: the asset is fetched
if the cache lacks it, validated, placed, and recorded in gizmo.lock.

Without --layout the asset goes to every target of gizmo.toml. With --layout
it goes into that layout's target only (added if the manifest has none): its
id is added to that [[target]]'s own ids (or scenes), not to [assets]. A
project without gizmo.toml gets one.

The asset's status is asked for first (one request), and gizmo.toml is left
as it was when the asset cannot be placed: failed on Gizmo (exit 1, with the
server's reason), pending or processing (exit 1; --wait waits for it, polling
from 1s up to every 30s, at most --timeout or 30m), of a status gizmo does
not know (exit 1), deleted (exit 3), or offering none of the formats its
targets place (exit 3). Other assets of gizmo.toml that cannot be placed are
warnings here; 'gizmo prepare' exits 5 for them.`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringFlag{Name: "layout", Aliases: []string{"l"}, Usage: "place into the target of `LAYOUT` (mujoco or isaac), adding one if needed"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "for a new target: place only `FORMAT` (usd, urdf, mjcf)"},
			&cli.StringFlag{Name: "dir", Usage: "for a new target: its `DIR` relative to the project (default assets/<layout>)"},
			&cli.StringFlag{Name: "link", Usage: "for a new target: link `MODE` copy (default), hardlink or symlink"},
			&cli.BoolFlag{Name: "offline", Usage: "never touch the network"},
			&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "wait for a pending or processing asset to be ready (at most --timeout, or " + defaultMaxWait.String() + "), then place it"},
			&cli.BoolFlag{Name: flagJSON, Usage: "print the result as JSON"},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) != 1 {
				return exitcode.With(exitcode.Usage, fmt.Errorf("place takes one asset id or name (got %d; see 'gizmo place --help')", len(args)))
			}
			arg := args[0]
			ctx, cancel := commandContext(c)
			defer cancel()
			o := prepareOptions(c)
			o.Offline = c.Bool("offline")
			want, err := placeTarget(c)
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			// A broken gizmo.toml is refused before anything is asked for.
			if _, err := project.LoadManifest(o.Dir); err != nil && !errors.Is(err, project.ErrNoManifest) {
				return prepareError(err)
			}
			meta, err := prepare.Resolve(ctx, o, arg)
			if err != nil {
				return prepareError(err)
			}
			if meta, err = placeReady(ctx, c, o, meta); err != nil {
				return err
			}
			if _, err := project.Edit(o.Dir, func(data []byte) ([]byte, error) {
				if len(data) == 0 {
					data = project.StarterManifest(nil)
				}
				m, err := project.ParseManifest(project.ManifestFile, data)
				if err != nil {
					return nil, err
				}
				// The target --layout names, by its position among the
				// [[target]] tables (a new one is the last).
				into := len(m.Targets)
				if want != nil {
					if t, ok := findTarget(m, *want); ok {
						if len(want.Formats) > 0 && !hasFormats(t, want.Formats) {
							return nil, fmt.Errorf("the %s target in %s (line %d) does not place %s: add it to its formats", t.Layout, t.Dir, t.Line, want.Formats[0].Short())
						}
						into = slices.IndexFunc(m.Targets, func(x project.Target) bool { return x.Dir == t.Dir })
					} else {
						data = project.AddTarget(data, *want)
					}
				} else if len(m.Targets) == 0 {
					return nil, fmt.Errorf("gizmo.toml has no [[target]]: give --layout mujoco or --layout isaac")
				}
				if err := offersPlaceable(meta, m, want); err != nil {
					return nil, err
				}
				switch {
				case m.Assets.Lists(meta.ID):
					// [assets] places it in every target already.
				case want != nil && into < len(m.Targets) && m.Targets[into].Lists(meta.ID):
				case want != nil && meta.Scene:
					// --layout: that target only.
					data = project.AddTargetScene(data, into, meta.ID)
				case want != nil:
					data = project.AddTargetID(data, into, meta.ID)
				case meta.Scene:
					data = project.AddScene(data, meta.ID)
				default:
					data = project.AddID(data, meta.ID)
				}
				return data, nil
			}); err != nil {
				var ne *notOffered
				if errors.As(err, &ne) {
					return exitcode.With(exitcode.NotFound, err)
				}
				return prepareError(err)
			}
			res, err := prepare.Run(ctx, o)
			if err != nil {
				return prepareError(err)
			}
			// Print only this asset's models.
			mine := *res
			mine.Items = nil
			for _, it := range res.Items {
				if it.ID == meta.ID {
					mine.Items = append(mine.Items, it)
				}
			}
			for _, u := range res.Unplaced {
				if u.ID == meta.ID {
					mine.Unplaced = []prepare.Unplaced{u}
				}
			}
			if len(mine.Items) == 0 {
				why := "it offers none of the target's formats"
				if len(mine.Unplaced) > 0 {
					u := mine.Unplaced[0]
					why = prepare.UnplacedStatus(u.ID, u.Name, u.Status, u.Reason)
				}
				return exitcode.With(exitcode.NotFound, fmt.Errorf("asset %s (%s) was recorded in gizmo.toml but nothing was placed: %s", meta.ID, meta.Name, why))
			}
			if err := printPrepared(c.App.Writer, c.App.ErrWriter, o.Dir, &mine, printMode{json: lineageBool(c, flagJSON), quiet: lineageBool(c, flagQuiet)}); err != nil {
				return err
			}
			// The asset asked for is placed: the others' troubles are
			// warnings here ('gizmo prepare' exits 5 for them).
			if err := partialError(res); err != nil {
				fmt.Fprintf(c.App.ErrWriter, "gizmo: warning: %v\n", err)
			}
			return nil
		},
	})
}

// placeTarget is the target --layout asks for, or nil.
func placeTarget(c *cli.Context) (*project.Target, error) {
	if c.String("layout") == "" {
		for _, f := range []string{"format", "dir", "link"} {
			if c.IsSet(f) {
				return nil, fmt.Errorf("--%s needs --layout", f)
			}
		}
		return nil, nil
	}
	l, err := layout.ParseLayout(c.String("layout"))
	if err != nil {
		return nil, err
	}
	t := &project.Target{Layout: l, Dir: c.String("dir")}
	if t.Dir == "" {
		t.Dir = path.Join("assets", string(l))
	}
	if s := c.String("format"); s != "" {
		f, err := formats.Parse(s)
		if err != nil {
			return nil, err
		}
		if !l.Accepts(f) {
			return nil, fmt.Errorf("the %s layout does not place %s", l, f.Short())
		}
		t.Formats = []formats.Format{f}
	}
	if t.Link, err = layout.ParseLinkMode(c.String("link")); err != nil {
		return nil, err
	}
	return t, nil
}

// findTarget finds the manifest's target of the wanted layout (and folder,
// when --dir was given).
func findTarget(m *project.Manifest, want project.Target) (project.Target, bool) {
	for _, t := range m.Targets {
		if t.Layout == want.Layout && (want.Dir == path.Join("assets", string(want.Layout)) || t.Dir == path.Clean(want.Dir)) {
			return t, true
		}
	}
	return project.Target{}, false
}

func hasFormats(t project.Target, fs []formats.Format) bool {
	for _, f := range fs {
		found := false
		for _, g := range t.Formats {
			found = found || f == g
		}
		if !found {
			return false
		}
	}
	return true
}

// defaultMaxWait bounds --wait when --timeout is not given.
const defaultMaxWait = 30 * time.Minute

// waitContext bounds a wait for a generation: by --timeout when given
// (commandContext applies it), else by defaultMaxWait.
func waitContext(c *cli.Context, ctx context.Context) (context.Context, context.CancelFunc) {
	if c.Duration(flagTimeout) > 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultMaxWait)
}

// placeReady checks that the asset can be placed before gizmo.toml is
// touched: ready, or (with --wait) waited for until it is. A failed asset,
// one not ready, or one of a status gizmo does not know is an error naming
// it and the server's reason, and gizmo.toml stays as it was.
func placeReady(ctx context.Context, c *cli.Context, o prepare.Options, meta cache.AssetMeta) (cache.AssetMeta, error) {
	st := api.Status(meta.Status)
	if (st == api.StatusPending || st == api.StatusProcessing) && c.Bool("wait") && !o.Offline {
		client, err := newClient(c)
		if err != nil {
			return meta, err
		}
		wctx, cancel := waitContext(c, ctx)
		defer cancel()
		fmt.Fprintf(c.App.ErrWriter, "gizmo: %s\n", termtext.Clean(fmt.Sprintf("waiting for asset %s (%s), %s on Gizmo", meta.ID, meta.Name, meta.Status)))
		a, err := client.WaitReady(wctx, meta.ID, nil)
		switch {
		case a != nil && a.Status.Settled():
			// Ask again through the cache, which records what it learns.
			if meta, err = prepare.Resolve(ctx, o, meta.ID); err != nil {
				return meta, prepareError(err)
			}
			st = api.Status(meta.Status)
		case a != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			return meta, fmt.Errorf("asset %s (%s) is still %s on Gizmo after waiting %s; gizmo.toml unchanged: try again later, or give a longer --timeout", meta.ID, meta.Name, a.Status, defaultMaxWait)
		default:
			return meta, exitForAPI(err)
		}
	}
	if st == api.StatusReady {
		return meta, nil
	}
	msg := prepare.UnplacedStatus(meta.ID, meta.Name, meta.Status, meta.Error)
	switch st {
	case api.StatusPending, api.StatusProcessing:
		return meta, fmt.Errorf("%s; gizmo.toml unchanged: run 'gizmo place %s --wait' to wait for it, or place it once 'gizmo status %s' says ready", msg, meta.ID, meta.ID)
	case api.StatusFailed:
		return meta, fmt.Errorf("%s; not placed, gizmo.toml unchanged (generate it again)", msg)
	}
	return meta, fmt.Errorf("%s; gizmo.toml unchanged", msg)
}

// notOffered is an asset that offers none of the formats its targets place.
type notOffered struct{ msg string }

func (e *notOffered) Error() string { return e.msg }

// offersPlaceable checks that the asset offers a format one of the targets
// it goes to places (the --layout target, or every target of m). An asset
// whose formats are not known (offline, from a listing) passes.
func offersPlaceable(meta cache.AssetMeta, m *project.Manifest, want *project.Target) error {
	if len(meta.Formats) == 0 {
		return nil
	}
	var targets []project.Target
	switch {
	case want == nil:
		targets = m.Targets
	default:
		t, ok := findTarget(m, *want)
		if !ok {
			t = *want
		}
		if len(t.Formats) == 0 {
			t.Formats = t.Layout.Formats()
		}
		targets = []project.Target{t}
	}
	var places []string
	for _, t := range targets {
		for _, f := range t.Formats {
			if slices.Contains(meta.Formats, string(f)) {
				return nil
			}
			if !slices.Contains(places, f.Short()) {
				places = append(places, f.Short())
			}
		}
	}
	return &notOffered{fmt.Sprintf("asset %s (%s) offers %s, none of which its targets place (%s): not placed, gizmo.toml unchanged", meta.ID, meta.Name, strings.Join(meta.Formats, ", "), strings.Join(places, ", "))}
}
