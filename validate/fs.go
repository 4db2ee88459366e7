package validate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// FS is where validators read files. Names are operating-system paths, as
// the validators build them (a model's folder joined with a mesh name); an
// FS serves the names it owns and, usually, the operating system's for the
// rest. internal/archive.Overlay is one: it shows a zip as the folder it
// would be extracted to.
//
// An FS must report a missing file as the operating system does (an
// *fs.PathError wrapping syscall.ENOENT or ENOTDIR) so that reports read
// the same whichever FS served them.
type FS interface {
	Open(name string) (io.ReadCloser, error)
	Stat(name string) (fs.FileInfo, error)
}

// ErrTooLarge is returned (wrapped) by Options.ReadFile for a file over its
// limit.
var ErrTooLarge = errors.New("file too large")

// Open opens name through o.FS, or the operating system when o.FS is nil.
func (o Options) Open(name string) (io.ReadCloser, error) {
	if o.FS == nil {
		return os.Open(name)
	}
	return o.FS.Open(name)
}

// Stat describes name through o.FS, or the operating system when o.FS is
// nil.
func (o Options) Stat(name string) (fs.FileInfo, error) {
	if o.FS == nil {
		return os.Stat(name)
	}
	return o.FS.Stat(name)
}

// ReadFile reads name through o.FS (or the operating system), at most limit
// bytes: a longer file gives an error wrapping ErrTooLarge. Errors opening
// or reading are returned as they come.
func (o Options) ReadFile(name string, limit int64) ([]byte, error) {
	f, err := o.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readAll(f, limit+1)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", name, ErrTooLarge, limit)
	}
	return data, nil
}

// IsFile reports whether name is a regular file (through o.FS or the
// operating system).
func (o Options) IsFile(name string) bool {
	fi, err := o.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// readAll is io.ReadAll(io.LimitReader(r, n)) that sizes its buffer at
// once when r says how much it holds (a file served from memory).
func readAll(r io.Reader, n int64) ([]byte, error) {
	lr := io.LimitReader(r, n)
	l, ok := r.(interface{ Len() int })
	if !ok {
		return io.ReadAll(lr)
	}
	// One byte over, so that the end is seen without growing the buffer.
	b := make([]byte, 0, min(int64(l.Len()), n)+1)
	for {
		k, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+k]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // more than Len said: grow
		}
	}
}
