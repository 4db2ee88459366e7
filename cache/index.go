package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

func entryKey(id, format string) []byte { return []byte(id + "\x00" + format) }

func nameKey(name, id string) []byte { return []byte(name + "\x00" + id) }

func decodeAsset(v []byte) (AssetMeta, error) {
	var a AssetMeta
	err := json.Unmarshal(v, &a)
	return a, err
}

func decodeEntry(v []byte) (Entry, error) {
	var e Entry
	err := json.Unmarshal(v, &e)
	return e, err
}

// RecordAssets upserts the metadata of the assets seen, in one write
// transaction. FirstSeen is kept from the first record; LastSeen becomes now
// (or seen's LastSeen when set). When complete (seen is the account's full
// listing), every other known asset is marked Vanished, and assets seen again
// lose the mark. A scene seen with another Revision than the one recorded
// loses its entries (edited elsewhere, its cached exports are of its old
// state: the next fetch exports it again); one seen without a revision
// keeps the recorded one, and Scene once set stays set.
func (c *Cache) RecordAssets(seen []AssetMeta, complete bool) error {
	now := c.now().UTC()
	for _, a := range seen {
		if err := checkKey(a.ID, "-"); err != nil {
			return fmt.Errorf("record assets: %w", err)
		}
	}
	var stale []string // hashes of the entries of scenes edited since
	err := c.update(func(tx *bolt.Tx) error {
		stale = stale[:0]
		assets, names := tx.Bucket(bucketAssets), tx.Bucket(bucketNames)
		inListing := make(map[string]bool, len(seen))
		for _, a := range seen {
			inListing[a.ID] = true
			if old := assets.Get([]byte(a.ID)); old != nil {
				prev, err := decodeAsset(old)
				if err == nil {
					if !prev.FirstSeen.IsZero() {
						a.FirstSeen = prev.FirstSeen
					}
					a.Scene = a.Scene || prev.Scene
					switch {
					case a.Revision == "":
						a.Revision = prev.Revision
					case prev.Revision != "" && prev.Revision != a.Revision:
						hs, err := deleteExports(tx, a.ID)
						if err != nil {
							return err
						}
						stale = append(stale, hs...)
					}
					if err := names.Delete(nameKey(prev.Name, a.ID)); err != nil {
						return err
					}
				}
			}
			if a.FirstSeen.IsZero() {
				a.FirstSeen = now
			}
			if a.LastSeen.IsZero() {
				a.LastSeen = now
			}
			a.Vanished = false
			v, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if err := assets.Put([]byte(a.ID), v); err != nil {
				return err
			}
			if err := names.Put(nameKey(a.Name, a.ID), nil); err != nil {
				return err
			}
		}
		if !complete {
			return nil
		}
		type upd struct {
			k, v []byte
		}
		var gone []upd
		err := assets.ForEach(func(k, v []byte) error {
			if inListing[string(k)] {
				return nil
			}
			a, err := decodeAsset(v)
			if err != nil || a.Vanished {
				return nil
			}
			a.Vanished = true
			nv, err := json.Marshal(a)
			if err != nil {
				return err
			}
			gone = append(gone, upd{append([]byte(nil), k...), nv})
			return nil
		})
		if err != nil {
			return err
		}
		for _, u := range gone {
			if err := assets.Put(u.k, u.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.dropStale(stale)
}

// Assets lists every asset the cache knows, sorted by name then id.
func (c *Cache) Assets() ([]AssetMeta, error) {
	var out []AssetMeta
	err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssets).ForEach(func(k, v []byte) error {
			a, err := decodeAsset(v)
			if err != nil {
				return fmt.Errorf("cache index: asset %q: %w (run 'gizmo cache verify --repair')", k, err)
			}
			out = append(out, a)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// Asset finds an asset by id, else by exact name. A name shared by several
// assets is an error listing their ids. Unknown: ErrNotFound.
func (c *Cache) Asset(idOrName string) (AssetMeta, error) {
	var a AssetMeta
	var ids []string
	err := c.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketAssets).Get([]byte(idOrName)); v != nil {
			var err error
			a, err = decodeAsset(v)
			ids = []string{idOrName}
			return err
		}
		prefix := []byte(idOrName + "\x00")
		cur := tx.Bucket(bucketNames).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		if len(ids) == 1 {
			v := tx.Bucket(bucketAssets).Get([]byte(ids[0]))
			if v == nil {
				return fmt.Errorf("cache index: name %q points at unknown asset %s (run 'gizmo cache verify --repair')", idOrName, ids[0])
			}
			var err error
			a, err = decodeAsset(v)
			return err
		}
		return nil
	})
	switch {
	case err != nil:
		return AssetMeta{}, err
	case len(ids) == 0:
		return AssetMeta{}, fmt.Errorf("asset %q: %w (run 'gizmo sync' or check the id)", idOrName, ErrNotFound)
	case len(ids) > 1:
		return AssetMeta{}, fmt.Errorf("name %q matches %d assets (%s): use an id", idOrName, len(ids), strings.Join(ids, ", "))
	}
	return a, nil
}

// Entry returns the stored (id, format). ErrNotCached when absent.
func (c *Cache) Entry(id, format string) (Entry, error) {
	var e Entry
	found := false
	err := c.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEntries).Get(entryKey(id, format))
		if v == nil {
			return nil
		}
		found = true
		var err error
		e, err = decodeEntry(v)
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("cache entry %s/%s: %w", id, format, err)
	}
	if !found {
		return Entry{}, fmt.Errorf("%s/%s: %w", id, format, ErrNotCached)
	}
	return e, nil
}

// Entries returns every stored entry, sorted by asset id then format, in one
// read of the index.
func (c *Cache) Entries() ([]Entry, error) {
	var out []Entry
	err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).ForEach(func(k, v []byte) error {
			e, err := decodeEntry(v)
			if err != nil {
				return fmt.Errorf("cache index: entry %q: %w (run 'gizmo cache verify --repair')", bytes.ReplaceAll(k, []byte{0}, []byte{'/'}), err)
			}
			out = append(out, e)
			return nil
		})
	})
	// Keys sort by id NUL format already.
	return out, err
}

