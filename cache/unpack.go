package cache

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/archive"
)

// Store keeps a download as its blob only; its tree (the zip unpacked, or
// the single model file under its model name) is made on first use, by
// Unpack. A mirror of a whole account so writes one file per download, and
// trees exist only for the models someone places or asks for.

// Unpack makes sure e's tree is in place, unpacking the stored download
// when it is not, with the same protocol as Store: under the key's lock, a
// temp tree checked with the hostile-archive rules, made read-only and
// durable, renamed into place (gc.lock shared), the rename made durable.
// It returns the model file's path (ModelPath). A tree already there costs
// one stat.
func (c *Cache) Unpack(ctx context.Context, e Entry) (string, error) {
	tree, model := c.TreePath(e), c.ModelPath(e)
	if st, err := os.Stat(tree); err == nil && st.IsDir() {
		return model, nil
	}
	if err := checkKey(e.AssetID, e.Format); err != nil {
		return "", fmt.Errorf("unpack: %w", err)
	}
	kh := keyHash(e.AssetID, e.Format)
	unlock, err := c.lockKey(ctx, kh)
	if err != nil {
		return "", fmt.Errorf("unpack %s/%s: %w", e.AssetID, e.Format, err)
	}
	defer unlock()
	if st, err := os.Stat(tree); err == nil && st.IsDir() {
		return model, nil // unpacked meanwhile
	}
	// Any temp file or tree of this key is stale: its writer held the lock
	// we hold.
	c.removeTemps(kh)
	if err := c.unpack(ctx, e, kh); err != nil {
		return "", fmt.Errorf("unpack %s/%s into %s: %w", e.AssetID, e.Format, tree, err)
	}
	return model, nil
}

func (c *Cache) unpack(ctx context.Context, e Entry, kh string) error {
	blob := c.blobPath(e.Hash)
	st, err := os.Stat(blob)
	if err != nil || st.Size() != e.Size {
		return fmt.Errorf("the stored download %s is missing or damaged (%v): run 'gizmo cache verify --repair', then sync again", blob, err)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	treeTmp := filepath.Join(c.root, tmpDir, kh+"-"+hex.EncodeToString(rnd[:])+".tree")
	defer removeTree(treeTmp) // gone after a successful rename
	name := fmt.Sprintf("download of %s/%s", e.AssetID, e.Format)
	sealed := false
	switch e.Kind {
	case formats.KindZip:
		f, err := os.Open(blob)
		if err != nil {
			return err
		}
		_, err = archive.ExtractSealed(f, e.Size, name, treeTmp, c.limits)
		f.Close()
		if err != nil {
			return err
		}
		sealed = true
	default:
		// The tree's file is the blob itself (a hard link): check it is
		// the download the index names (a zip's entries have their CRCs).
		if sum, _, err := hashFile(blob); err != nil || sum != e.Hash {
			return fmt.Errorf("the stored download %s does not match its SHA-256 (%v): run 'gizmo cache verify --repair', then sync again", blob, err)
		}
		m := filepath.FromSlash(e.Model)
		if !filepath.IsLocal(m) || filepath.Dir(m) != "." {
			return fmt.Errorf("the index record names the model %q, not a file name: run 'gizmo cache verify --repair'", e.Model)
		}
		if err := os.Mkdir(treeTmp, 0o755); err != nil {
			return err
		}
		if err := linkOrCopy(blob, filepath.Join(treeTmp, m)); err != nil {
			return fmt.Errorf("place the model in %s: %w", treeTmp, err)
		}
	}
	written, err := freeze(treeTmp, sealed)
	if err != nil {
		return fmt.Errorf("seal %s: %w", treeTmp, err)
	}
	if err := c.durable(written...); err != nil {
		return err
	}
	// gc.lock shared for the rename only: once in place, the tree belongs
	// to an indexed entry and GC keeps it; the flush after it (syncfs,
	// which may take long on a busy disk) need not keep GC waiting.
	unlockGC, err := c.shareGC(ctx)
	if err != nil {
		return err
	}
	tree := c.TreePath(e)
	err = c.rename(treeTmp, tree)
	unlockGC()
	if err != nil {
		if st, serr := os.Stat(tree); serr != nil || !st.IsDir() {
			return fmt.Errorf("move the unpacked tree into %s: %w (check permissions)", filepath.Dir(tree), err)
		}
		// Unpacked meanwhile for another key with the same bytes.
		return nil
	}
	return c.durable(filepath.Join(c.root, treesDir))
}

// Files shows e's stored download as its tree at TreePath(e), unpacked or
// not: what a validator reads to check the model where it will be, without
// writing anything. Close the returned Closer when done.
func (c *Cache) Files(e Entry) (*archive.Overlay, io.Closer, error) {
	blob := c.blobPath(e.Hash)
	if e.Kind != formats.KindZip {
		if st, err := os.Stat(blob); err != nil || st.Size() != e.Size {
			return nil, nil, fmt.Errorf("the stored download %s is missing or damaged (%v): run 'gizmo cache verify --repair', then sync again", blob, err)
		}
		return archive.NewFileOverlay(c.TreePath(e), e.Model, blob, e.Size), io.NopCloser(nil), nil
	}
	f, err := openAt(blob, e.Size)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("the stored download %s is missing: run 'gizmo cache verify --repair', then sync again", blob)
		}
		return nil, nil, err
	}
	zr, err := zip.NewReader(f, e.Size)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("the stored download %s is not a readable zip (%v): run 'gizmo cache verify --repair', then sync again", blob, err)
	}
	return archive.NewOverlay(c.TreePath(e), zr), f, nil
}
