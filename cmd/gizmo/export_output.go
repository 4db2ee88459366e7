package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// How export -o writes to what is at its path.
type outKind int

const (
	outReplace outKind = iota // a new path or a regular file: temp file, then rename
	outThrough                // a character device or a FIFO: written through, never replaced
)

// outputKind tells how to write to path, or why not to. A symlink is
// followed: its target decides, and is what gets replaced.
func outputKind(path string) (outKind, error) {
	li, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return outReplace, nil
	}
	if err != nil {
		return 0, err
	}
	fi := li
	if li.Mode()&fs.ModeSymlink != 0 {
		if fi, err = os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return 0, errors.New("is a symlink to a file that does not exist; remove the link or give its target")
			}
			return 0, err
		}
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		return outReplace, nil
	case m.IsDir():
		return 0, errors.New("is a directory")
	case m&fs.ModeCharDevice != 0, m&fs.ModeNamedPipe != 0:
		return outThrough, nil
	case m&fs.ModeDevice != 0:
		return 0, errors.New("is a block device; gizmo does not write a download over a disk")
	case m&fs.ModeSocket != 0:
		return 0, errors.New("is a socket")
	}
	return 0, fmt.Errorf("is a special file (%v)", fi.Mode().Type())
}

// copyOut copies src to dest. A new path or a regular file (through a
// symlink too, which is kept) is written to a temporary file beside it,
// synced and renamed over it: it appears complete or not at all. A
// character device or a FIFO is written through and stays what it is.
func copyOut(ctx context.Context, src, dest string) error {
	kind, err := outputKind(dest)
	if err != nil {
		return fmt.Errorf("%s %w", dest, err)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if kind == outThrough {
		return writeThrough(ctx, in, dest)
	}
	if target, err := filepath.EvalSymlinks(dest); err == nil {
		dest = target // replace the link's target, keep the link
	}
	return atomicfile.Write(dest, in, 0o644)
}

// writeThrough writes r into the character device or FIFO at dest. A FIFO
// is opened without waiting: with no program reading it, that is an error
// at once rather than a hang. A write that blocks ends when ctx does.
func writeThrough(ctx context.Context, r io.Reader, dest string) error {
	f, err := os.OpenFile(dest, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		return errors.New("is a FIFO that no program is reading; start the reader first")
	}
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Now()) })
	defer stop()
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
