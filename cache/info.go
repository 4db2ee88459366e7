package cache

import (
	"io/fs"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Info describes the cache.
type Info struct {
	Root          string `json:"root"`
	SchemaVersion uint64 `json:"schema_version"`
	Assets        int    `json:"assets_cached"`
	Vanished      int    `json:"assets_vanished"`
	Entries       int    `json:"entries"`
	Blobs         int    `json:"blobs"`
	Trees         int    `json:"trees"`
	TempFiles     int    `json:"temp_files"`
	DownloadBytes int64  `json:"download_bytes"` // sum of the entries' download sizes
	DiskBytes     int64  `json:"disk_bytes"`     // space used by blobs, trees and temp files
}

// Info counts what the cache holds and measures its size on disk.
func (c *Cache) Info() (Info, error) {
	in := Info{Root: c.root}
	err := c.view(func(tx *bolt.Tx) error {
		in.SchemaVersion = readSchema(tx)
		if err := tx.Bucket(bucketAssets).ForEach(func(_, v []byte) error {
			in.Assets++
			if a, err := decodeAsset(v); err == nil && a.Vanished {
				in.Vanished++
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketEntries).ForEach(func(_, v []byte) error {
			in.Entries++
			if e, err := decodeEntry(v); err == nil {
				in.DownloadBytes += e.Size
			}
			return nil
		})
	})
	if err != nil {
		return in, err
	}
	shards, _ := os.ReadDir(filepath.Join(c.root, blobsDir))
	for _, s := range shards {
		blobs, _ := os.ReadDir(filepath.Join(c.root, blobsDir, s.Name()))
		in.Blobs += len(blobs)
	}
	trees, _ := os.ReadDir(filepath.Join(c.root, treesDir))
	in.Trees = len(trees)
	tmps, _ := os.ReadDir(filepath.Join(c.root, tmpDir))
	in.TempFiles = len(tmps)
	for _, d := range []string{blobsDir, treesDir, tmpDir} {
		in.DiskBytes += diskUsage(filepath.Join(c.root, d))
	}
	in.DiskBytes += diskUsage(c.dbPath())
	return in, nil
}

// diskUsage sums the sizes of the regular files under p, counting hard links
// once.
func diskUsage(p string) int64 {
	var n int64
	seen := map[[2]uint64]bool{}
	filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if id, ok := inode(info); ok {
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		n += info.Size()
		return nil
	})
	return n
}
