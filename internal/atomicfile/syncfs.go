package atomicfile

import (
	"errors"
	"fmt"
	"os"
)

// ErrNoSyncFS is returned by SyncFS where the system has no syncfs(2).
var ErrNoSyncFS = errors.New("syncfs is not supported")

// SyncEach fsyncs each path once, in order: list files before the
// directories that hold them.
func SyncEach(paths []string) error {
	seen := make(map[string]bool, len(paths))
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("fsync %s: %w", p, err)
		}
	}
	return nil
}
