package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/internal/testhook"
)

// FetchFunc streams a download into w and returns its ETag (may be empty).
// w also implements Seek and Truncate, to start over from byte 0 after a
// body cut short (it satisfies api.Rewindable, for Client.DownloadFile),
// SetFilename(string), to keep the server's filename hint in
// Entry.Filename, and SHA256() []byte, the hash of what it holds.
type FetchFunc func(ctx context.Context, w io.Writer) (etag string, err error)

// headSize is how many leading bytes are kept to detect a download's kind.
const headSize = 8 << 10

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
// in place and before its index record is written, and keeps the verdict
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

// storeWriter is what fetch writes a download into: the temp file, the
// hash, the byte count and the head used to detect the kind. It can start
// over (Truncate(0) then Seek(0, io.SeekStart), as api.Client.DownloadFile
// does after a body cut short), and it remembers a failure of the cache's own
// writes to tell it apart from a failure of the download.
type storeWriter struct {
	f    tempFile
	h    hash.Hash
	head []byte
	// mem is a copy of the download while it is at most smallZip bytes
	// (nil past that): checking and validating read it instead of
	// reading the temp file back.
	mem    []byte
	memOff bool // the download outgrew mem
	n      int64
	err    error // first write error of the temp file
	name   string

	// Resuming (resume.go): the key, the sidecar that keeps the validator
	// of a part, the validator, and for an adopted part its length and the
	// MD5 of its bytes.
	id, format    string
	sidecar       string
	validator     string
	validatorSize int64
	resumeFrom    int64
	heldMD5       hash.Hash
}

// inMemory returns the whole download when mem holds it.
func (w *storeWriter) inMemory() ([]byte, bool) {
	if w.memOff || w.err != nil || int64(len(w.mem)) != w.n {
		return nil, false
	}
	return w.mem, true
}

// SHA256 returns the SHA-256 of what has been written since the start (or
// the last Truncate), so that fetch need not hash the download again.
func (w *storeWriter) SHA256() []byte { return w.h.Sum(nil) }

// SetFilename keeps the server's (untrusted) filename hint for the entry.
func (w *storeWriter) SetFilename(name string) { w.name = name }

// parallelHash is the write size from which hashing runs alongside the
// write system call instead of after it.
const parallelHash = 256 << 10

func (w *storeWriter) Write(p []byte) (int, error) {
	var n int
	var err error
	if len(p) >= parallelHash {
		// Hash while the kernel copies: p is read by both, written by none.
		done := make(chan struct{})
		go func() {
			n, err = w.f.Write(p)
			close(done)
		}()
		w.h.Write(p)
		<-done
		// After a short write the hash covers more than the file holds, but
		// the error below fails the download (or a Truncate resets both).
		if n < len(p) && err == nil {
			err = io.ErrShortWrite
		}
	} else {
		n, err = w.f.Write(p)
		w.h.Write(p[:n])
	}
	if err != nil && w.err == nil {
		w.err = err
	}
	if room := headSize - len(w.head); room > 0 {
		w.head = append(w.head, p[:min(room, n)]...)
	}
	if !w.memOff {
		if len(w.mem)+n <= smallZip {
			w.mem = append(w.mem, p[:n]...)
		} else {
			w.mem, w.memOff = nil, true
		}
	}
	w.n += int64(n)
	return n, err
}

// copyBufSize is the buffer ReadFrom reads a download with: large enough to
// keep system calls few, small enough to keep memory flat.
const copyBufSize = 1 << 20

// ReadFrom makes io.Copy(w, body) read in large chunks (io.Copy's default
// 32 KiB costs many more system calls on large downloads).
func (w *storeWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, copyBufSize)
	var total int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		switch rerr {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return total, nil
		default:
			return total, rerr
		}
	}
}

