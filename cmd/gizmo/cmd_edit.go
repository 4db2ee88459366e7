package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cache"
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
as 'gizmo generate --wait' does, prints the scene, and drops the scene's
exports from the cache, so that the next export or prepare fetches the edited
scene. Without --wait (or after an edit made elsewhere), the cache drops them
when it next sees the scene's new revision ('gizmo prepare --update', 'gizmo
place'). An edit is never sent twice: when its answer is lost, check the scene
before trying again.

Exit status: 1 when the edit failed; 2 against the alpha generation, which
has no such edits; 3 when there is no such scene; 6 when the API key is
refused.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "follow the edit until it ends"},
			jsonFlag("print the job (or, with --wait, its events and the scene) as JSON"),
			quietFlag("print only the job id (with --wait, the scene id)"),
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
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
			wait := c.Bool("wait")
			if err := followCreated(ctx, client, acc, api.JobEdit, wait, outputModeOf(c), c.App.Writer, c.App.ErrWriter); err != nil || !wait {
				return err
			}
			return forgetScene(c, args[0])
		},
	})
}

// forgetScene drops an edited scene's exports from the cache: the cache
// takes an export as immutable, and the scene's has changed. A scene the
// cache does not hold is fine.
func forgetScene(c *cli.Context, id string) error {
	store, err := openCache(c)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Remove(c.Context, id); err != nil && !errors.Is(err, cache.ErrNotFound) {
		return fmt.Errorf("the edit is done, but the scene's old exports are still cached: %w (run 'gizmo cache rm %s')", err, id)
	}
	return nil
}
