package layout

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
)

// TestStage: Stage builds the version folders and switches nothing (the
// asset's folder keeps showing what it showed); PlaceAll of the same
// assets then switches to the staged folders without building again.
func TestStage(t *testing.T) {
	ctx := context.Background()
	tg := Target{Dir: t.TempDir(), Layout: MuJoCo}
	old := Asset{ID: "ast_1", Name: "Arm", Slug: "arm", Sources: []Source{procgenSource(t, "ast_1", "Arm", "a robotic arm", formats.MuJoCo)}}
	first, err := tg.PlaceAll(ctx, []Asset{old})
	if err != nil {
		t.Fatal(err)
	}
	changed := Asset{ID: "ast_1", Name: "Arm", Slug: "arm", Sources: []Source{procgenSource(t, "ast_1", "Arm", "a quadruped robot", formats.MuJoCo)}}
	if err := tg.Stage(ctx, []Asset{changed}); err != nil {
		t.Fatal(err)
	}
	if cur := tg.current("arm"); cur != first[0].Version {
		t.Fatalf("Stage switched arm to %s", cur)
	}
	var staged []string
	for _, v := range tg.versions("arm") {
		if v != first[0].Version {
			staged = append(staged, v)
		}
	}
	if len(staged) != 1 {
		t.Fatalf("staged versions %v, want one", staged)
	}
	ps, err := tg.PlaceAll(ctx, []Asset{changed})
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Version != staged[0] || tg.current("arm") != staged[0] {
		t.Errorf("PlaceAll placed %s (current %s), want the staged %s", ps[0].Version, tg.current("arm"), staged[0])
	}
	ents, err := os.ReadDir(filepath.Join(tg.Dir, stateDir))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "arm@") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d version folders of arm, want 2 (the first and the staged one)", n)
	}
}
