package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/plural"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
)

// runLsScenes lists every scene, newest first (gizmo ls --scenes).
func runLsScenes(ctx context.Context, client *api.Client, mode outputMode, stdout io.Writer) error {
	if client.Generation() != api.GenerationCurrent {
		return exitcode.With(exitcode.Usage, fmt.Errorf("ls --scenes: %w: the alpha generation of the API (which %s speaks) has no scenes to list", api.ErrNotInGeneration, client.BaseURL()))
	}
	l, err := gsync.ListScenes(ctx, client)
	if err != nil {
		return exitForAPI(err)
	}
	scenes := l.Scenes
	switch {
	case mode.json:
		if scenes == nil {
			scenes = []api.Scene{}
		}
		return ui.PrintJSON(stdout, map[string]any{"scenes": scenes, "total": len(scenes)})
	case mode.quiet:
		for _, s := range scenes {
			fmt.Fprintln(stdout, s.ID)
		}
		return nil
	}
	t := ui.NewTable(stdout, "SCENE", "STATUS", "ASSETS", "NAME", "CREATED")
	for _, s := range scenes {
		created := "-"
		if !s.CreatedAt.IsZero() {
			created = s.CreatedAt.UTC().Format("2006-01-02 15:04")
		}
		t.Row(s.ID, string(s.Status), fmt.Sprint(s.AssetCount), ui.Truncate(ui.OrDash(s.Name), 48), created)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, plural.Count(len(scenes), "scene", "scenes"))
	return err
}

// statusOther shows a scene, or a job, for an id that is no asset (gizmo
// status in the current generation); notAsset is the asset lookup's error.
func statusOther(ctx context.Context, client *api.Client, id string, mode outputMode, stdout io.Writer, notAsset error) error {
	if strings.HasPrefix(id, "job_") {
		j, err := client.GetJob(ctx, id, true)
		if err != nil {
			return exitForAPI(err)
		}
		if mode.quiet && !mode.json {
			_, err := fmt.Fprintln(stdout, j.Status)
			return err
		}
		if mode.json {
			return ui.PrintJSON(stdout, jobJSON{Job: j.ID, Scene: j.SceneID, Asset: j.AssetID, Status: j.Status, Error: j.Error})
		}
		t := ui.NewTable(stdout)
		t.Row("job", j.ID)
		t.Row("status", j.Status)
		t.Row("mode", ui.OrDash(j.Mode))
		t.Row("scene", ui.OrDash(j.SceneID))
		t.Row("asset", ui.OrDash(j.AssetID))
		if j.Error != "" {
			t.Row("error", j.Error)
		}
		return t.Flush()
	}
	sc, err := client.GetScene(ctx, id)
	if errors.Is(err, api.ErrNotFound) {
		return exitcode.With(exitcode.NotFound, fmt.Errorf("%w\nno asset, scene or job has the id %q: list them with 'gizmo ls --all' and 'gizmo ls --scenes'", notAsset, id))
	}
	if err != nil {
		return exitForAPI(err)
	}
	if mode.quiet && !mode.json {
		_, err := fmt.Fprintln(stdout, sc.Status)
		return err
	}
	return printScene(stdout, *sc, mode)
}
