package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/sync/api"
)

// jobJSON is a job as --json prints it.
type jobJSON struct {
	Job       string `json:"job"`
	Scene     string `json:"scene,omitempty"`
	Asset     string `json:"asset,omitempty"`
	Status    string `json:"status"`
	Recovered bool   `json:"recovered,omitempty"`
	Error     string `json:"error,omitempty"`
}

// jobEventJSON is one event of a followed job in --json's stream; data is
// the event as the server sent it.
type jobEventJSON struct {
	Event    string         `json:"event"`
	Job      string         `json:"job"`
	Seq      int            `json:"seq,omitempty"`
	Stage    string         `json:"stage,omitempty"`
	Terminal bool           `json:"terminal,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
}

// runGenerateCurrent creates a job of the current generation and, with
// --wait, follows it to its end.
func runGenerateCurrent(ctx context.Context, client *api.Client, o generateOptions, stdout, stderr io.Writer) error {
	kind := api.JobAsset
	if o.scene {
		kind = api.JobScene
	}
	acc, err := client.CreateJob(ctx, kind, "", api.JobRequest{Prompt: o.req.Prompt, SceneID: o.inScene, Pipeline: o.pipeline})
	if err != nil {
		return exitForAPI(err)
	}
	return followCreated(ctx, client, acc, kind, o.wait, o.mode, stdout, stderr)
}

// followCreated reports an accepted job, and with wait follows it and
// prints what it made. kind is what the job makes: an asset, a scene, or
// an edit of a scene.
func followCreated(ctx context.Context, client *api.Client, acc *api.Accepted, kind string, wait bool, mode outputMode, stdout, stderr io.Writer) error {
	if acc.Recovered && !mode.quiet {
		fmt.Fprintf(stderr, "the create's answer was lost; found what it made instead of sending it again (job %s)\n", ui.OrDash(acc.JobID))
	}
	if !wait {
		switch {
		case mode.json:
			return ui.PrintJSON(stdout, jobJSON{Job: acc.JobID, Scene: acc.SceneID, Asset: acc.AssetID, Status: acc.Status, Recovered: acc.Recovered})
		case mode.quiet:
			_, err := fmt.Fprintln(stdout, acc.JobID)
			return err
		}
		fmt.Fprintf(stdout, "job %s: %s (scene %s)\n", acc.JobID, ui.OrDash(acc.Status), ui.OrDash(acc.SceneID))
		fmt.Fprintf(stderr, "generating; follow it with 'gizmo status %s'\n", acc.SceneID)
		return nil
	}
	if acc.JobID == "" {
		return fmt.Errorf("the create's answer was lost and what it made carries no job id: check it with 'gizmo status %s'", ui.OrDash(acc.SceneID))
	}
	mode.lines = true // the job's events, then its result
	start := time.Now()
	spin := ui.StartSpinner(stderr, mode.tty, fmt.Sprintf("%s queued", acc.JobID))
	job, err := client.FollowJob(ctx, acc.JobID, api.FollowOptions{OnEvent: func(e api.JobEvent) {
		label := e.Type
		if e.Stage != "" {
			label += " " + e.Stage
		}
		spin.Set(fmt.Sprintf("%s %s (%s)", acc.JobID, label, time.Since(start).Round(time.Second)))
		switch {
		case mode.json:
			ui.PrintJSONLine(stdout, jobEventJSON{Event: e.Type, Job: acc.JobID, Seq: e.Seq, Stage: e.Stage, Terminal: e.Terminal, Data: e.Data})
		case !mode.tty && !mode.quiet:
			fmt.Fprintf(stderr, "%s: %s\n", acc.JobID, label)
		}
	}})
	spin.End()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return waitTimedOut(fmt.Sprintf("job %s has not ended; check it later with 'gizmo status %s'", acc.JobID, acc.SceneID))
		}
		return exitForAPI(err)
	}
	if job.Status != "succeeded" {
		if mode.json {
			ui.PrintJSONLine(stdout, jobJSON{Job: job.ID, Scene: job.SceneID, Asset: job.AssetID, Status: job.Status, Error: job.Error})
		}
		reason := job.Error
		if reason == "" {
			reason = "the server gave no reason"
		}
		return fmt.Errorf("job %s %s: %s: %w; try again, perhaps with a different prompt", job.ID, job.Status, reason, api.ErrGenerationFailed)
	}
	sceneID := job.SceneID
	if sceneID == "" {
		sceneID = acc.SceneID
	}
	if kind == api.JobAsset && job.AssetID != "" {
		a, err := client.Get(ctx, job.AssetID)
		if err != nil {
			return exitForAPI(err)
		}
		return printAssetOrID(stdout, *a, mode)
	}
	if kind == api.JobAsset {
		fmt.Fprintf(stderr, "job %s succeeded without naming its asset; its scene is %s ('gizmo status %s')\n", job.ID, ui.OrDash(sceneID), ui.OrDash(sceneID))
	}
	sc, err := client.GetScene(ctx, sceneID)
	if err != nil {
		return exitForAPI(err)
	}
	return printScene(stdout, *sc, mode)
}

// printScene prints one scene: a two-column table, the JSON object, or
// (quiet) its id.
func printScene(w io.Writer, s api.Scene, mode outputMode) error {
	switch {
	case mode.json:
		return mode.printJSON(w, toSceneJSON(s))
	case mode.quiet:
		_, err := fmt.Fprintln(w, s.ID)
		return err
	}
	t := ui.NewTable(w)
	t.Row("scene", s.ID)
	t.Row("name", ui.OrDash(s.Name))
	t.Row("status", string(s.Status))
	t.Row("prompt", ui.OrDash(s.Prompt))
	if !s.CreatedAt.IsZero() {
		t.Row("created", s.CreatedAt.UTC().Format(time.RFC3339))
	}
	t.Row("assets", ui.OrDash(strings.Join(s.Assets, ", ")))
	if len(s.Edits) > 0 {
		t.Row("edits", strings.Join(s.Edits, "; "))
	}
	var fs []string
	for _, f := range s.Formats {
		fs = append(fs, string(f))
	}
	t.Row("formats", ui.OrDash(strings.Join(fs, ", ")))
	return t.Flush()
}
