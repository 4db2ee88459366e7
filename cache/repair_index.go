package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/antimlabs/gizmo/internal/atomicfile"
	bolt "go.etcd.io/bbolt"
)

// IndexRepair says what RepairIndex did.
type IndexRepair struct {
	// Rebuilt is false when the index was sound and left as it was.
	Rebuilt bool `json:"rebuilt"`
	// Reason is what was wrong with the index.
	Reason string `json:"reason,omitempty"`
	// SavedAs is where the damaged index was kept, for inspection.
	SavedAs string `json:"saved_as,omitempty"`
	// Assets and Entries count the records recovered; Dropped counts the
	// entries found whose download is no longer stored as recorded (the
	// next sync fetches them again).
	Assets  int `json:"assets"`
	Entries int `json:"entries"`
	Dropped int `json:"dropped"`
}

// RepairIndex rebuilds the damaged index of the cache at dir from what can
// be read of it: every page of the file is read on its own, and each
// record that decodes (an asset's metadata, an entry naming its asset,
// format and hash) is kept, the newest of each when a key turns up in
// several pages. An entry is kept only when its download is stored with
// the size it records (Verify then checks its hash). Export URLs are not
// kept (the next export asks for a fresh one); the names bucket is made
// again from the assets. The damaged file is kept beside it as
// index.db.damaged-TIME, and the new index replaces it in one rename.
//
// A sound index is left untouched (Rebuilt false). An error reading the
// file (permission, I/O) is returned as it is: it is no proof of damage,
// and nothing is changed.
func RepairIndex(ctx context.Context, dir string) (IndexRepair, error) {
	var res IndexRepair
	c, err := newCache(dir)
	if err != nil {
		return res, err
	}
	// gc.lock first, then index.lock: the order a store takes them in.
	gcl, err := c.lockGCAlone(ctx)
	if err != nil {
		return res, fmt.Errorf("repair the cache index: %w", err)
	}
	defer gcl.Unlock()
	x := c.index()
	x.rw.Lock() // no committer of this process has the index open meanwhile
	defer x.rw.Unlock()
	lctx, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	lk, err := x.acquire(lctx, true)
	if err != nil {
		return res, fmt.Errorf("repair the cache index: %s is held by another process: %w", x.path, err)
	}
	defer lk.Unlock()

	meta, _, _, err := readBoltMeta(x.path)
	if err == nil {
		err = x.readAllOnce()
	}
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return res, nil
	}
	var derr *IndexDamagedError
	if !errors.As(err, &derr) {
		return res, fmt.Errorf("repair the cache index: %w (nothing was changed)", err)
	}
	res.Reason = derr.Reason
	data, err := os.ReadFile(x.path)
	if err != nil {
		return res, fmt.Errorf("repair the cache index: %w (nothing was changed)", err)
	}
	ps := int(meta.pageSize)
	if ps == 0 {
		ps = 4096
	}
	assets, candidates := salvage(data, ps)
	entries := map[string]Entry{}
	for k, es := range candidates {
		if e, ok := c.bestEntry(es); ok {
			entries[k] = e
		} else {
			res.Dropped++
		}
	}

	tmp := x.path + ".rebuild"
	os.Remove(tmp)
	defer os.Remove(tmp)
	if err := writeIndex(tmp, assets, entries); err != nil {
		return res, fmt.Errorf("repair the cache index: write %s: %w (nothing was changed)", tmp, err)
	}
	res.SavedAs = x.path + ".damaged-" + time.Now().UTC().Format("20060102T150405.000Z")
	if err := os.Link(x.path, res.SavedAs); err != nil {
		if err := os.WriteFile(res.SavedAs, data, 0o644); err != nil {
			return res, fmt.Errorf("repair the cache index: keep a copy of the damaged index: %w (nothing was changed)", err)
		}
	}
	if err := os.Rename(tmp, x.path); err != nil {
		return res, fmt.Errorf("repair the cache index: %w (nothing was changed)", err)
	}
	if err := atomicfile.SyncEach([]string{c.root}); err != nil {
		return res, fmt.Errorf("repair the cache index: %w", err)
	}
	res.Rebuilt, res.Assets, res.Entries = true, len(assets), len(entries)
	return res, nil
}

// readAllOnce opens the index read-only and reads all of it (the caller
// holds index.lock).
func (x *indexDB) readAllOnce() error {
	var db *bolt.DB
	err := guardIndex(x.path, func() (err error) {
		db, err = bolt.Open(x.path, 0o644, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: true})
		return err
	})
	if err != nil {
		if errors.Is(err, ErrIndexDamaged) {
			return err
		}
		return openError(x.path, x.root, err)
	}
	defer db.Close()
	return guardIndex(x.path, func() error { return db.View(readAll) })
}

