package cache

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/antimlabs/gizmo/cache/lockedfile"
	"github.com/antimlabs/gizmo/formats"
)

// The kinds of Problem Verify reports.
const (
	ProblemMissing = "missing" // a file an index record needs is not there
	ProblemCorrupt = "corrupt" // a file's bytes differ from what the index records
	ProblemPartial = "partial" // a leftover temp file or tree of an interrupted store
	ProblemExtra   = "extra"   // a file no index record references (gc removes it)
	ProblemIndex   = "index"   // an index record that cannot be read
)

// Problem is one inconsistency between the index and the disk.
type Problem struct {
	Kind     string `json:"kind"`
	AssetID  string `json:"asset_id,omitempty"`
	Format   string `json:"format,omitempty"`
	Path     string `json:"path,omitempty"`
	Detail   string `json:"detail"`
	Repaired bool   `json:"repaired,omitempty"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Kind)
	if p.AssetID != "" {
		fmt.Fprintf(&b, " %s/%s", p.AssetID, p.Format)
	}
	if p.Path != "" {
		fmt.Fprintf(&b, " %s", p.Path)
	}
	fmt.Fprintf(&b, ": %s", p.Detail)
	if p.Repaired {
		b.WriteString(" (repaired)")
	}
	return b.String()
}

// Verify re-hashes every stored download and checks every tree against it,
// and reconciles the index with the disk: missing, corrupt, partial and extra
// files. With repair it drops the index records of bad entries (and their bad
// files), so that the next sync fetches them again, and removes leftover temp
// files. Extra files are only reported: GC removes them.
//
// Hashing runs without any lock held; a problem is reported only if the
// entry is still the same afterwards, so concurrent stores and removals do
// not produce false alarms.
func (c *Cache) Verify(ctx context.Context, repair bool) ([]Problem, error) {
	entries, unreadable, err := c.entriesLenient()
	if err != nil {
		return nil, err
	}
	var problems []Problem
	for _, k := range unreadable {
		id, format, _ := strings.Cut(k, "\x00")
		problems = append(problems, Problem{Kind: ProblemIndex, AssetID: id, Format: format, Detail: "the index record cannot be read"})
	}
	if repair && len(unreadable) > 0 {
		err := c.update(func(tx *bolt.Tx) error {
			for _, k := range unreadable {
				if err := tx.Bucket(bucketEntries).Delete([]byte(k)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return problems, fmt.Errorf("repair: %w", err)
		}
		for i := range problems {
			problems[i].Repaired = true
		}
	}
	bad := map[string]Entry{}     // entry key → entry
	treeOnly := map[string]bool{} // entry key → only its unpacked tree is bad
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return problems, err
		}
		ps := c.checkEntry(e)
		k := string(entryKey(e.AssetID, e.Format))
		if len(ps) > 0 {
			bad[k] = e
			treeOnly[k] = true
		}
		tree := c.TreePath(e)
		for _, p := range ps {
			p.AssetID, p.Format = e.AssetID, e.Format
			problems = append(problems, p)
			if p.Path != tree && !strings.HasPrefix(p.Path, tree+string(filepath.Separator)) {
				treeOnly[k] = false
			}
		}
	}
	// Reconcile the disk with the index under gc.lock, so that no store is
	// between publishing its files and indexing them.
	lockMode := repair
	gcl, err := lockedfile.Acquire(ctx, filepath.Join(c.root, locksDir, gcLockName), lockMode)
	if err != nil {
		return problems, err
	}
	defer gcl.Unlock()
	now, _, err := c.entriesLenient()
	if err != nil {
		return problems, err
	}
	current := map[string]Entry{}
	refs := map[string]bool{}
	for _, e := range now {
		current[string(entryKey(e.AssetID, e.Format))] = e
		refs[e.Hash] = true
	}
	// Drop problems of entries that changed while we hashed.
	kept := problems[:0]
	for _, p := range problems {
		k := string(entryKey(p.AssetID, p.Format))
		if p.Kind == ProblemIndex {
			kept = append(kept, p)
		} else if cur, ok := current[k]; ok && cur.Hash == bad[k].Hash {
			kept = append(kept, p)
		} else {
			delete(bad, k)
		}
	}
	problems = kept
	extra, temps := c.unreferenced(refs)
	for _, p := range extra {
		problems = append(problems, Problem{Kind: ProblemExtra, Path: p, Detail: "referenced by no index record; 'gizmo cache gc' removes it"})
	}
	for _, p := range temps {
		if !c.tempLeftOver(p) {
			continue // a store of that key is writing it right now
		}
		pr := Problem{Kind: ProblemPartial, Path: p, Detail: "left by an interrupted download or extraction"}
		if repair && c.removeStaleTemp(p) {
			pr.Repaired = true
		}
		problems = append(problems, pr)
	}
	if repair {
		// A damaged tree whose download is sound goes, and the entry
		// stays: Unpack makes the tree again from the download.
		for k, e := range bad {
			if !treeOnly[k] {
				continue
			}
			delete(bad, k)
			if err := removeTree(c.TreePath(e)); err != nil {
				continue // stays unrepaired
			}
			for i := range problems {
				if string(entryKey(problems[i].AssetID, problems[i].Format)) == k {
					problems[i].Repaired = true
				}
			}
		}
	}
	if repair && len(bad) > 0 {
		var hashes []string
		err := c.update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketEntries)
			for k, e := range bad {
				if v := b.Get([]byte(k)); v != nil {
					if cur, err := decodeEntry(v); err == nil && cur.Hash != e.Hash {
						continue
					}
				}
				if err := b.Delete([]byte(k)); err != nil {
					return err
				}
				hashes = append(hashes, e.Hash)
			}
			return nil
		})
		if err != nil {
			return problems, fmt.Errorf("repair: %w", err)
		}
		// A bad hash is bad for every entry that shares it, so all of those
		// were dropped too: remove its files so that a new store rewrites them.
		for _, h := range hashes {
			removeTree(c.blobPath(h))
			removeTree(filepath.Join(c.root, treesDir, h))
		}
		for i := range problems {
			if _, ok := bad[string(entryKey(problems[i].AssetID, problems[i].Format))]; ok && problems[i].AssetID != "" {
				problems[i].Repaired = true
			}
		}
	}
	return problems, nil
}

// entriesLenient reads every entry, returning the keys of the records that
// cannot be decoded instead of failing.
func (c *Cache) entriesLenient() (entries []Entry, unreadable []string, err error) {
	err = c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).ForEach(func(k, v []byte) error {
			e, err := decodeEntry(v)
			if err != nil || len(e.Hash) != 64 {
				unreadable = append(unreadable, string(k))
				return nil
			}
			entries = append(entries, e)
			return nil
		})
	})
	return entries, unreadable, err
}

// checkEntry verifies one entry's blob and tree.
func (c *Cache) checkEntry(e Entry) []Problem {
	var ps []Problem
	if len(e.Hash) != 64 {
		return []Problem{{Kind: ProblemIndex, Detail: fmt.Sprintf("bad hash %q in the index", e.Hash)}}
	}
	blob := c.blobPath(e.Hash)
	sum, size, err := hashFile(blob)
	switch {
	case os.IsNotExist(err):
		ps = append(ps, Problem{Kind: ProblemMissing, Path: blob, Detail: "the stored download is missing"})
	case err != nil:
		ps = append(ps, Problem{Kind: ProblemCorrupt, Path: blob, Detail: fmt.Sprintf("cannot be read: %v", err)})
	case size != e.Size:
		ps = append(ps, Problem{Kind: ProblemCorrupt, Path: blob, Detail: fmt.Sprintf("holds %d bytes, the index says %d", size, e.Size)})
	case sum != e.Hash:
		ps = append(ps, Problem{Kind: ProblemCorrupt, Path: blob, Detail: "its SHA-256 differs from the index's"})
	}
	tree := c.TreePath(e)
	if _, err := os.Lstat(tree); errors.Is(err, fs.ErrNotExist) {
		return ps // not unpacked yet: made on first use (Unpack)
	}
	if st, err := os.Stat(tree); err != nil || !st.IsDir() {
		return append(ps, Problem{Kind: ProblemCorrupt, Path: tree, Detail: "the unpacked tree is not a directory"})
	}
	if _, err := os.Stat(c.ModelPath(e)); err != nil {
		ps = append(ps, Problem{Kind: ProblemMissing, Path: c.ModelPath(e), Detail: "the model file is missing"})
	}
	if len(ps) > 0 {
		return ps
	}
	// The blob is sound: check the tree against it.
	want := map[string]func(string) error{}
	if e.Kind == formats.KindZip {
		zr, err := zip.OpenReader(blob)
		if err != nil {
			return []Problem{{Kind: ProblemCorrupt, Path: blob, Detail: fmt.Sprintf("not a readable zip: %v", err)}}
		}
		defer zr.Close()
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, "/") {
				continue
			}
			f := f
			want[f.Name] = func(p string) error {
				crc, n, err := crcFile(p)
				if err != nil {
					return err
				}
				if n != int64(f.UncompressedSize64) || crc != f.CRC32 {
					return fmt.Errorf("differs from the archive's entry")
				}
				return nil
			}
		}
	} else {
		want[e.Model] = func(p string) error {
			if a, err1 := os.Stat(p); err1 == nil {
				if b, err2 := os.Stat(blob); err2 == nil && os.SameFile(a, b) {
					return nil
				}
			}
			s, n, err := hashFile(p)
			if err != nil {
				return err
			}
			if n != e.Size || s != e.Hash {
				return fmt.Errorf("differs from the download")
			}
			return nil
		}
	}
	seen := map[string]bool{}
	filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			ps = append(ps, Problem{Kind: ProblemCorrupt, Path: p, Detail: err.Error()})
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(tree, p)
		rel = filepath.ToSlash(rel)
		check, ok := want[rel]
		if !ok {
			ps = append(ps, Problem{Kind: ProblemCorrupt, Path: p, Detail: "in the tree but not in the download"})
			return nil
		}
		seen[rel] = true
		if !d.Type().IsRegular() {
			ps = append(ps, Problem{Kind: ProblemCorrupt, Path: p, Detail: "not a regular file"})
		} else if err := check(p); err != nil {
			ps = append(ps, Problem{Kind: ProblemCorrupt, Path: p, Detail: err.Error()})
		}
		return nil
	})
	var missing []string
	for name := range want {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		ps = append(ps, Problem{Kind: ProblemMissing, Path: filepath.Join(tree, filepath.FromSlash(name)), Detail: "a file of the download is missing from the tree"})
	}
	return ps
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func crcFile(p string) (uint32, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	h := crc32.NewIEEE()
	n, err := io.Copy(h, f)
	return h.Sum32(), n, err
}

// unreferenced lists blobs and trees that no hash in refs names, and every
// entry of tmp/ (stale or in progress: removeStaleTemp tells them apart).
func (c *Cache) unreferenced(refs map[string]bool) (extra, temps []string) {
	shards, _ := os.ReadDir(filepath.Join(c.root, blobsDir))
	for _, s := range shards {
		dir := filepath.Join(c.root, blobsDir, s.Name())
		if !s.IsDir() {
			extra = append(extra, dir)
			continue
		}
		blobs, _ := os.ReadDir(dir)
		for _, b := range blobs {
			if !refs[b.Name()] {
				extra = append(extra, filepath.Join(dir, b.Name()))
			}
		}
	}
	trees, _ := os.ReadDir(filepath.Join(c.root, treesDir))
	for _, t := range trees {
		if !refs[t.Name()] {
			extra = append(extra, filepath.Join(c.root, treesDir, t.Name()))
		}
	}
	tmps, _ := os.ReadDir(filepath.Join(c.root, tmpDir))
	for _, t := range tmps {
		p := filepath.Join(c.root, tmpDir, t.Name())
		if c.inProgress(p) {
			continue
		}
		temps = append(temps, p)
	}
	return extra, temps
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
	gcl, err := lockedfile.Acquire(ctx, filepath.Join(c.root, locksDir, gcLockName), true)
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
		if !opts.DryRun && len(res.Pruned) > 0 {
			if err := c.update(func(tx *bolt.Tx) error { return deleteAssets(tx, res.Pruned) }); err != nil {
				return res, fmt.Errorf("gc: prune: %w", err)
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
	extra, temps := c.unreferenced(refs)
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
		for _, b := range []*bolt.Bucket{tx.Bucket(bucketEntries), tx.Bucket(bucketURLs)} {
			prefix := []byte(id + "\x00")
			cur := b.Cursor()
			var keys [][]byte
			for k, _ := cur.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = cur.Next() {
				keys = append(keys, append([]byte(nil), k...))
			}
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Remove drops an asset (by id) from the cache: its metadata, entries and
// URLs, and the files no other entry shares. ErrNotFound when unknown.
func (c *Cache) Remove(id string) error {
	gcl, err := lockedfile.Acquire(context.Background(), filepath.Join(c.root, locksDir, gcLockName), true)
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

// Info describes the cache.
type Info struct {
	Root          string `json:"root"`
	SchemaVersion uint64 `json:"schema_version"`
	Assets        int    `json:"assets"`
	Vanished      int    `json:"vanished"`
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
