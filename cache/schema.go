package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// Bucket and key names of the index (drawn in the package comment).
var (
	bucketMeta    = []byte("meta")
	bucketAssets  = []byte("assets")
	bucketNames   = []byte("names")
	bucketEntries = []byte("entries")
	bucketURLs    = []byte("urls")
	keySchema     = []byte("schema")
)

// migration moves the index from version to-1 to version to, inside one
// write transaction.
type migration struct {
	to   uint64
	name string
	run  func(tx *bolt.Tx) error
}

// migrations are applied in order; each has its own test. Append only.
var migrations = []migration{
	{1, "create the meta, assets, entries and urls buckets", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketAssets, bucketEntries, bucketURLs} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{2, "index asset names (names bucket) for look-ups without a scan", func(tx *bolt.Tx) error {
		names, err := tx.CreateBucketIfNotExists(bucketNames)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketAssets).ForEach(func(k, v []byte) error {
			a, err := decodeAsset(v)
			if err != nil {
				return fmt.Errorf("asset %q: %w", k, err)
			}
			return names.Put(nameKey(a.Name, string(k)), nil)
		})
	}},
}

// SchemaVersion is the index schema this gizmo writes.
var SchemaVersion = migrations[len(migrations)-1].to

func readSchema(tx *bolt.Tx) uint64 {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return 0
	}
	v := m.Get(keySchema)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func tooNew(v uint64, path string) error {
	return fmt.Errorf("%w: %s has schema %d, this gizmo knows up to %d; upgrade gizmo, or point --cache-dir elsewhere (the index is left untouched)",
		ErrSchemaTooNew, path, v, SchemaVersion)
}

// migrate brings the index to SchemaVersion. It only opens the index for
// writing when there is something to do.
func (c *Cache) migrate() error {
	// A zero-length index is one whose creation was cut short: the
	// read-write open below initialises it.
	if st, err := os.Stat(c.dbPath()); err == nil && st.Size() > 0 {
		var v uint64
		err := c.view(func(tx *bolt.Tx) error { v = readSchema(tx); return nil })
		if err != nil {
			return err
		}
		if v > SchemaVersion {
			return tooNew(v, c.dbPath())
		}
		if v == SchemaVersion {
			return nil
		}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open cache index %s: %w", c.dbPath(), err)
	}
	return c.update(func(tx *bolt.Tx) error { return migrateTx(tx, SchemaVersion, c.dbPath()) })
}

// migrateTx applies the migrations from the stored version up to target.
func migrateTx(tx *bolt.Tx, target uint64, path string) error {
	v := readSchema(tx)
	if v > SchemaVersion {
		return tooNew(v, path)
	}
	for _, m := range migrations {
		if m.to <= v || m.to > target {
			continue
		}
		if err := m.run(tx); err != nil {
			return fmt.Errorf("migrate cache index %s to schema %d (%s): %w", path, m.to, m.name, err)
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], m.to)
		if err := meta.Put(keySchema, b[:]); err != nil {
			return err
		}
		v = m.to
	}
	return nil
}