// Truncate empties the download to start over; only size 0 is supported.
func (w *storeWriter) Truncate(size int64) error {
	if size != 0 {
		return fmt.Errorf("cache: a download can only be truncated to 0 bytes, not %d", size)
	}
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	w.h.Reset()
	w.head, w.n, w.err = w.head[:0], 0, nil
	w.mem, w.memOff = w.mem[:0], false
	w.resumeFrom, w.heldMD5 = 0, nil
	return nil
}

// Seek rewinds to the start; only Seek(0, io.SeekStart) is supported, and
// it empties the download like Truncate(0).
func (w *storeWriter) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekStart {
		return 0, errors.New("cache: a download can only seek back to its start")
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return 0, w.Truncate(0)
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
		model := singleName[kind]
		e.Files, e.Model, e.ModelKind = []string{model}, model, kind
		shown = archive.NewFileOverlay(c.TreePath(e), model, c.blobPath(sum), n)
	default:
		return Entry{}, fmt.Errorf("%s is neither a zip archive nor a URDF, MJCF or USD file (it starts with %q): %w",
			name, preview(sw.head), ErrNoModel)
	}
	// The download reaches the disk before it gets its final name (a flush
	// shared with the other stores running now).
	if err := c.durable(partName); err != nil {
		return Entry{}, err
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
	if check != nil {
		e.Validation = check(ctx, e, shown)
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

// singleName is the file name a single-file download gets in its tree: the
// extension simulators and importers expect.
var singleName = map[formats.Kind]string{
	formats.KindURDF: "model.urdf",
	formats.KindMJCF: "model.xml",
	formats.KindUSDA: "model.usda",
	formats.KindUSDC: "model.usdc",
	formats.KindSDF:  "model.sdf",
}

func preview(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return string(b)
}

var modelExt = map[string]bool{".urdf": true, ".xml": true, ".mjcf": true, ".usd": true, ".usda": true, ".usdc": true, ".sdf": true}

var includeRE = regexp.MustCompile(`<include\s+file\s*=\s*["']([^"']+)["']`)

// findModel picks the model file of a zip, reading its entries with head: a .urdf/.xml with a
// <robot> or <mujoco> root, or a USD file, at the top level (or inside the
// single top-level folder). It prefers the kind that matches format, skips
// MJCF files that another one includes, prefers a file that includes others
// (a scene) and then one with a body (not a bare fragment), then takes the
// first by name.
func findModel(head func(name string) ([]byte, error), files []string, format string) (string, formats.Kind, error) {
	var cands []string
	for _, depth := range []int{0, 1} {
		for _, f := range files {
			if strings.Count(f, "/") == depth && modelExt[strings.ToLower(path.Ext(f))] {
				cands = append(cands, f)
			}
		}
		if len(cands) > 0 {
			break
		}
	}
	want := map[string][]formats.Kind{
		string(formats.IsaacURDF): {formats.KindURDF},
		string(formats.MuJoCo):    {formats.KindMJCF},
		string(formats.IsaacUSD):  {formats.KindUSDA, formats.KindUSDC},
		string(formats.GazeboSDF): {formats.KindSDF},
	}[format]
	kinds := map[string]formats.Kind{}
	included := map[string]bool{}
	score := map[string]int{} // 2: includes other files (a scene); 1: has a body
	for _, f := range cands {
		b, err := head(f)
		if err != nil {
			return "", "", err
		}
		k := formats.Detect(b)
		if k == formats.KindUnknown || k == formats.KindZip || (k == formats.KindSDF) != (format == string(formats.GazeboSDF)) {
			continue
		}
		kinds[f] = k
		incs := includeRE.FindAllSubmatch(b, -1)
		for _, m := range incs {
			included[path.Join(path.Dir(f), string(m[1]))] = true
		}
		if len(incs) > 0 {
			score[f] += 2
		}
		if bytes.Contains(b, []byte("<worldbody")) || bytes.Contains(b, []byte("<link")) || k == formats.KindUSDA || k == formats.KindUSDC {
			score[f]++
		}
	}
	var best []string
	for _, pass := range []func(string) bool{
		func(f string) bool { return containsKind(want, kinds[f]) && !included[f] },
		func(f string) bool { return containsKind(want, kinds[f]) },
		func(f string) bool { return !included[f] },
		func(string) bool { return true },
	} {
		for f := range kinds {
			if pass(f) {
				best = append(best, f)
			}
		}
		if len(best) > 0 {
			break
		}
	}
	if len(best) == 0 {
		return "", "", fmt.Errorf("%w: the zip holds no .urdf/.xml with a <robot> or <mujoco> root, nor a USD file, at its top level (entries: %s)",
			ErrNoModel, abbreviate(files, 8))
	}
	sort.Slice(best, func(i, j int) bool {
		if score[best[i]] != score[best[j]] {
			return score[best[i]] > score[best[j]]
		}
		return best[i] < best[j]
	})
	return best[0], kinds[best[0]], nil
}

func containsKind(ks []formats.Kind, k formats.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func abbreviate(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(", … (%d more)", len(s)-n)
}

// modelHead is how much of a candidate model file findModel reads.
const modelHead = 1 << 20

// overlayHead reads the start of the files of a zip shown by o, for
// findModel.
func overlayHead(o *archive.Overlay) func(name string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		p := filepath.Join(o.Root(), filepath.FromSlash(name))
		if st, err := o.Stat(p); err == nil && st.Size() <= modelHead {
			return o.ReadFile(p)
		}
		f, err := o.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, modelHead))
	}
}

