package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/plural"
	"github.com/antimlabs/gizmo/internal/termtext"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
)

func init() {
	register(&cli.Command{
		Name:  "ls",
		Usage: "list the account's assets",
		Description: `Lists one page of assets (--limit, --offset), or every asset with --all, as an
aligned table: ID, STATUS, NAME, TAGS, CREATED. --status and --tag filter what
is shown (the API lists everything; the filters apply to the page read, or to
the whole account with --all). With --quiet, prints only the ids, one a line.

--json prints {"assets": [...], "total": T, "offset": O, "limit": L}: total is
the account's asset count as the API reports it; limit is 0 with --all.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "list every asset, page after page"},
			&cli.IntFlag{Name: "limit", Value: 20, Usage: "assets per page, 1 to 100"},
			&cli.IntFlag{Name: "offset", Usage: "skip the first `N` assets"},
			&cli.StringFlag{Name: "status", Aliases: []string{"s"}, Usage: "show only assets in `STATUS` (pending, processing, ready, failed)"},
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "show only assets carrying `TAG` (repeatable: any of them)"},
			&cli.BoolFlag{Name: "scenes", Usage: "list the account's scenes instead (current generation of the API), newest first"},
			&cli.BoolFlag{Name: flagJSON, Usage: "print the list as JSON"},
			&cli.BoolFlag{Name: flagQuiet, Aliases: []string{"q"}, Usage: "print only the ids"},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			o := lsOptions{
				all: c.Bool("all"), limit: c.Int("limit"), offset: c.Int("offset"),
				status: api.Status(strings.ToLower(strings.TrimSpace(c.String("status")))),
				tags:   c.StringSlice("tag"),
				mode:   outputModeOf(c),
			}
			if err := o.check(c.IsSet("limit") || c.IsSet("offset")); err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			if len(args) > 0 {
				return exitcode.With(exitcode.Usage, fmt.Errorf("ls takes no arguments (got %q); to see one asset use 'gizmo status ID'", args[0]))
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			client, err := newClient(c)
			if err != nil {
				return err
			}
			if c.Bool("scenes") {
				return runLsScenes(ctx, client, o.mode, c.App.Writer)
			}
			return runLs(ctx, client, o, c.App.Writer, c.App.ErrWriter)
		},
	})
}

type lsOptions struct {
	all           bool
	limit, offset int
	status        api.Status
	tags          []string
	mode          outputMode
}

func (o lsOptions) check(paged bool) error {
	if o.all && paged {
		return errors.New("--all lists everything: drop --limit and --offset")
	}
	if o.limit < 1 || o.limit > api.PageSize {
		return fmt.Errorf("--limit %d: want 1 to %d (or --all for everything)", o.limit, api.PageSize)
	}
	if o.offset < 0 {
		return fmt.Errorf("--offset %d: must not be negative", o.offset)
	}
	switch o.status {
	case "", api.StatusPending, api.StatusProcessing, api.StatusReady, api.StatusFailed:
	default:
		return fmt.Errorf("--status %q: want pending, processing, ready or failed", o.status)
	}
	return nil
}

func (o lsOptions) keep(a api.Asset) bool {
	if o.status != "" && a.Status != o.status {
		return false
	}
	return len(o.tags) == 0 || gsync.HasAnyTag(a.Tags, o.tags)
}

// lsJSON is the --json output of gizmo ls.
type lsJSON struct {
	Assets []assetJSON `json:"assets"`
	Total  int         `json:"total"`
	Offset int         `json:"offset"`
	Limit  int         `json:"limit"`
}

func runLs(ctx context.Context, client *api.Client, o lsOptions, stdout, stderr io.Writer) error {
	out := lsJSON{Assets: []assetJSON{}, Offset: o.offset, Limit: o.limit}
	var shown []api.Asset
	read, changed := 0, false
	if o.all {
		out.Offset, out.Limit = 0, 0
		l, err := gsync.List(ctx, client)
		if err != nil {
			return exitForAPI(err)
		}
		for _, a := range l.Assets {
			if o.keep(a) {
				shown = append(shown, a)
			}
		}
		read, out.Total, changed = len(l.Assets), len(l.Assets), !l.Complete
	} else {
		p, err := client.List(ctx, o.limit, o.offset)
		if err != nil {
			return exitForAPI(err)
		}
		read, out.Total = len(p.Assets), p.Total
		for _, a := range p.Assets {
			if o.keep(a) {
				shown = append(shown, a)
			}
		}
	}
	switch {
	case o.mode.json:
		for _, a := range shown {
			out.Assets = append(out.Assets, toAssetJSON(a))
		}
		return ui.PrintJSON(stdout, out)
	case o.mode.quiet:
		for _, a := range shown {
			if _, err := fmt.Fprintln(stdout, termtext.Clean(a.ID)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(shown) > 0 {
		t := ui.NewTable(stdout, "ID", "STATUS", "NAME", "TAGS", "CREATED")
		for _, a := range shown {
			created := ""
			if !a.CreatedAt.IsZero() {
				created = a.CreatedAt.UTC().Format("2006-01-02 15:04")
			}
			t.Row(a.ID, string(a.Status), ui.Truncate(a.Name, 40), ui.OrDash(strings.Join(a.Tags, ",")), created)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	switch {
	case o.all && changed:
		fmt.Fprintf(stderr, "%d of %s (the account changed while it was listed)\n", len(shown), plural.Count(read, "asset", "assets"))
	case o.all:
		fmt.Fprintf(stderr, "%d of %s\n", len(shown), plural.Count(read, "asset", "assets"))
	case read == 0:
		fmt.Fprintf(stderr, "no assets at offset %d (the account has %d)\n", o.offset, out.Total)
	default:
		fmt.Fprintf(stderr, "%d shown; assets %d-%d of %d", len(shown), o.offset+1, o.offset+read, out.Total)
		if o.offset+read < out.Total {
			fmt.Fprintf(stderr, " (next page: --offset %d, or --all)", o.offset+read)
		}
		fmt.Fprintln(stderr)
	}
	return nil
}
