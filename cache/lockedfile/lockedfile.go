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
)

// ErrLocked is returned by TryLock when another holder has the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is a held lock. Unlock releases it.
type Lock struct {
	f *os.File
}

// Unlock releases the lock. It is safe to call on a nil *Lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Closing the descriptor drops the flock.
	return f.Close()
}

// Acquire takes an exclusive (or, with exclusive false, a shared) lock on
// path, creating the file if needed. While another process holds a
// conflicting lock it polls with a short, growing delay (1ms up to 20ms) until
// ctx is done.
func Acquire(ctx context.Context, path string, exclusive bool) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	delay := time.Millisecond
	var timer *time.Timer
	for {
		err := flock(f, how|unix.LOCK_NB)
		if err == nil {
			if timer != nil {
				timer.Stop()
			}
			return &Lock{f: f}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-timer.C:
		}
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

// TryAcquire takes the lock only if nobody holds a conflicting one; otherwise
// it returns ErrLocked at once.
func TryAcquire(path string, exclusive bool) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if err := flock(f, how|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}
