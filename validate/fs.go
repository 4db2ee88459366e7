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

// ErrNotRegular is returned (wrapped) by Options.Open for a special file
// (a named pipe, a device, a socket): reading one could block forever
// (a FIFO with no writer) or never end (/dev/zero), so it is never read.
var ErrNotRegular = errors.New("not a regular file")

// Open opens name through o.FS, or the operating system when o.FS is nil.
// On the operating system a special file is refused with an error wrapping
// ErrNotRegular, without blocking (a FIFO is opened non-blocking and
// closed); a folder opens as before.
func (o Options) Open(name string) (io.ReadCloser, error) {
	if o.FS == nil {
		f, err := openFile(name)
		if err != nil {
			return nil, err // not a nil *os.File in a non-nil interface
		}
		return f, nil
	}
	return o.FS.Open(name)
}

// checkOpened refuses f when it is a special file, closing it.
func checkOpened(f *os.File, name string) (*os.File, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if t := fi.Mode().Type(); t != 0 && !fi.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: it is %s", ErrNotRegular, DescribeMode(fi.Mode()))}
	}
	return f, nil
}

// DescribeMode names the type of a file for a message: "a named pipe
// (FIFO)", "a character device", "a folder", "a regular file".
func DescribeMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file"
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
// once when r says how much it holds (a file served from memory, or an
// operating-system file and its size), so that a big model is not copied
// through a doubling buffer.
func readAll(r io.Reader, n int64) ([]byte, error) {
	lr := io.LimitReader(r, n)
	var size int64
	switch f := r.(type) {
	case interface{ Len() int }:
		size = int64(f.Len())
	case *os.File:
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return io.ReadAll(lr)
		}
		size = fi.Size()
	default:
		return io.ReadAll(lr)
	}
	// One byte over, so that the end is seen without growing the buffer.
	b := make([]byte, 0, min(size, n)+1)
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