// Stored returns the entry of (id, format) when it is stored: indexed, with
// its download in place (its tree is made on first use, see Unpack). An
// entry whose download is gone is not stored: the error wraps ErrNotCached,
// as for one never stored, and fetching it again stores it again.
func (c *Cache) Stored(id, format string) (Entry, error) {
	if e, ok := c.present(id, format); ok {
		return e, nil
	}
	if _, err := c.Entry(id, format); err != nil {
		return Entry{}, err // not indexed (ErrNotCached), or the index unreadable
	}
	return Entry{}, fmt.Errorf("%s/%s: its download is gone: %w", id, format, ErrNotCached)
}

// Have reports whether (id, format) is stored: indexed, with its download
// in place (its tree is made on first use, see Unpack).
func (c *Cache) Have(id, format string) bool {
	_, ok := c.present(id, format)
	return ok
}

type urlRecord struct {
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// RecordURL keeps the last export URL of (id, format) so that an unexpired
// one is reused. It is a pre-signed URL, not the API key: fine to store, but
// never print it.
func (c *Cache) RecordURL(id, format, url string, expires time.Time) error {
	if err := checkKey(id, format); err != nil {
		return err
	}
	v, err := json.Marshal(urlRecord{URL: url, Expires: expires})
	if err != nil {
		return err
	}
	return c.updateBatch(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketURLs).Put(entryKey(id, format), v)
	})
}

// URL returns the last export URL recorded for (id, format) and its expiry.
// ok is false when none is recorded; the caller checks expires.
func (c *Cache) URL(id, format string) (url string, expires time.Time, ok bool) {
	var r urlRecord
	err := c.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketURLs).Get(entryKey(id, format))
		if v == nil {
			return errors.New("none")
		}
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return "", time.Time{}, false
	}
	return r.URL, r.Expires, true
}

// RecordedURL is an export URL recorded with RecordURL.
type RecordedURL struct {
	AssetID, Format, URL string
	Expires              time.Time
}

// URLs returns every recorded export URL, in one read of the index (a sync
// reads them all at its start instead of one read per file).
func (c *Cache) URLs() ([]RecordedURL, error) {
	var out []RecordedURL
	err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketURLs).ForEach(func(k, v []byte) error {
			id, format, ok := bytes.Cut(k, []byte{0})
			var r urlRecord
			if !ok || json.Unmarshal(v, &r) != nil {
				return nil // unreadable: as if none were recorded (URL does the same)
			}
			out = append(out, RecordedURL{AssetID: string(id), Format: string(format), URL: r.URL, Expires: r.Expires})
			return nil
		})
	})
	return out, err
}

// SetValidation records the validation result of a stored entry.
func (c *Cache) SetValidation(id, format string, v Validation) error {
	return c.updateBatch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEntries)
		k := entryKey(id, format)
		old := b.Get(k)
		if old == nil {
			return fmt.Errorf("set validation of %s/%s: %w", id, format, ErrNotCached)
		}
		e, err := decodeEntry(old)
		if err != nil {
			return err
		}
		e.Validation = &v
		nv, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put(k, nv)
	})
}
