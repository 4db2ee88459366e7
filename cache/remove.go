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
	entries, err := c.Entries()
	if err != nil {
		return err
	}
	still := map[string]bool{}
	for _, e := range entries {
		still[e.Hash] = true
	}
	for _, h := range gone {
		if !still[h] && len(h) == 64 {
			removeTree(filepath.Join(c.root, treesDir, h))
			removeTree(c.blobPath(h))
		}
	}
	return nil
}
