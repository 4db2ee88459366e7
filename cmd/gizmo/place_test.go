package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/formats/project"
)

// TestOffersPlaceable: place refuses, before gizmo.toml is edited, an asset
// offering none of the formats of the targets it would go to.
func TestOffersPlaceable(t *testing.T) {
	m := &project.Manifest{Targets: []project.Target{
		{Layout: layout.MuJoCo, Dir: "assets/mujoco", Formats: []formats.Format{formats.MuJoCo}},
	}}
	usdOnly := &project.Target{Layout: layout.Isaac, Dir: "only-usd", Formats: []formats.Format{formats.IsaacUSD}}
	isaac := &project.Target{Layout: layout.Isaac, Dir: "assets/isaac"}
	tests := []struct {
		name    string
		offers  []string
		want    *project.Target
		refused bool
	}{
		{"offers mjcf, every target", []string{"mujoco_mjcf", "gazebo_sdf"}, nil, false},
		{"only sdf, every target", []string{"gazebo_sdf"}, nil, true},
		{"only sdf, a new isaac target", []string{"gazebo_sdf"}, isaac, true},
		{"urdf for the isaac layout's default formats", []string{"isaac_sim_urdf"}, isaac, false},
		{"urdf, a usd-only target", []string{"isaac_sim_urdf", "gazebo_sdf"}, usdOnly, true},
		{"formats unknown (a listing): passes", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := offersPlaceable(cache.AssetMeta{ID: "ast_1", Name: "arm", Formats: tt.offers}, m, tt.want)
			var no *notOffered
			if got := errors.As(err, &no); got != tt.refused {
				t.Fatalf("refused %v (%v), want %v", got, err, tt.refused)
			}
			if tt.refused && (!strings.Contains(err.Error(), "ast_1 (arm)") || !strings.Contains(err.Error(), "gizmo.toml unchanged")) {
				t.Errorf("message %q does not name the asset and say gizmo.toml is unchanged", err)
			}
		})
	}
}
