package cache

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Remove drops an asset (by id) from the cache: its metadata, entries and
// URLs, and the files no other entry shares. ErrNotFound when unknown.
func (c *Cache) Remove(ctx context.Context, id string) error {
	gcl, err := c.lockGCAlone(ctx)
	if err != nil {
		return err
	}
	defer gcl.Unlock()
	var gone []string
	found := false
	err = c.update(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketAssets).Get([]byte(id)) != nil
		prefix := []byte(id + "\x00")
		cur := tx.Bucket(bucketEntries).Cursor()
		for k, v := cur.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = cur.Next() {
			found = true
			if e, err := decodeEntry(v); err == nil {
				gone = append(gone, e.Hash)
			}
		}
		if !found {
			return nil
		}
		return deleteAssets(tx, []string{id})
	})
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	if !found {
		return fmt.Errorf("remove %s: %w", id, ErrNotFound)
	}
	return c.removeUnreferenced(gone)
}

// removeUnreferenced removes the blobs and trees of hashes that no entry
// references any more. The caller holds gc.lock exclusively, so that no
// store is publishing one of them meanwhile.
func (c *Cache) removeUnreferenced(hashes []string) error {
	entries, err := c.Entries()
	if err != nil {
		return err
	}
	still := map[string]bool{}
	for _, e := range entries {
		still[e.Hash] = true
	}
	for _, h := range hashes {
		if !still[h] && len(h) == 64 {
			removeTree(filepath.Join(c.root, treesDir, h))
			removeTree(c.blobPath(h))
		}
	}
	return nil
}

// dropStale removes the files of the entries RecordAssets dropped (a
// scene's exports of an older revision), unless an entry still uses them.
func (c *Cache) dropStale(hashes []string) error {
	if len(hashes) == 0 {
		return nil
	}
	gcl, err := c.lockGCAlone(context.Background())
	if err != nil {
		return err
	}
	defer gcl.Unlock()
	return c.removeUnreferenced(hashes)
}