// linkOrCopy hard-links src to dst, or copies it when linking fails (the
// caller makes it durable).
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// freeze makes a finished tree read-only: its files (unless sealed:
// ExtractSealed created them read-only), then its directories, deepest
// first. Nothing is synced: it returns the tree's paths, contents before
// directories, for the flush that follows (see durable).
func freeze(root string, sealed bool) ([]string, error) {
	var files, dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		files = append(files, p)
		if sealed {
			return nil
		}
		return os.Chmod(p, 0o444)
	})
	if err != nil {
		return nil, err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			return nil, err
		}
		files = append(files, dirs[i])
	}
	return files, nil
}

// blobDir makes sure the blob directory dir exists, and says whether it
// created it. A directory this Cache has made or seen is taken to exist
// without a system call, unless again is set (a rename into it failed).
func (c *Cache) blobDir(dir string, again bool) (bool, error) {
	if _, ok := c.blobDirs.Load(dir); ok && !again {
		return false, nil
	}
	created, err := mkdirOnce(dir)
	if err != nil {
		return false, err
	}
	c.blobDirs.Store(dir, true)
	return created, nil
}

// mkdirOnce creates dir (in an existing parent) unless it exists, and says
// whether it did.
func mkdirOnce(dir string) (bool, error) {
	err := os.Mkdir(dir, 0o755)
	switch {
	case errors.Is(err, fs.ErrExist):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// removeTree removes a file or a (possibly read-only) tree. Missing is fine.
func removeTree(p string) error {
	if err := os.RemoveAll(p); err == nil {
		return nil
	}
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(q, 0o755)
		}
		return nil
	})
	err := os.RemoveAll(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// keepContents is the decompressed size up to which a zip's files are
// kept in memory while a store checks it, for finding the model and
// validating without decompressing them again.
const keepContents = 512 << 10

// smallZip is the size up to which a zip is read into memory to be
// checked or read: reading it through the file costs a pread per small
// read (tens per entry).
const smallZip = 256 << 10

// readerAtCloser is a zip's bytes, in memory or in its file.
type readerAtCloser interface {
	io.ReaderAt
	io.Closer
}

type memZip struct{ *bytes.Reader }

func (memZip) Close() error { return nil }

// openAt opens the file name of size bytes for random reads: in memory
// when it is small, else the file itself.
func openAt(name string, size int64) (readerAtCloser, error) {
	if size > smallZip {
		return os.Open(name)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != size {
		return nil, fmt.Errorf("%s holds %d bytes, %d expected: the disk may be failing, or the cache was changed by hand", name, len(b), size)
	}
	return memZip{bytes.NewReader(b)}, nil
}
