package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/internal/testhook"
)

// Store downloads (id, format) with fetch into the cache, unless it is there
// already, and returns its entry. See the package comment for the protocol.
// When another goroutine or process is storing the same key, Store waits for
// it and returns its result instead of downloading again. On any error the
// index is unchanged and no temp file is left; a blob published just before
// a failure is referenced by nothing (GC removes it), and no partial file is
// ever at a final path.
func (c *Cache) Store(ctx context.Context, id, format string, fetch FetchFunc) (Entry, error) {
	return c.StoreChecked(ctx, id, format, fetch, nil)
}

// Check judges a download being stored, reading it through files (the
// download shown as its tree at TreePath(e), which need not be unpacked).
// nil means no verdict for it.
type Check func(ctx context.Context, e Entry, files *archive.Overlay) *Validation

// StoreChecked is Store that also runs check on a new download, once it is
// whole and before it is published (read from its temp file, so that
// gc.lock is not held across the check), and keeps the verdict
// in that record (Entry.Validation): one index write instead of two. An
// entry that was already stored is returned as it is, with the verdict it
// has, if any.
func (c *Cache) StoreChecked(ctx context.Context, id, format string, fetch FetchFunc, check Check) (Entry, error) {
	if err := checkKey(id, format); err != nil {
		return Entry{}, fmt.Errorf("store: %w", err)
	}
	kh := keyHash(id, format)
	// Temp files left by interrupted stores go once per Cache, not once
	// per store (listing tmp/ cost each store a directory read). Before
	// taking our key's lock, which would make our key's leftovers look in
	// use.
	c.sweepTemps.Do(c.removeStaleTemps)
	unlock, err := c.lockKey(ctx, kh)
	if err != nil {
		return Entry{}, fmt.Errorf("store %s/%s: %w", id, format, err)
	}
	defer unlock()
	// Checked under the lock (one index read): whoever held it before us
	// may have stored the key.
	if e, ok := c.present(id, format); ok {
		return e, nil
	}
	e, err := c.fetchAndPublish(ctx, id, format, kh, fetch, check)
	switch {
	case errors.Is(err, ErrHostileArchive):
		return Entry{}, fmt.Errorf("store %s/%s: %w (refused for safety, nothing was kept: report the asset to Gizmo)", id, format, err)
	case errors.Is(err, ErrNoModel):
		return Entry{}, fmt.Errorf("store %s/%s: %w (nothing was kept: check the asset with 'gizmo status %s')", id, format, err, id)
	case err != nil:
		return Entry{}, fmt.Errorf("store %s/%s: %w", id, format, err)
	}
	return e, nil
}

// present returns the entry of (id, format) when it is indexed and its
// download is in place (its tree is made on first use).
func (c *Cache) present(id, format string) (Entry, bool) {
	e, err := c.Entry(id, format)
	if err != nil {
		return Entry{}, false
	}
	if st, err := os.Stat(c.blobPath(e.Hash)); err != nil || st.Size() != e.Size {
		return Entry{}, false
	}
	return e, true
}

// removeStaleTemps removes every temp file and tree of a store under tmp/
// whose store is not running (its key's lock is free), as the first store
// of a Cache does: what a crash left behind goes at the next run. A temp of
// a store that crashes later stays until then, or until 'gizmo cache gc';
// it never stands in the way, since every temp file has a name of its own.
// Files not named like a store's temps are left to 'gizmo cache gc'.
func (c *Cache) removeStaleTemps() {
	tmps, _ := os.ReadDir(filepath.Join(c.root, tmpDir))
	for _, t := range tmps {
		if p := filepath.Join(c.root, tmpDir, t.Name()); tempKey(p) != "" && !c.keptForResume(p) {
			c.removeStaleTemp(p)
		}
	}
}

// removeTemps removes the temp files and trees of key kh. Callers hold the
// key's lock.
func (c *Cache) removeTemps(kh string) {
	matches, _ := filepath.Glob(filepath.Join(c.root, tmpDir, kh+"-*"))
	for _, m := range matches {
		if !c.keptForResume(m) {
			removeTree(m)
		}
	}
}

