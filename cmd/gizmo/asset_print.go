package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/internal/termtext"
	"github.com/antimlabs/gizmo/sync/api"
)

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
		return mode.printJSON(w, toAssetJSON(a))
	case mode.quiet:
		_, err := fmt.Fprintln(w, termtext.Clean(string(a.Status)))
		return err
	}
	j := toAssetJSON(a)
	t := ui.NewTable(w)
	t.Row("id", j.ID)
	t.Row("name", j.Name)
	t.Row("status", j.Status)
	t.Row("prompt", j.Prompt)
	t.Row("tags", ui.OrDash(strings.Join(j.Tags, ", ")))
	t.Row("created", ui.OrDash(j.CreatedAt))
	t.Row("formats", ui.OrDash(strings.Join(j.Formats, ", ")))
	if j.Error != "" {
		t.Row("error", j.Error)
	}
	return t.Flush()
}

// printAssetOrID prints one asset as printAsset does, except that quiet
// (without --json) prints the asset's id, not its status.
func printAssetOrID(w io.Writer, a api.Asset, mode outputMode) error {
	if mode.quiet && !mode.json {
		_, err := fmt.Fprintln(w, termtext.Clean(a.ID))
		return err
	}
	return printAsset(w, a, mode)
}
