package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/sync/api"
)

// listScenes reads the account's scenes (Options.Scenes), each as an
// asset (api.Scene.AsAsset): recorded, planned and fetched as assets are.
// listed is false when the scenes were not read: not asked for, a remote
// without scenes (the alpha generation, which has none), or a listing that
// failed (a failure, reported); the scenes the cache knows are then neither
// marked vanished nor pruned.
func (m *mirror) listScenes(ctx context.Context) (scenes []api.Asset, listed bool) {
	sl, ok := m.remote.(SceneLister)
	if !m.opts.Scenes || !ok {
		return nil, false
	}
	all, err := sl.AllScenes(ctx)
	switch {
	case errors.Is(err, api.ErrNotInGeneration):
		return nil, false
	case err != nil:
		if ctx.Err() == nil {
			m.fail("", "", fmt.Sprintf("%v (scenes not synced: run gizmo sync again)", err))
		}
		return nil, false
	}
	seen := make(map[string]bool, len(all))
	for _, s := range all {
		if s.ID == "" || seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		scenes = append(scenes, s.AsAsset())
	}
	pages := (len(all) + PageSize - 1) / PageSize
	m.count(func(s *Summary) { s.Scenes = len(scenes); s.ScenePages = max(1, pages) })
	return scenes, true
}

// editedScene tells whether a scene's revision differs from the one the
// cache recorded: its cached exports are of its old state (the cache drops
// them when it records the new revision; a dry run only plans).
func editedScene(rec record, prev cache.AssetMeta, known bool) bool {
	return known && rec.meta.Scene && prev.Revision != "" && rec.meta.Revision != "" && prev.Revision != rec.meta.Revision
}
