package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrIndexDamaged: index.db cannot be read as a bbolt database (cut short,
// overwritten, garbled). Errors that wrap it are *IndexDamagedError, naming
// the file and what is wrong; 'gizmo cache verify --repair' (RepairIndex)
// rebuilds the index from what can be read of it and from the stored files.
var ErrIndexDamaged = errors.New("cache index is damaged")

// IndexDamagedError says which index is damaged and how.
type IndexDamagedError struct {
	Path   string // the index file
	Reason string // what is wrong with it, for people
}

func (e *IndexDamagedError) Error() string {
	return fmt.Sprintf("cache index %s is damaged (%s): run 'gizmo cache verify --repair' to rebuild it from the stored files (the downloads themselves are kept)", e.Path, e.Reason)
}

func (e *IndexDamagedError) Is(target error) bool { return target == ErrIndexDamaged }

func damaged(path, format string, args ...any) error {
	return &IndexDamagedError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// bbolt's file format, as far as checking and salvaging an index needs it
// (go.etcd.io/bbolt/internal/common: page.go, meta.go). Integers are in the
// machine's byte order.
const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	boltPageHeader     = 16 // id u64, flags u16, count u16, overflow u32
	boltLeafElement    = 16 // flags u32, pos u32, ksize u32, vsize u32
	boltBranchPage     = 0x01
	boltLeafPage       = 0x02
	boltBucketLeaf     = 0x01
	boltMetaSize       = 64 // magic, version, page size, flags, root (2×u64), freelist, pgid, txid, checksum
	boltMetaChecksumAt = 56 // the checksum covers the meta's bytes before it
	boltInBucketSize   = 16 // an inline bucket's header: root u64 (0), sequence u64
)

// boltMeta is the part of a bbolt meta page that checking uses.
type boltMeta struct {
	pageSize uint32
	pgid     uint64 // pages in use: the file holds at least pgid × pageSize bytes
	txid     uint64
}

// parseBoltMeta reads the meta at the start of page b (its header
// included), or says why it is not a valid one.
func parseBoltMeta(b []byte) (boltMeta, error) {
	if len(b) < boltPageHeader+boltMetaSize {
		return boltMeta{}, errors.New("too short for a meta page")
	}
	m := b[boltPageHeader : boltPageHeader+boltMetaSize]
	ne := binary.NativeEndian
	if ne.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("not a bbolt meta page")
	}
	if v := ne.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt format version %d", v)
	}
	h := fnv.New64a()
	h.Write(m[:boltMetaChecksumAt])
	if h.Sum64() != ne.Uint64(m[boltMetaChecksumAt:]) {
		return boltMeta{}, errors.New("meta page checksum mismatch")
	}
	meta := boltMeta{pageSize: ne.Uint32(m[8:]), pgid: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:])}
	if meta.pageSize < 512 || meta.pageSize > 1<<20 || meta.pageSize&(meta.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("page size %d", meta.pageSize)
	}
	return meta, nil
}

// readBoltMeta reads both meta pages of the index at path and returns the
// one bbolt would use (the valid one of the later transaction), checking
// that the file holds every page it counts. A file of zero bytes is a
// creation cut short, not damage (Open initialises it): ok is false.
func readBoltMeta(path string) (meta boltMeta, size int64, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return meta, 0, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return meta, 0, false, err
	}
	size = st.Size()
	if size == 0 {
		return meta, 0, false, nil
	}
	buf := make([]byte, 4096)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return meta, size, false, err // an I/O error, not damage
	}
	m0, err0 := parseBoltMeta(buf[:n])
	// The second meta page is one page on: try m0's page size, else the
	// usual ones.
	sizes := []uint32{4096, 8192, 16384, 65536, 1024, 2048, 32768}
	if err0 == nil {
		sizes = []uint32{m0.pageSize}
	}
	var m1 boltMeta
	err1 := errors.New("no second meta page")
	for _, ps := range sizes {
		page := make([]byte, boltPageHeader+boltMetaSize)
		n, err := f.ReadAt(page, int64(ps))
		if err != nil && err != io.EOF {
			return meta, size, false, err
		}
		if m1, err1 = parseBoltMeta(page[:n]); err1 == nil && m1.pageSize == ps {
			break
		} else if err1 == nil {
			err1 = fmt.Errorf("page size %d at offset %d", m1.pageSize, ps)
		}
	}
	switch {
	case err0 != nil && err1 != nil:
		return meta, size, false, damaged(path, "neither meta page is valid: %v; %v", err0, err1)
	case err0 != nil:
		meta = m1
	case err1 != nil:
		meta = m0
	case m1.txid > m0.txid:
		meta = m1
	default:
		meta = m0
	}
	if need := int64(meta.pgid) * int64(meta.pageSize); size < need {
		return meta, size, false, damaged(path, "cut short: %d bytes where its pages take %d", size, need)
	}
	return meta, size, true, nil
}

// openError explains an error of bolt.Open on the index.
func openError(path, root string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("open cache index %s: %w (another program holds it open: a process that is not gizmo, or one that is stuck)", path, err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("open cache index %s: %w (check the permissions of %s)", path, err, root)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
		return damaged(path, "%v", err)
	}
	if strings.HasPrefix(err.Error(), "file size too small") {
		return damaged(path, "%v", err)
	}
	// Anything else (an I/O error, no memory to map it) is not damage.
	return fmt.Errorf("open cache index %s: %w", path, err)
}

// guardIndex runs fn, which reads or writes the index at path through
// bbolt, and turns what bbolt does on a damaged file (it panics on a page
// that is not what its parent says, and faults on one past the end of the
// mapping) into an IndexDamagedError. A panic that does not come from
// bbolt is not damage: it goes on.
func guardIndex(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if !panickedInBolt() {
				panic(r)
			}
			msg := fmt.Sprint(r)
			msg = strings.TrimPrefix(msg, "assertion failed: ")
			err = damaged(path, "%s", msg)
		}
	}()
	return fn()
}

// panickedInBolt tells, from a deferred function that recovers, whether the
// panic started in bbolt's code: the first frame after the runtime's panic
// machinery is bbolt's.
func panickedInBolt() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(1, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	inPanic := false
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, "runtime.gopanic"), strings.HasPrefix(f.Function, "runtime.sigpanic"),
			strings.HasPrefix(f.Function, "runtime.panic"):
			inPanic = true
		case inPanic && !strings.HasPrefix(f.Function, "runtime."):
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}

// readAll reads every key of every bucket of the index (every page bbolt
// can reach), for Verify: damage in a page no lookup happens to visit is
// found too.
func readAll(tx *bolt.Tx) error {
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				if sub := b.Bucket(k); sub != nil {
					return walk(sub)
				}
			}
			return nil
		})
	}
	return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walk(b) })
}
