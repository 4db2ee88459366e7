package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/api"
)

func init() {
	register(&cli.Command{
		Name:      "status",
		Usage:     "show one asset: its status, prompt, tags and export formats",
		ArgsUsage: "ID",
		Description: `Prints the asset's details as a table, or as one JSON object with --json.
With --quiet, prints only the status word (pending, processing, ready, failed).

Exit status: 3 when there is no such asset, 6 when the API key is refused.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: flagJSON, Usage: "print the asset as JSON"},
			&cli.BoolFlag{Name: flagQuiet, Aliases: []string{"q"}, Usage: "print only the status"},
		},
		Action: func(c *cli.Context) error {
			args, err := positionalArgs(c)
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			if len(args) != 1 {
				return exitcode.With(exitcode.Usage, fmt.Errorf("status takes one asset id (see 'gizmo status --help')"))
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			client, err := newClient(c)
			if err != nil {
				return err
			}
			return runStatus(ctx, client, args[0], outputModeOf(c), c.App.Writer)
		},
	})
}

func runStatus(ctx context.Context, client *api.Client, id string, mode outputMode, stdout io.Writer) error {
	a, err := client.Get(ctx, id)
	if err != nil {
		return exitForAPI(err)
	}
	return printAsset(stdout, *a, mode)
}

// assetJSON is an asset in gizmo's --json output. Its shape is documented
// and stable: every field is always present (tags and formats as arrays,
// error as "" unless the generation failed).
type assetJSON struct {
	ID        string   `json:"id"`
	Status    string   `json:"status"`
	Name      string   `json:"name"`
	Prompt    string   `json:"prompt"`
	Tags      []string `json:"tags"`
	CreatedAt string   `json:"created_at"`
	Formats   []string `json:"formats"`
	Error     string   `json:"error"`
}

func toAssetJSON(a api.Asset) assetJSON {
	j := assetJSON{
		ID: a.ID, Status: string(a.Status), Name: a.Name, Prompt: a.Prompt,
		Tags: append([]string{}, a.Tags...), Formats: []string{}, Error: a.Error,
	}
	if !a.CreatedAt.IsZero() {
		j.CreatedAt = a.CreatedAt.UTC().Format(time.RFC3339)
	}
	for _, f := range a.Formats {
		j.Formats = append(j.Formats, string(f))
	}
	return j
}

// printAsset prints one asset: a two-column table, the JSON object, or (quiet)
// the status alone.
func printAsset(w io.Writer, a api.Asset, mode outputMode) error {
	switch {
	case mode.json:
		return printJSON(w, toAssetJSON(a))
	case mode.quiet:
		_, err := fmt.Fprintln(w, a.Status)
		return err
	}
	j := toAssetJSON(a)
	t := newTable(w)
	t.row("id", j.ID)
	t.row("name", j.Name)
	t.row("status", j.Status)
	t.row("prompt", j.Prompt)
	t.row("tags", orDash(strings.Join(j.Tags, ", ")))
	t.row("created", orDash(j.CreatedAt))
	t.row("formats", orDash(strings.Join(j.Formats, ", ")))
	if j.Error != "" {
		t.row("error", j.Error)
	}
	return t.flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
