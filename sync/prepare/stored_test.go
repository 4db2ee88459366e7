package prepare

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
)

// TestRefetchGoneDownload: an export the cache indexes but whose download
// (and tree) are gone is not stored: prepare fetches it again, as sync
// does, instead of failing to unpack it.
func TestRefetchGoneDownload(t *testing.T) {
	e := newEnv(t, 6)
	ready := e.readyIDs()
	id := ready[0].ID
	e.manifest(manifestFor([]string{id}, "[[target]]\nlayout = \"isaac\"\ndir = \"i\"\nformats = [\"urdf\"]\n"))
	ctx := context.Background()
	res, err := Run(ctx, e.options())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Fetched != 1 {
		t.Fatalf("first prepare: %+v", res)
	}
	c, err := cache.Open(e.cache)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := c.Entry(id, string(formats.IsaacURDF))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{c.DownloadPath(ent), c.TreePath(ent)} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	// A placed file deleted too, so that the run is not a no-op.
	if err := os.Remove(filepath.Join(e.project, filepath.FromSlash(res.Items[0].Path))); err != nil {
		t.Fatal(err)
	}
	before := e.srv.Stats().Download.Requests
	res, err = Run(ctx, e.options())
	if err != nil {
		t.Fatalf("prepare with the download gone from the cache: %v", err)
	}
	if res.Fetched != 1 || res.Repaired != 1 || e.srv.Stats().Download.Requests != before+1 {
		t.Errorf("fetched %d, repaired %d, downloads %d (want 1, 1, 1)", res.Fetched, res.Repaired, e.srv.Stats().Download.Requests-before)
	}
	if _, err := os.Stat(filepath.Join(e.project, filepath.FromSlash(res.Items[0].Path))); err != nil {
		t.Errorf("not placed again: %v", err)
	}
}
