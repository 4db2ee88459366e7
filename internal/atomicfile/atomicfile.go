// Package atomicfile writes files so that a reader sees the old file
// or the new one, never a partial one, and the change survives a crash: a
// temp file beside the target, fsync, rename, fsync of the directory.
// The cache, the placement code, the emulator's state and the CLI's
// export output all write their files with it; SyncFS and SyncEach make a
// batch of writes durable at once (the cache's stores, layout's placements).
package atomicfile

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes data to name atomically and durably, with mode perm,
// creating name's directory if needed. On error name is untouched and no
// temp file is left.
func WriteFile(name string, data []byte, perm fs.FileMode) error {
	return Write(name, bytes.NewReader(data), perm)
}

// Write is WriteFile for content read from r to its end: a reader never
// sees part of it at name, and an error reading r leaves name untouched.
func Write(name string, r io.Reader, perm fs.FileMode) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, making the renames and creations in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
