package layout

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// syncFS flushes the file system holding a folder; tests swap it.
var syncFS = atomicfile.SyncFS

// flushed holds the version folders this process made durable, by
// absolute path. A version folder is never changed once named and its name
// is never given to another, so a second flush of it would only wait for
// other programs' writes: after Stage, the PlaceAll that switches the same
// folders in under the project's lock flushes nothing, and the lock is not
// held across a syncfs whose length other programs decide. Entries go when
// their folder is collected.
var flushed sync.Map

// flushVersions makes version folders durable before they are switched in:
// their files and folders, their sidecars and their names in <dir>/.gizmo.
// Where there is syncfs(2) (Linux) that is one call for any number of
// folders, against an fsync of every file and folder (each of which, on
// ext4, also commits the journal); it also writes other programs' dirty
// data on the project's file system. Elsewhere every file and folder is
// fsynced, contents before the folders that hold them.
func flushVersions(state string, versions []string) error {
	var todo []string
	for _, v := range versions {
		if _, ok := flushed.Load(flushKey(state, v)); !ok {
			todo = append(todo, v)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if err := flushEach(state, todo); err != nil {
		return err
	}
	for _, v := range todo {
		flushed.Store(flushKey(state, v), true)
	}
	return nil
}

// flushKey names a version folder in flushed.
func flushKey(state, version string) string {
	if abs, err := filepath.Abs(state); err == nil {
		state = abs
	}
	return filepath.Join(state, version)
}

// flushEach makes the version folders durable: one syncfs, or an fsync of
// every file and folder.
func flushEach(state string, versions []string) error {
	err := syncFS(state)
	if !errors.Is(err, atomicfile.ErrNoSyncFS) {
		return err
	}
	var paths []string
	for _, v := range versions {
		dir := filepath.Join(state, v)
		var dirs []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir():
				dirs = append(dirs, p)
			case d.Type().IsRegular():
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := len(dirs) - 1; i >= 0; i-- { // deepest first
			paths = append(paths, dirs[i])
		}
		paths = append(paths, dir+".json")
	}
	return atomicfile.SyncEach(append(paths, state))
}

// writeNewSidecar writes the sidecar of a version folder just built (a
// temp file renamed into place, so never partial), without flushing it:
// flushVersions does, with the folder.
func writeNewSidecar(state, slug, version string, s sidecar) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	// A temp name that versions() does not take for a version, and that
	// sweepStale removes if a run stops here.
	tmp := filepath.Join(state, "tmp-"+slug+"-"+randSuffix()+".json")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(state, version+".json"))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
