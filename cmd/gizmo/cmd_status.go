package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

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
			jsonFlag("print the asset as JSON"),
			quietFlag("print only the status"),
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
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
	if err != nil && errors.Is(err, api.ErrNotFound) && client.Generation() == api.GenerationCurrent {
		return statusOther(ctx, client, id, mode, stdout, err) // a scene or a job (cmd_scenes.go)
	}
	if err != nil {
		return exitForAPI(err)
	}
	if a.IsScene() {
		return statusOther(ctx, client, id, mode, stdout, err) // show it as the scene it is
	}
	return printAsset(stdout, *a, mode)
}