func (c *Cache) fetchAndPublish(ctx context.Context, id, format, kh string, fetch FetchFunc, check Check) (Entry, error) {
	tmp := filepath.Join(c.root, tmpDir)
	// A part kept from a download cut short resumes (resume.go).
	sw, err := c.adoptPart(tmp, kh, id, format)
	if err != nil {
		return Entry{}, err
	}
	if sw == nil {
		f, err := c.createTemp(tmp, kh+"-*.part")
		if err != nil {
			return Entry{}, fmt.Errorf("create a temp file in %s: %w (check free space and permissions)", tmp, err)
		}
		sw = &storeWriter{f: f, h: sha256.New()}
		sw.sidecar = f.Name() + resumeSuffix
	}
	sw.id, sw.format = id, format
	f := sw.f
	partName := f.Name()
	keepPart, forResume := false, false
	defer func() {
		if !keepPart && !forResume {
			os.Remove(partName)
		}
		if !forResume {
			os.Remove(sw.sidecar)
		}
	}()
	etag, err := fetch(ctx, sw)
	if sw.err != nil {
		f.Close()
		return Entry{}, fmt.Errorf("write the download to %s: %w (check free space and permissions)", tmp, sw.err)
	}
	if err != nil {
		f.Close()
		// What arrived is kept for the next store of the key to resume
		// from, when the fetcher gave its validator and the download
		// failed (a cut, a timeout, an expired URL), not when it was
		// cancelled: a stop (Ctrl-C, SIGTERM) leaves no temp file. (A
		// killed process cannot clean up: its part resumes.)
		forResume = sw.validator != "" && sw.n > 0 && ctx.Err() == nil
		return Entry{}, fmt.Errorf("download: %w", err)
	}
	if err := ctx.Err(); err != nil {
		f.Close()
		return Entry{}, err
	}
	// Not synced here: one flush for many stores, below.
	if err := f.Close(); err != nil {
		return Entry{}, fmt.Errorf("close %s: %w (check free space)", partName, err)
	}
	if st, err := os.Stat(partName); err != nil || st.Size() != sw.n {
		return Entry{}, fmt.Errorf("the download's temp file %s does not hold the %d bytes written (%v): the disk may be failing", partName, sw.n, err)
	}
	n := sw.n
	sum := hex.EncodeToString(sw.h.Sum(nil))
	kind := formats.Detect(sw.head)
	e := Entry{AssetID: id, Format: format, Hash: sum, Size: n, Kind: kind, ETag: etag, Filename: sw.name, FetchedAt: c.now().UTC()}

	name := fmt.Sprintf("download of %s/%s", id, format)
	// shown is the download as its tree will be, for check: the zip read
	// here (its bytes stay open until the end), or the blob.
	var shown *archive.Overlay
	switch kind {
	case formats.KindZip:
		// Checked in full (names, types, sizes, ratios, CRCs) but not
		// unpacked: the tree is made on first use (Unpack).
		var pf readerAtCloser
		if b, ok := sw.inMemory(); ok {
			pf = memZip{bytes.NewReader(b)}
		} else if pf, err = openAt(partName, n); err != nil {
			return Entry{}, err
		}
		defer pf.Close()
		zr, files, err := archive.OpenVerified(pf, n, name, c.limits, keepContents)
		if err != nil {
			return Entry{}, err
		}
		for _, fl := range files {
			e.Files = append(e.Files, fl.Name)
		}
		shown = archive.NewOverlayOf(c.TreePath(e), zr, files)
		if e.Model, e.ModelKind, err = findModel(overlayHead(shown), e.Files, format); err != nil {
			return Entry{}, fmt.Errorf("%s: %w", name, err)
		}
	case formats.KindURDF, formats.KindMJCF, formats.KindUSDA, formats.KindUSDC, formats.KindSDF:
		model := singleFileName(sw.name, kind)
		e.Files, e.Model, e.ModelKind = []string{model}, model, kind
		shown = archive.NewFileOverlay(c.TreePath(e), model, partName, n)
	default:
		return Entry{}, fmt.Errorf("%s is neither a zip archive nor a URDF, MJCF or USD file (it starts with %q): %w",
			name, preview(sw.head), ErrNoModel)
	}
	// The download reaches the disk before it gets its final name (a flush
	// shared with the other stores running now).
	if err := c.durable(partName); err != nil {
		return Entry{}, err
	}

	// Checked before publishing (the download read where it lies), so that
	// gc.lock is not held across validation: GC waits for a publish only.
	if check != nil {
		e.Validation = check(ctx, e, shown)
	}

	// Publish: the blob, then the index record, with gc.lock shared so
	// that GC never takes the blob for garbage in between.
	unlockGC, err := c.shareGC(ctx)
	if err != nil {
		return Entry{}, err
	}
	defer unlockGC()
	blob := c.blobPath(sum)
	if st, err := os.Stat(blob); err == nil && st.Size() == n {
		// Same content already stored (another asset, or a lost index
		// record). Drop the temp file now, before the index record, so that
		// a crash after the commit leaves no temp file behind.
		os.Remove(partName)
	} else {
		// The directories whose entries change, for the flush after the rename.
		dir := filepath.Dir(blob)
		dirs := []string{dir}
		created, err := c.blobDir(dir, false)
		if err != nil {
			return Entry{}, err
		}
		if err := os.Chmod(partName, 0o444); err != nil {
			return Entry{}, err
		}
		err = c.rename(partName, blob)
		if errors.Is(err, fs.ErrNotExist) && !created {
			// The directory went since this process made or saw it.
			if created, err = c.blobDir(dir, true); err == nil {
				err = c.rename(partName, blob)
			}
		}
		if err != nil {
			return Entry{}, fmt.Errorf("move the download into %s: %w (check permissions)", dir, err)
		}
		if created {
			dirs = append(dirs, filepath.Join(c.root, blobsDir))
		}
		keepPart = true
		// The new name reaches the disk before the index record that
		// points at it.
		if err := c.durable(dirs...); err != nil {
			return Entry{}, err
		}
		testhook.Reached(ctx, testhook.Published)
	}
	v, err := json.Marshal(e)
	if err != nil {
		return Entry{}, err
	}
	err = c.updateBatch(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).Put(entryKey(id, format), v)
	})
	if err != nil {
		return Entry{}, fmt.Errorf("record in the index: %w", err)
	}
	return e, nil
}
