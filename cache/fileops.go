package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

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
