package prepare

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/antimlabs/gizmo/internal/lockedfile"
)

// lockTargets takes <dir>/.gizmo/prepare.lock of every target, in folder
// order so that two runs cannot deadlock.
func lockTargets(ctx context.Context, targets []*target) (func(), error) {
	dirs := make([]string, 0, len(targets))
	for _, t := range targets {
		dirs = append(dirs, t.lt.Dir)
	}
	sort.Strings(dirs)
	var held []*lockedfile.Lock
	unlock := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i].Unlock()
		}
	}
	for _, d := range dirs {
		state := filepath.Join(d, ".gizmo")
		if err := os.MkdirAll(state, 0o755); err != nil {
			unlock()
			return nil, fmt.Errorf("create %s: %w", state, err)
		}
		l, err := lockedfile.Acquire(ctx, filepath.Join(state, "prepare.lock"), true)
		if err != nil {
			unlock()
			return nil, err
		}
		held = append(held, l)
	}
	return unlock, nil
}
