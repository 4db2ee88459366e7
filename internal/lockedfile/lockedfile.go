// Package lockedfile provides advisory, cross-process file locks (flock(2))
// that honour a context while waiting.
//
// A lock is held on an open file description, so two goroutines of one
// process that each call Lock on the same path exclude each other just as two
// processes do. The lock file itself is never removed: removing it while
// another process waits on it would let two holders in at once.
package lockedfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/antimlabs/gizmo/internal/testhook"
)

// ErrLocked is returned by TryLock when another holder has the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is a held lock. Unlock releases it.
//
// It holds a bare descriptor, not an *os.File: os.OpenFile tries to add a
// regular file to the network poller and toggles its blocking mode (five
// system calls that fail or undo each other), and a cache store takes
// several locks.
type Lock struct {
	fd   int
	held bool
	// When the process logs its lock holds (a test hook): the lock file,
	// its mode and when it was taken.
	path, mode string
	since      time.Time
}

// Unlock releases the lock. It is safe to call on a nil *Lock.
func (l *Lock) Unlock() error {
	if l == nil || !l.held {
		return nil
	}
	l.held = false
	if !l.since.IsZero() {
		testhook.Held(l.path, l.mode, "", l.since, time.Since(l.since))
	}
	// Closing the descriptor drops the flock.
	if err := unix.Close(l.fd); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}

// open opens (creating) the lock file path.
func open(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o666)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("lock %s: %w", path, &os.PathError{Op: "open", Path: path, Err: err})
		}
		return fd, nil
	}
}

// Acquire takes an exclusive (or, with exclusive false, a shared) lock on
// path, creating the file if needed. While another process holds a
// conflicting lock it polls with a short, growing delay (1ms up to 5ms) until
// ctx is done. flock does not queue waiters: a slower poller loses the
// lock to faster ones again and again, so the delay stays short (a
// thousand gizmo processes polling would cost 200,000 system calls a
// second; twenty cost 4,000).
func Acquire(ctx context.Context, path string, exclusive bool) (*Lock, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	delay := time.Millisecond
	var timer *time.Timer
	var start time.Time // of the wait, if any
	for {
		err := flock(f, how|unix.LOCK_NB)
		if err == nil {
			if timer != nil {
				timer.Stop()
				testhook.Waited(path, modeName(exclusive), testhook.LockKey(ctx), start, time.Since(start))
			}
			return newLock(f, path, exclusive), nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			unix.Close(f)
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if timer == nil {
			start = time.Now()
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			unix.Close(f)
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-timer.C:
		}
		if delay < 5*time.Millisecond {
			delay *= 2
		}
	}
}

// TryAcquire takes the lock only if nobody holds a conflicting one; otherwise
// it returns ErrLocked at once.
func TryAcquire(path string, exclusive bool) (*Lock, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if err := flock(f, how|unix.LOCK_NB); err != nil {
		unix.Close(f)
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return newLock(f, path, exclusive), nil
}

func newLock(fd int, path string, exclusive bool) *Lock {
	l := &Lock{fd: fd, held: true}
	if testhook.LoggingHolds() {
		l.path, l.mode, l.since = path, modeName(exclusive), time.Now()
	}
	return l
}

func modeName(exclusive bool) string {
	if exclusive {
		return "exclusive"
	}
	return "shared"
}

func flock(fd int, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}
