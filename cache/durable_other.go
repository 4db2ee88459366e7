//go:build !linux

package cache

// syncFS: only Linux has syncfs(2); elsewhere each path is fsynced.
func syncFS(root string) error { return errNoSyncfs }
