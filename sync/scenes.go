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
// complete is false when the scenes the cache knows but the listing lacks
// may not be taken as gone: scenes not asked for, a remote without scenes
// (the alpha generation, which has none), a listing that failed (a
// failure, reported) or one that changed while it was read.
func (m *mirror) listScenes(ctx context.Context) (scenes []api.Asset, complete bool) {
	sl, ok := m.remote.(SceneLister)
	if !m.opts.Scenes || !ok {
		return nil, false
	}
	l, err := ListScenes(ctx, sl)
	switch {
	case errors.Is(err, api.ErrNotInGeneration):
		return nil, false
	case err != nil:
		if ctx.Err() == nil {
			m.fail("", "", fmt.Sprintf("%v (scenes not synced: run gizmo sync again)", err))
		}
		return nil, false
	}
	for _, s := range l.Scenes {
		scenes = append(scenes, s.AsAsset())
	}
	m.count(func(s *Summary) { s.Scenes = len(scenes); s.ScenePages = l.Pages })
	return scenes, l.Complete
}

// editedScene tells whether a scene's revision differs from the one the
// cache recorded: its cached exports are of its old state (the cache drops
// them when it records the new revision; a dry run only plans).
func editedScene(rec record, prev cache.AssetMeta, known bool) bool {
	return known && rec.meta.Scene && prev.Revision != "" && rec.meta.Revision != "" && prev.Revision != rec.meta.Revision
}
