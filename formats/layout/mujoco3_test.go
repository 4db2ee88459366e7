package layout

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
)

// TestPlacedScenesLoadInMuJoCo3 loads every placed scene (procedural robots
// and the corpus's Menagerie models, which MuJoCo 3.3.8 all accepts where
// they stand) in MuJoCo 3 from the placed folder.
func TestPlacedScenesLoadInMuJoCo3(t *testing.T) {
	reftest.Require(t, reference.ToolMuJoCo3)
	dir := t.TempDir()
	tg := Target{Dir: dir, Layout: MuJoCo}
	var scenes []string
	for _, p := range prompts {
		src := procgenSource(t, p.id, p.name, p.prompt, formats.MuJoCo)
		placed, err := tg.Place(Asset{ID: p.id, Name: p.name, Slug: Slug(p.name), Sources: []Source{src}})
		if err != nil {
			t.Fatal(err)
		}
		scenes = append(scenes, filepath.Join(dir, placed.Slug, placed.Models[0].Scene))
	}
	// The corpus models are many and heavy: only in a full run.
	corpus := ""
	if !testing.Short() {
		corpus = corpusIfPresent(t)
	}
	if corpus != "" {
		for _, m := range mjcfModels(t, corpus) {
			name := filepath.Base(filepath.Dir(m)) + " " + strings.TrimSuffix(filepath.Base(m), ".xml")
			placed, err := tg.Place(Asset{ID: name, Name: name, Slug: Slug(name), Sources: []Source{{Format: formats.MuJoCo, Hash: "h", Tree: filepath.Dir(m), Model: filepath.Base(m)}}})
			if err != nil {
				t.Fatal(err)
			}
			scenes = append(scenes, filepath.Join(dir, placed.Slug, placed.Models[0].Scene))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vs, err := reference.MuJoCo3Batch(ctx, scenes)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if !v.Accepted {
			t.Errorf("MuJoCo 3 rejects the placed %s: %s", scenes[i], v.First())
		}
	}
}
