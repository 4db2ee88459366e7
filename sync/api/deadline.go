package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Deadline defaults; Options overrides them.
const (
	// DefaultRequestTimeout bounds one API request, from sending it to the
	// last byte of its answer.
	DefaultRequestTimeout = 20 * time.Second
	// DefaultIdleTimeout is how long a download may go without receiving a
	// byte (its headers included) before it is abandoned. A download that
	// keeps receiving has no total deadline.
	DefaultIdleTimeout = 30 * time.Second
	// maxTimeouts is how many attempts of one call may time out before the
	// call gives up: a server that does not answer in time twice is not
	// asked a third time.
	maxTimeouts = 2
)

// ErrTimeout matches a request that got no answer, or a download that
// received nothing, within the client's deadline (Options.RequestTimeout,
// Options.IdleTimeout). It is not context.DeadlineExceeded: the caller's
// own deadline, when it passes, is reported as that.
var ErrTimeout = errors.New("timed out")

// timeoutError is the error of an attempt that timed out.
func timeoutError(op, host string, d time.Duration) error {
	return fmt.Errorf("%s: %w: %s sent no answer within %v; it accepts connections but does not answer (raise --request-timeout if it is only slow)", op, ErrTimeout, host, d)
}

// idleWatch cancels a download whose body stops arriving: every read that
// brings bytes pushes the deadline back by idle. The deadline runs from the
// moment the request is sent, so headers that never come end it too.
type idleWatch struct {
	idle   time.Duration
	timer  *time.Timer
	fired  atomic.Bool
	cancel context.CancelFunc
}

// watchIdle returns a context that idleWatch cancels after idle without
// progress, and the watch. Call stop when the download is over.
func watchIdle(ctx context.Context, idle time.Duration) (context.Context, *idleWatch) {
	ctx, cancel := context.WithCancel(ctx)
	w := &idleWatch{idle: idle, cancel: cancel}
	w.timer = time.AfterFunc(idle, func() {
		w.fired.Store(true)
		cancel()
	})
	return ctx, w
}

// progress pushes the deadline back.
func (w *idleWatch) progress() { w.timer.Reset(w.idle) }

// stop ends the watch and releases its context.
func (w *idleWatch) stop() {
	w.timer.Stop()
	w.cancel()
}

// timedOut reports whether the watch ended the download.
func (w *idleWatch) timedOut() bool { return w.fired.Load() }

// reader wraps a body so that every read with bytes counts as progress.
func (w *idleWatch) reader(r io.Reader) io.Reader { return &idleReader{r: r, w: w} }

type idleReader struct {
	r io.Reader
	w *idleWatch
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.w.progress()
	}
	return n, err
}

// DefaultMaxDownload bounds one download's size unless Options.MaxDownload
// says otherwise: more than any model gizmo handles, less than a disk.
const DefaultMaxDownload = 4 << 30

// ErrTooLarge matches a download refused for its size (Options.MaxDownload).
var ErrTooLarge = errors.New("download too large")

// idleError is the error of a download that received nothing for d, after
// got bytes.
func idleError(d time.Duration, got int64) error {
	if got == 0 {
		return fmt.Errorf("%w: the server sent nothing for %v (raise --request-timeout if it is only slow)", ErrTimeout, d)
	}
	return fmt.Errorf("%w: the server sent nothing more for %v after %d bytes (raise --request-timeout if it is only slow)", ErrTimeout, d, got)
}

// byteSize prints n bytes for a message: 4 GiB, 10.0 GB, 512 bytes.
func byteSize(n int64) string {
	const gib, mib = 1 << 30, 1 << 20
	switch {
	case n >= gib && n%gib == 0:
		return fmt.Sprintf("%d GiB", n/gib)
	case n >= gib:
		return fmt.Sprintf("%.1f GiB", float64(n)/gib)
	case n >= mib:
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	}
	return fmt.Sprintf("%d bytes", n)
}
