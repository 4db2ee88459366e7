package cache

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	bolt "go.etcd.io/bbolt"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/lockedfile"
)

// The kinds of Problem Verify reports.
const (
	ProblemMissing = "missing" // a file an index record needs is not there
	ProblemCorrupt = "corrupt" // a file's bytes differ from what the index records
	ProblemPartial = "partial" // a leftover temp file or tree of an interrupted store
	ProblemExtra   = "extra"   // a file no index record references (gc removes it)
	ProblemIndex   = "index"   // an index record, or the index itself, that cannot be read
	// ProblemVerdict: a recorded validation that is no verdict, cut short
	// by an interruption (Validation.Interrupted); repair clears it, and
	// the next sync validates the entry again.
	ProblemVerdict = "verdict"
	// ProblemUnreadable: a file or folder that cannot be read (no
	// permission, an I/O error). That is no proof of damage: nothing is
	// repaired while one is reported.
	ProblemUnreadable = "unreadable"
)

// Problem is one inconsistency between the index and the disk.
type Problem struct {
	Kind     string `json:"kind"`
	AssetID  string `json:"id,omitempty"`
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

// Unresolved tells whether p still needs someone: not repaired, and
// neither an extra file (GC removes it) nor a temp file of an interrupted
// store (the next store, Unpack or GC removes it).
func (p Problem) Unresolved() bool {
	return !p.Repaired && p.Kind != ProblemExtra && p.Kind != ProblemPartial
}

// Verify reads the whole index, re-hashes every stored download and checks
// every tree against it, and reconciles the index with the disk: missing,
// corrupt, unreadable, partial and extra files. With repair it drops the
// index records of bad entries (and their bad files), so that the next sync
// fetches them again, and removes leftover temp files. Extra files are only
// reported: GC removes them.
//
// A file or folder that cannot be read (permission, I/O) is reported as
// unreadable and is never taken for corrupt: while any is reported,
// repair repairs nothing. A damaged index is an error wrapping
// ErrIndexDamaged (RepairIndex rebuilds it).
//
// Hashing runs without any lock held; a problem is reported only if the
// entry is still the same afterwards, so concurrent stores and removals do
// not produce false alarms.
func (c *Cache) Verify(ctx context.Context, repair bool) ([]Problem, error) {
	if err := c.view(readAll); err != nil {
		return nil, err
	}
	entries, unreadable, err := c.entriesLenient()
	if err != nil {
		return nil, err
	}
	var problems []Problem
	for _, k := range unreadable {
		id, format, _ := strings.Cut(k, "\x00")
		problems = append(problems, Problem{Kind: ProblemIndex, AssetID: id, Format: format, Detail: "the index record cannot be read"})
	}
	hashAt := map[string]string{} // entry key → hash, as checked
	bad := map[string]Entry{}     // entry key → entry
	treeOnly := map[string]bool{} // entry key → only its unpacked tree is bad
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return problems, err
		}
		ps := c.checkEntry(e)
		k := string(entryKey(e.AssetID, e.Format))
		hashAt[k] = e.Hash
		if e.Validation.Interrupted() {
			problems = append(problems, Problem{Kind: ProblemVerdict, AssetID: e.AssetID, Format: e.Format, Path: c.ModelPath(e),
				Detail: fmt.Sprintf("the recorded validation was cut short (%s): it says nothing about the model; the next sync validates it again", strings.Join(e.Validation.Summary, "; "))})
		}
		tree := c.TreePath(e)
		for _, p := range ps {
			p.AssetID, p.Format = e.AssetID, e.Format
			problems = append(problems, p)
			if p.Kind == ProblemUnreadable {
				continue
			}
			if _, seen := bad[k]; !seen {
				bad[k] = e
				treeOnly[k] = true
			}
			if p.Path != tree && !strings.HasPrefix(p.Path, tree+string(filepath.Separator)) {
				treeOnly[k] = false
			}
		}
	}
	// Reconcile the disk with the index under gc.lock, so that no store is
	// between publishing its files and indexing them.
	var gcl *lockedfile.Lock
	if repair {
		gcl, err = c.lockGCAlone(ctx)
	} else {
		gcl, err = lockedfile.Acquire(ctx, filepath.Join(c.root, locksDir, gcLockName), false)
	}
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
		} else if cur, ok := current[k]; ok && cur.Hash == hashAt[k] {
			kept = append(kept, p)
		} else {
			delete(bad, k)
		}
	}
	problems = kept
	extra, temps, dirs := c.unreferenced(refs)
	for _, dir := range sortedKeys(dirs) {
		problems = append(problems, Problem{Kind: ProblemUnreadable, Path: dir, Detail: fmt.Sprintf("cannot be listed: %v", plainError(dirs[dir]))})
	}
	for _, p := range extra {
		problems = append(problems, Problem{Kind: ProblemExtra, Path: p, Detail: "referenced by no index record; 'gizmo cache gc' removes it"})
	}
	var partial []int // indexes in problems
	for _, p := range temps {
		if !c.tempLeftOver(p) {
			continue // a store of that key is writing it right now
		}
		partial = append(partial, len(problems))
		detail := "left by an interrupted download or extraction; the next store of it or 'gizmo cache gc' removes it"
		if c.keptForResume(p) {
			detail = "part of a download cut short, kept for a day so that the next download of it resumes from it"
		}
		problems = append(problems, Problem{Kind: ProblemPartial, Path: p, Detail: detail})
	}
	for _, p := range problems {
		if p.Kind == ProblemUnreadable {
			// An I/O or permission error is no proof of damage: repair
			// nothing until everything can be read.
			return problems, nil
		}
	}
	if !repair {
		return problems, nil
	}
	for _, i := range partial {
		problems[i].Repaired = c.removeStaleTemp(problems[i].Path)
	}
	if err := c.clearInterrupted(problems); err != nil {
		return problems, fmt.Errorf("repair: %w", err)
	}
	if len(unreadable) > 0 {
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
			if problems[i].Kind == ProblemIndex {
				problems[i].Repaired = true
			}
		}
	}
	// A damaged tree whose download is sound goes, and the entry stays:
	// Unpack makes the tree again from the download.
	for k, e := range bad {
		if !treeOnly[k] {
			continue
		}
		delete(bad, k)
		if err := removeTree(c.TreePath(e)); err != nil {
			continue // stays unrepaired
		}
		markRepaired(problems, k)
	}
	if len(bad) == 0 {
		return problems, nil
	}
	var hashes []string
	err = c.update(func(tx *bolt.Tx) error {
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
	for k := range bad {
		markRepaired(problems, k)
	}
	return problems, nil
}

// clearInterrupted drops the interrupted verdicts that problems report, and
// marks those problems repaired.
func (c *Cache) clearInterrupted(problems []Problem) error {
	var keys []string
	for _, p := range problems {
		if p.Kind == ProblemVerdict {
			keys = append(keys, string(entryKey(p.AssetID, p.Format)))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	cleared := map[string]bool{}
	err := c.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEntries)
		for _, k := range keys {
			v := b.Get([]byte(k))
			if v == nil {
				continue
			}
			e, err := decodeEntry(v)
			if err != nil || !e.Validation.Interrupted() {
				continue
			}
			e.Validation = nil
			nv, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(k), nv); err != nil {
				return err
			}
			cleared[k] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, p := range problems {
		if p.Kind == ProblemVerdict && cleared[string(entryKey(p.AssetID, p.Format))] {
			problems[i].Repaired = true
		}
	}
	return nil
}

func markRepaired(problems []Problem, k string) {
	for i := range problems {
		if problems[i].AssetID != "" && problems[i].Kind != ProblemVerdict && string(entryKey(problems[i].AssetID, problems[i].Format)) == k {
			problems[i].Repaired = true
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// unreadableError sums up the folders that could not be listed.
func unreadableError(dirs map[string]error) error {
	ks := sortedKeys(dirs)
	msg := fmt.Sprintf("cannot list %s: %v", ks[0], plainError(dirs[ks[0]]))
	if len(ks) > 1 {
		msg += fmt.Sprintf(" (and %d more folders)", len(ks)-1)
	}
	return errors.New(msg)
}

// plainError is err without the path a *fs.PathError repeats.
func plainError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// isIOError tells whether err is the operating system's answer (no
// permission, an I/O error, ...) rather than a finding about content.
func isIOError(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &errno)
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

// fileProblem classifies an error reading path: missing when it does not
// exist, unreadable for any other error of the system (never corrupt).
func fileProblem(path string, err error, missing string) Problem {
	if errors.Is(err, fs.ErrNotExist) {
		return Problem{Kind: ProblemMissing, Path: path, Detail: missing}
	}
	return Problem{Kind: ProblemUnreadable, Path: path, Detail: fmt.Sprintf("cannot be read: %v (check the permissions and the disk)", plainError(err))}
}

// errMismatch marks a tree file whose bytes differ from the download's.
type errMismatch string

func (e errMismatch) Error() string { return string(e) }

// checkEntry verifies one entry's blob and tree.
func (c *Cache) checkEntry(e Entry) []Problem {
	var ps []Problem
	if len(e.Hash) != 64 {
		return []Problem{{Kind: ProblemIndex, Detail: fmt.Sprintf("bad hash %q in the index", e.Hash)}}
	}
	blob := c.blobPath(e.Hash)
	sum, size, err := hashFile(blob)
	switch {
	case err != nil:
		ps = append(ps, fileProblem(blob, err, "the stored download is missing"))
	case size != e.Size:
		ps = append(ps, Problem{Kind: ProblemCorrupt, Path: blob, Detail: fmt.Sprintf("holds %d bytes, the index says %d", size, e.Size)})
	case sum != e.Hash:
		ps = append(ps, Problem{Kind: ProblemCorrupt, Path: blob, Detail: "its SHA-256 differs from the index's"})
	}
	tree := c.TreePath(e)
	_, err = os.Lstat(tree)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ps // not unpacked yet: made on first use (Unpack)
	case err != nil:
		return append(ps, fileProblem(tree, err, ""))
	}
	st, err := os.Stat(tree)
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return append(ps, fileProblem(tree, err, ""))
	case err != nil || !st.IsDir():
		return append(ps, Problem{Kind: ProblemCorrupt, Path: tree, Detail: "the unpacked tree is not a directory"})
	}
	if _, err := os.Stat(c.ModelPath(e)); err != nil {
		ps = append(ps, fileProblem(c.ModelPath(e), err, "the model file is missing"))
	}
	if len(ps) > 0 {
		return ps
	}
	// The blob is sound: check the tree against it.
	want := map[string]func(string) error{}
	if e.Kind == formats.KindZip {
		zr, err := zip.OpenReader(blob)
		if err != nil {
			if isIOError(err) {
				return []Problem{fileProblem(blob, err, "the stored download is missing")}
			}
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
					return errMismatch("differs from the archive's entry")
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
				return errMismatch("differs from the download")
			}
			return nil
		}
	}
	seen := map[string]bool{}
	filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			ps = append(ps, fileProblem(p, err, "gone while it was checked"))
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
			var mm errMismatch
			if errors.As(err, &mm) {
				ps = append(ps, Problem{Kind: ProblemCorrupt, Path: p, Detail: err.Error()})
			} else {
				ps = append(ps, fileProblem(p, err, "a file of the download is missing from the tree"))
			}
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
