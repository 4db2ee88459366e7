package prepare

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/antimlabs/gizmo/formats/project"
)

// Options.Manifest is used instead of gizmo.toml: a long-running caller
// keeps placing from the last good manifest while the file is broken.
func TestOptionsManifest(t *testing.T) {
	e := newEnv(t, 6)
	ready := e.readyIDs()
	good := manifestFor([]string{ready[0].ID}, "[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n")
	e.manifest(good)
	m, err := project.LoadManifest(e.project)
	if err != nil {
		t.Fatal(err)
	}
	e.manifest("[assets\nids = [") // broken
	if _, err := Run(context.Background(), e.options()); err == nil {
		t.Fatal("a broken gizmo.toml without Options.Manifest gave no error")
	}
	o := e.options()
	o.Manifest = m
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("with the last good manifest: %v", err)
	}
	if len(res.Items) != 1 || res.Items[0].ID != ready[0].ID {
		t.Fatalf("placed %+v, want %s", res.Items, ready[0].ID)
	}
	if _, err := os.Stat(filepath.Join(e.project, res.Items[0].Path)); err != nil {
		t.Error(err)
	}
	if lock, err := project.ReadLock(e.project); err != nil || lock.Manifest != m.Digest {
		t.Errorf("gizmo.lock records manifest %v (%v), want the given one's digest", lock, err)
	}
}

// Options.Listed resolves tags from the listing the cache holds, without
// listing again.
func TestOptionsListed(t *testing.T) {
	e := newEnv(t, 6)
	e.manifest("[assets]\nall = true\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n")
	ctx := context.Background()
	o := e.options()
	o.Update = true
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	lists := e.srv.Stats().List.Requests
	if lists == 0 {
		t.Fatal("the first update listed nothing")
	}
	o.Listed = true
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Stats().List.Requests - lists; n != 0 {
		t.Errorf("an update with Listed sent %d list requests, want 0", n)
	}
	if len(res.Items) != len(e.readyIDs()) {
		t.Errorf("placed %d models, want every ready asset (%d)", len(res.Items), len(e.readyIDs()))
	}
}
