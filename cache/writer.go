package cache

import (
	"context"
	"hash"
	"io"
)

// FetchFunc streams a download into w and returns its ETag (may be empty).
type FetchFunc func(ctx context.Context, w Writer) (etag string, err error)

// Writer is what a FetchFunc writes a download into: the temp file of the
// key being stored. Besides the bytes, it takes the fetcher's word on
// what it is writing (the server's filename hint, the validator that makes
// a cut-short download resumable) and tells what it holds (its SHA-256,
// and the part it adopted from an earlier download cut short), so that a
// fetcher neither hashes the body twice nor downloads bytes twice.
//
// The cache gives every FetchFunc a Writer; the sync engine's fetch is
// written against it.
type Writer interface {
	io.Writer
	// Rewind empties the download to start over from its first byte:
	// after a body cut short that cannot be resumed, or when a server
	// answers a range request with the whole body.
	Rewind() error
	// SHA256 is the hash of what the writer holds (since the start, or
	// the last Rewind), adopted part included.
	SHA256() []byte
	// SetFilename keeps the server's filename hint in Entry.Filename.
	// Untrusted: the cache never uses it as a path.
	SetFilename(name string)
	// Resume tells what a part adopted from an earlier download of the
	// key holds: its length, its validator (ETag), the object's whole
	// length when known, and the MD5 of its bytes (for ETags that are
	// MD5 sums). offset is 0 for a download that starts from nothing;
	// the fetcher then asks only for the bytes after offset.
	Resume() (offset int64, etag string, total int64, held hash.Hash)
	// SetValidator records the download's validator (its ETag) and the
	// object's length beside the temp file, so that a download cut short,
	// or a process killed meanwhile, can resume from what the part holds;
	// "" forgets it (the bytes are not to be resumed: they failed a
	// checksum). A failure only costs a later resume.
	SetValidator(etag string, total int64) error
}

// The store's writer is a Writer.
var _ Writer = (*storeWriter)(nil)

// headSize is how many leading bytes are kept to detect a download's kind.
const headSize = 8 << 10

// storeWriter is the Writer of a store: the temp file, the hash, the byte
// count and the head used to detect the kind. It remembers a failure of
// the cache's own writes to tell it apart from a failure of the download.
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
// the last Rewind), so that fetch need not hash the download again.
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
		// the error below fails the download (or a Rewind resets both).
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

// Rewind empties the download to start over from its first byte.
func (w *storeWriter) Rewind() error {
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return err
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