// bestEntry picks, among the versions of one entry found in the damaged
// index, the newest whose download is stored with the size it records.
func (c *Cache) bestEntry(es []Entry) (Entry, bool) {
	var best Entry
	found := false
	for _, e := range es {
		if st, err := os.Stat(c.blobPath(e.Hash)); err != nil || st.Size() != e.Size {
			continue
		}
		if !found || newer(e, best) {
			best, found = e, true
		}
	}
	return best, found
}

// newer tells whether a is a later version of an entry than b.
func newer(a, b Entry) bool {
	if !a.FetchedAt.Equal(b.FetchedAt) {
		return a.FetchedAt.After(b.FetchedAt)
	}
	switch {
	case a.Validation == nil:
		return false
	case b.Validation == nil:
		return true
	}
	return a.Validation.Checked.After(b.Validation.Checked)
}

// salvage reads every leaf page of a bbolt file (and the inline buckets in
// them) on its own, trusting no page's parent, and returns the records that
// decode as assets (keyed by id) and as entries (keyed by id NUL format,
// every version found).
func salvage(data []byte, pageSize int) (map[string]AssetMeta, map[string][]Entry) {
	assets := map[string]AssetMeta{}
	entries := map[string][]Entry{}
	visit := func(k, v []byte) {
		switch {
		case bytes.Contains(v, []byte(`"sha256"`)):
			e, err := decodeEntry(v)
			if err != nil || len(e.Hash) != 64 || checkKey(e.AssetID, e.Format) != nil || string(k) != string(entryKey(e.AssetID, e.Format)) {
				return
			}
			if _, err := hex.DecodeString(e.Hash); err != nil {
				return
			}
			entries[string(k)] = append(entries[string(k)], e)
		case bytes.Contains(v, []byte(`"first_seen"`)):
			a, err := decodeAsset(v)
			if err != nil || a.ID != string(k) || checkKey(a.ID, "-") != nil {
				return
			}
			if prev, ok := assets[a.ID]; !ok || a.LastSeen.After(prev.LastSeen) {
				assets[a.ID] = a
			}
		}
	}
	ne := binary.NativeEndian
	for off := 2 * pageSize; off+boltPageHeader <= len(data); off += pageSize {
		p := data[off:]
		if ne.Uint64(p) != uint64(off/pageSize) || ne.Uint16(p[8:]) != boltLeafPage {
			continue // not a leaf page, or one whose header is damaged
		}
		end := off + (int(ne.Uint32(p[12:]))+1)*pageSize
		if end < off || end > len(data) {
			end = len(data)
		}
		salvageLeaf(data[off:end], visit, 0)
	}
	return assets, entries
}

// salvageLeaf calls visit for each key/value of the leaf page p whose
// bounds make sense, and descends into inline buckets.
func salvageLeaf(p []byte, visit func(k, v []byte), depth int) {
	ne := binary.NativeEndian
	if len(p) < boltPageHeader || depth > 8 {
		return
	}
	count := int(ne.Uint16(p[10:]))
	for i := 0; i < count; i++ {
		eo := boltPageHeader + i*boltLeafElement
		if eo+boltLeafElement > len(p) {
			return
		}
		flags, pos := ne.Uint32(p[eo:]), uint64(ne.Uint32(p[eo+4:]))
		ks, vs := uint64(ne.Uint32(p[eo+8:])), uint64(ne.Uint32(p[eo+12:]))
		ko := uint64(eo) + pos
		if ko+ks+vs > uint64(len(p)) {
			continue
		}
		k, v := p[ko:ko+ks], p[ko+ks:ko+ks+vs]
		if flags&boltBucketLeaf != 0 {
			if len(v) > boltInBucketSize && ne.Uint64(v) == 0 {
				salvageLeaf(v[boltInBucketSize:], visit, depth+1)
			}
			continue
		}
		visit(k, v)
	}
}

// writeIndex writes a new index at path holding assets and entries, at the
// current schema.
func writeIndex(path string, assets map[string]AssetMeta, entries map[string]Entry) error {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := migrateTx(tx, SchemaVersion, path); err != nil {
			return err
		}
		ab, nb, eb := tx.Bucket(bucketAssets), tx.Bucket(bucketNames), tx.Bucket(bucketEntries)
		for id, a := range assets {
			v, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if err := ab.Put([]byte(id), v); err != nil {
				return err
			}
			if err := nb.Put(nameKey(a.Name, id), nil); err != nil {
				return err
			}
		}
		for k, e := range entries {
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := eb.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}
