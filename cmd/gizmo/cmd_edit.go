package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/api"
)

func init() {
	register(&cli.Command{
		Name:      "edit",
		Usage:     "change a scene in words (current generation of the API)",
		ArgsUsage: "SCENE PROMPT",
		Description: `Asks for a natural-language edit of a scene, e.g.
  gizmo edit 3kq9v0m2x7c1d8fa "add a conveyor belt"
The edit is a job: without --wait it prints the job; with --wait it follows it
as 'gizmo generate --wait' does and prints the scene. An edit is never sent
twice: when its answer is lost, check the scene before trying again.

Exit status: 1 when the edit failed; 2 against the alpha generation, which
has no such edits; 3 when there is no such scene; 6 when the API key is
refused.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "follow the edit until it ends"},
			jsonFlag("print the job (or, with --wait, its events and the scene) as JSON"),
			quietFlag("print only the job id (with --wait, the scene id)"),
		},
		Action: func(c *cli.Context) error {
			args, err := positionalArgs(c)
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			if len(args) < 2 || strings.TrimSpace(strings.Join(args[1:], " ")) == "" {
				return exitcode.With(exitcode.Usage, errors.New(`edit takes a scene id and a prompt, e.g. gizmo edit SCENE "add a conveyor belt"`))
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			client, err := newClient(c)
			if err != nil {
				return err
			}
			acc, err := client.CreateJob(ctx, api.JobEdit, args[0], api.JobRequest{Prompt: strings.Join(args[1:], " ")})
			if err != nil {
				if errors.Is(err, api.ErrNotFound) {
					return exitcode.With(exitcode.NotFound, fmt.Errorf("%w\nlist the scenes with 'gizmo ls --scenes'", err))
				}
				return exitForAPI(err)
			}
			if acc.SceneID == "" {
				acc.SceneID = args[0]
			}
			return followCreated(ctx, client, acc, api.JobEdit, c.Bool("wait"), outputModeOf(c), c.App.Writer, c.App.ErrWriter)
		},
	})
}
