package sync_test

import (
	"slices"
	"testing"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
)

// TestMergeAsset: what a list page leaves out is kept from the cache's
// record while the status is unchanged (formats, tags, the failure's
// reason), and the result shares no slice with either side.
func TestMergeAsset(t *testing.T) {
	prev := cache.AssetMeta{ID: "ast_1", Name: "Arm", Status: "failed", Error: "mesh too large",
		Tags: []string{"arm"}, Formats: []string{"mujoco"}}
	tests := []struct {
		name      string
		a         api.Asset
		known     bool
		wantErr   string
		wantTags  []string
		wantForms []string
	}{
		{"list page, same status", api.Asset{ID: "ast_1", Name: "Arm", Status: api.StatusFailed}, true,
			"mesh too large", []string{"arm"}, []string{"mujoco"}},
		{"status changed", api.Asset{ID: "ast_1", Name: "Arm", Status: api.StatusReady}, true,
			"", []string{"arm"}, nil},
		{"the server's own", api.Asset{ID: "ast_1", Name: "Arm", Status: api.StatusFailed, Error: "timeout",
			Tags: []string{"x"}, Formats: []formats.Format{formats.IsaacURDF}}, true,
			"timeout", []string{"x"}, []string{"isaac_sim_urdf"}},
		{"unknown to the cache", api.Asset{ID: "ast_1", Name: "Arm", Status: api.StatusFailed}, false,
			"", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := gsync.MergeAsset(tt.a, prev, tt.known)
			if m.Error != tt.wantErr || !slices.Equal(m.Tags, tt.wantTags) || !slices.Equal(m.Formats, tt.wantForms) {
				t.Fatalf("merged %+v", m)
			}
			if len(m.Tags) > 0 {
				m.Tags[0] = "changed"
				if prev.Tags[0] != "arm" || len(tt.a.Tags) > 0 && tt.a.Tags[0] != "x" {
					t.Errorf("the merged tags share a slice")
				}
			}
			if len(m.Formats) > 0 {
				m.Formats[0] = "changed"
				if prev.Formats[0] != "mujoco" {
					t.Errorf("the merged formats share the cache's slice")
				}
			}
		})
	}
}

func TestHasAnyTag(t *testing.T) {
	tests := []struct {
		have, want []string
		ok         bool
	}{
		{[]string{"a", "b"}, []string{"b"}, true},
		{[]string{"a"}, []string{"b", "c"}, false},
		{nil, []string{"a"}, false},
		{[]string{"a"}, nil, false},
	}
	for _, tt := range tests {
		if got := gsync.HasAnyTag(tt.have, tt.want); got != tt.ok {
			t.Errorf("HasAnyTag(%q, %q) = %v", tt.have, tt.want, got)
		}
	}
}
