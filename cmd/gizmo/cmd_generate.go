package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/api"
)

func init() {
	register(&cli.Command{
		Name:      "generate",
		Usage:     "ask Gizmo to generate an asset (or, with --scene, a scene) from a prompt",
		ArgsUsage: "PROMPT",
		Description: `Creates an asset from a natural-language prompt (several arguments are joined
with spaces).

Against the alpha generation of the API: without --wait it prints the new
asset, still pending, and returns; with --wait it polls until the asset is
ready or failed, showing a spinner with the status on a terminal, and prints
the final asset. --scene and --pipeline need the current generation.

Against the current generation: the create answers a job. Without --wait it
prints the job (id, scene, status; --quiet: the job id). With --wait it
follows the job's event stream, showing each stage (a spinner on a terminal,
a line per event on stderr otherwise, one JSON line per event on stdout with
--json), resumes the stream after the last event seen when the connection
drops, polls the job when there is no stream, confirms the end with one read
of the job, and prints the created asset (or scene, with --scene; --quiet:
its id). --scene generates a whole scene; --in-scene ID puts the new asset in
an existing scene; --pipeline picks auto, gizmo or cad. The create is never
sent twice blindly: when its answer is lost, gizmo looks for what it created
first.

Exit status: 1 when the generation failed or --timeout passed first (it
keeps generating: check it later with 'gizmo status ID'); 2 for an option the
server's generation lacks; 6 when the API key is refused.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "human-readable `NAME` (default: the prompt, shortened)"},
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "tag the asset with `TAG` (repeatable)"},
			&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "wait until the asset is ready or failed (at most --timeout, or 30m; polls from 1s up to every 30s)"},
			&cli.BoolFlag{Name: "scene", Usage: "generate a scene, not one asset (current generation)"},
			&cli.StringFlag{Name: "in-scene", Usage: "put the new asset in scene `ID` (current generation)"},
			&cli.StringFlag{Name: "pipeline", Usage: "generation `PIPELINE`: auto, gizmo or cad (current generation; the server's default when unset)"},
			&cli.DurationFlag{Name: flagTimeout, Usage: "give up waiting after `DURATION` (e.g. 5m; 0: no limit)"},
			jsonFlag("print the asset as JSON"),
			quietFlag("print only the asset id"),
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			prompt := strings.TrimSpace(strings.Join(args, " "))
			if prompt == "" {
				return exitcode.With(exitcode.Usage, errors.New(`generate needs a prompt, e.g. gizmo generate "A 6-DOF robotic arm with a parallel jaw gripper"`))
			}
			opts := generateOptions{
				req:  api.CreateRequest{Prompt: prompt, Name: c.String("name"), Tags: c.StringSlice("tag")},
				wait: c.Bool("wait"),
				mode: outputModeOf(c),
			}
			for _, t := range opts.req.Tags {
				if strings.TrimSpace(t) == "" {
					return exitcode.With(exitcode.Usage, errors.New("--tag: a tag must not be empty"))
				}
			}
			ctx, cancel := c.Context, context.CancelFunc(func() {})
			if d := lineageDuration(c, flagTimeout); d > 0 {
				ctx, cancel = context.WithTimeout(ctx, d)
			} else if opts.wait {
				// Every wait is bounded: --timeout, else defaultMaxWait.
				ctx, cancel = context.WithTimeout(ctx, defaultMaxWait)
			}
			defer cancel()
			opts.scene, opts.inScene, opts.pipeline = c.Bool("scene"), c.String("in-scene"), c.String("pipeline")
			switch opts.pipeline {
			case "", "auto", "gizmo", "cad":
			default:
				return exitcode.With(exitcode.Usage, fmt.Errorf("--pipeline %q: want auto, gizmo or cad", opts.pipeline))
			}
			if opts.scene && opts.inScene != "" {
				return exitcode.With(exitcode.Usage, errors.New("--scene makes a new scene; --in-scene adds an asset to an existing one: pass one of them"))
			}
			client, err := newClient(c)
			if err != nil {
				return err
			}
			if client.Generation() == api.GenerationCurrent {
				if len(opts.req.Tags) > 0 || opts.req.Name != "" {
					return exitcode.With(exitcode.Usage, errors.New("--name and --tag: the current generation of the API takes neither (it names assets itself); drop them"))
				}
				return runGenerateCurrent(ctx, client, opts, c.App.Writer, c.App.ErrWriter)
			}
			if opts.scene || opts.inScene != "" || opts.pipeline != "" {
				return exitcode.With(exitcode.Usage, fmt.Errorf("--scene, --in-scene and --pipeline: %w: the alpha generation of the API (which %s speaks) has no scenes from a prompt and no pipelines", api.ErrNotInGeneration, client.BaseURL()))
			}
			return runGenerate(ctx, client, opts, c.App.Writer, c.App.ErrWriter)
		},
	})
}

type generateOptions struct {
	req  api.CreateRequest
	wait bool
	mode outputMode
	// The current generation's options (cmd_generate_current.go).
	scene    bool
	inScene  string
	pipeline string
}

// assetStatusJSON is a status change of an asset generate --wait waits
// for, in --json's stream.
type assetStatusJSON struct {
	Event  string `json:"event"` // "status"
	ID     string `json:"id"`
	Status string `json:"status"`
}

func runGenerate(ctx context.Context, client *api.Client, o generateOptions, stdout, stderr io.Writer) error {
	a, err := client.Create(ctx, o.req)
	if err != nil {
		return exitForAPI(err)
	}
	if !o.wait {
		if err := printAssetOrID(stdout, *a, o.mode); err != nil {
			return err
		}
		if !o.mode.json && !o.mode.quiet {
			fmt.Fprintf(stderr, "generating; follow it with 'gizmo status %s' or wait with 'gizmo generate --wait'\n", a.ID)
		}
		return nil
	}

	o.mode.lines = true // the status changes, then the asset
	start := time.Now()
	spin := ui.StartSpinner(stderr, o.mode.tty, fmt.Sprintf("%s %s", a.ID, a.Status))
	last := api.Status("")
	final, err := client.WaitReady(ctx, a.ID, func(cur api.Asset) {
		spin.Set(fmt.Sprintf("%s %s (%s)", cur.ID, cur.Status, time.Since(start).Round(time.Second)))
		switch {
		case cur.Status == last:
		case o.mode.json:
			ui.PrintJSONLine(stdout, assetStatusJSON{Event: "status", ID: cur.ID, Status: string(cur.Status)})
		case !o.mode.tty && !o.mode.quiet:
			fmt.Fprintf(stderr, "%s: %s\n", cur.ID, cur.Status)
		}
		last = cur.Status
	})
	spin.End()
	switch {
	case errors.Is(err, api.ErrGenerationFailed):
		if perr := printAsset(stdout, *final, o.mode); perr != nil {
			return perr
		}
		return fmt.Errorf("%w: try again, perhaps with a different prompt", err)
	case errors.Is(err, context.DeadlineExceeded):
		return waitTimedOut(fmt.Sprintf("asset %s is still %s; check it later with 'gizmo status %s'", a.ID, last, a.ID))
	case err != nil:
		return exitForAPI(err)
	}
	return printAssetOrID(stdout, *final, o.mode)
}

// waitTimedOut is a wait that ran out of time, saying what to do next. It
// is a context.DeadlineExceeded, for which main adds the --timeout hint
// once, so the message does not repeat the context's own.
type waitTimedOut string

func (e waitTimedOut) Error() string { return string(e) }
func (e waitTimedOut) Unwrap() error { return context.DeadlineExceeded }
