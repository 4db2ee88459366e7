//go:build !linux

package cache

import (
	"io/fs"
	"os"
	"path/filepath"
)

// syncFS makes every file and directory under root durable, one fsync each
// (no syncfs(2) outside Linux).
func syncFS(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
