package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/antimlabs/gizmo/internal/lockedfile"
)

// unreferenced lists blobs and trees that no hash in refs names, and every
// entry of tmp/ (stale or in progress: removeStaleTemp tells them apart).
// A directory that cannot be listed (no permission, an I/O error) is in
// unreadable with its error, never taken for empty or for garbage; one
// that does not exist holds nothing.
func (c *Cache) unreferenced(refs map[string]bool) (extra, temps []string, unreadable map[string]error) {
	unreadable = map[string]error{}
	readDir := func(dir string) []os.DirEntry {
		ds, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			unreadable[dir] = err
		}
		return ds
	}
	shards := readDir(filepath.Join(c.root, blobsDir))
	for _, s := range shards {
		dir := filepath.Join(c.root, blobsDir, s.Name())
		if !s.IsDir() {
			extra = append(extra, dir)
			continue
		}
		for _, b := range readDir(dir) {
			if !refs[b.Name()] {
				extra = append(extra, filepath.Join(dir, b.Name()))
			}
		}
	}
	for _, t := range readDir(filepath.Join(c.root, treesDir)) {
		if !refs[t.Name()] {
			extra = append(extra, filepath.Join(c.root, treesDir, t.Name()))
		}
	}
	for _, t := range readDir(filepath.Join(c.root, tmpDir)) {
		p := filepath.Join(c.root, tmpDir, t.Name())
		if c.inProgress(p) {
			continue
		}
		temps = append(temps, p)
	}
	return extra, temps, unreadable
}

// tempKey is the key hash a temp file's name starts with, or "".
func tempKey(p string) string {
	base := filepath.Base(p)
	if i := strings.IndexByte(base, '-'); i == 32 {
		return base[:i]
	}
	return ""
}

// inProgress reports whether a temp file belongs to a store that is running
// now (its key's lock is held).
func (c *Cache) inProgress(p string) bool {
	kh := tempKey(p)
	if kh == "" {
		return false
	}
	lk, err := lockedfile.TryAcquire(c.keyLockPath(kh), true)
	if err != nil {
		return true
	}
	lk.Unlock()
	return false
}

// removeStaleTemp removes a temp file or tree unless its store is running.
// tempLeftOver reports whether the temp file or tree p is left over from an
// interrupted store: it still exists and no store holds its key's lock (a
// store in progress, in this process or another, does).
func (c *Cache) tempLeftOver(p string) bool {
	if kh := tempKey(p); kh != "" {
		lk, err := lockedfile.TryAcquire(c.keyLockPath(kh), true)
		if err != nil {
			return false
		}
		defer lk.Unlock()
	}
	_, err := os.Lstat(p)
	return err == nil
}

func (c *Cache) removeStaleTemp(p string) bool {
	if c.keptForResume(p) {
		return false // a part kept to resume, for a while (resume.go)
	}
	kh := tempKey(p)
	if kh != "" {
		lk, err := lockedfile.TryAcquire(c.keyLockPath(kh), true)
		if err != nil {
			return false
		}
		defer lk.Unlock()
	}
	return removeTree(p) == nil
}

// GCOptions tune GC.
type GCOptions struct {
	DryRun bool // report what would go, remove nothing
	Prune  bool // also drop assets that have vanished from the account
}

// GCResult says what GC removed (or, with DryRun, would remove).
type GCResult struct {
	Removed []string `json:"removed"`          // paths of blobs, trees and temp files
	Bytes   int64    `json:"bytes"`            // disk space they used
	Pruned  []string `json:"pruned,omitempty"` // ids of vanished assets dropped
}

// GC removes the blobs and trees no index record references and stale temp
// files; with Prune it first drops vanished assets (metadata, entries, URLs).
func (c *Cache) GC(ctx context.Context, opts GCOptions) (GCResult, error) {
	var res GCResult
	gcl, err := c.lockGCAlone(ctx)
	if err != nil {
		return res, err
	}
	defer gcl.Unlock()
	if opts.Prune {
		assets, err := c.Assets()
		if err != nil {
			return res, err
		}
		for _, a := range assets {
			if a.Vanished {
				res.Pruned = append(res.Pruned, a.ID)
			}
		}
	}
	entries, _, err := c.entriesLenient()
	if err != nil {
		return res, err
	}
	refs := map[string]bool{}
	pruned := map[string]bool{}
	for _, id := range res.Pruned {
		pruned[id] = true
	}
	for _, e := range entries {
		if !pruned[e.AssetID] {
			refs[e.Hash] = true
		}
	}
	extra, temps, unreadable := c.unreferenced(refs)
	if len(unreadable) > 0 {
		// What cannot be listed may hold what the index references:
		// nothing is taken for garbage until it can be read.
		return GCResult{}, fmt.Errorf("gc: %w; nothing was removed (fix the permissions or the disk, then run it again)", unreadableError(unreadable))
	}
	if !opts.DryRun && len(res.Pruned) > 0 {
		if err := c.update(func(tx *bolt.Tx) error { return deleteAssets(tx, res.Pruned) }); err != nil {
			return res, fmt.Errorf("gc: prune: %w", err)
		}
	}
	for _, p := range append(extra, temps...) {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		size := diskUsage(p)
		if opts.DryRun {
			res.Removed = append(res.Removed, p)
			res.Bytes += size
			continue
		}
		var ok bool
		if tempKey(p) != "" || strings.HasPrefix(p, filepath.Join(c.root, tmpDir)+string(filepath.Separator)) {
			ok = c.removeStaleTemp(p)
		} else {
			ok = removeTree(p) == nil
		}
		if ok {
			res.Removed = append(res.Removed, p)
			res.Bytes += size
		}
	}
	return res, nil
}

// deleteAssets drops the metadata, names, entries and URLs of ids.
func deleteAssets(tx *bolt.Tx, ids []string) error {
	assets, names := tx.Bucket(bucketAssets), tx.Bucket(bucketNames)
	for _, id := range ids {
		if v := assets.Get([]byte(id)); v != nil {
			if a, err := decodeAsset(v); err == nil {
				if err := names.Delete(nameKey(a.Name, id)); err != nil {
					return err
				}
			}
		}
		if err := assets.Delete([]byte(id)); err != nil {
			return err
		}
		if _, err := deleteExports(tx, id); err != nil {
			return err
		}
	}
	return nil
}

// deleteExports drops the entries and URLs of id (their files stay), and
// returns the hashes of the entries dropped.
func deleteExports(tx *bolt.Tx, id string) (hashes []string, err error) {
	for _, b := range []*bolt.Bucket{tx.Bucket(bucketEntries), tx.Bucket(bucketURLs)} {
		prefix := []byte(id + "\x00")
		cur := b.Cursor()
		var keys [][]byte
		for k, v := cur.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = cur.Next() {
			keys = append(keys, append([]byte(nil), k...))
			if b == tx.Bucket(bucketEntries) {
				if e, err := decodeEntry(v); err == nil {
					hashes = append(hashes, e.Hash)
				}
			}
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return nil, err
			}
		}
	}
	return hashes, nil
}
