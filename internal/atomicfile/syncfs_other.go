//go:build !linux

package atomicfile

// SyncFS: only Linux has syncfs(2); elsewhere the caller fsyncs each file.
func SyncFS(dir string) error { return ErrNoSyncFS }
