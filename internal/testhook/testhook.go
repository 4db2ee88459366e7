// Package testhook stops a gizmo process at a named point of its work, so
// that crash and interruption tests (and `make stress`) can kill or
// interrupt it exactly there instead of by chance. With
// GIZMO_TEST_HOOK=POINT, or POINT@N for the N-th time the point is reached
// (counting from 1), the process prints "gizmo-test-hook: POINT" on stderr
// when it gets there, then waits until its context ends (Ctrl-C), or for
// ever when the context never ends (the test sends SIGKILL). Without the
// variable, Reached costs one atomic load.
package testhook

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Env is the variable that names the point.
const Env = "GIZMO_TEST_HOOK"

// Marker starts the line printed on stderr when the point is reached.
const Marker = "gizmo-test-hook: "

// The points.
const (
	// Published: the cache has renamed a new download into place, and its
	// index record is not committed yet.
	Published = "published"
	// Validating: sync is about to validate a stored model.
	Validating = "validating"
)

var (
	once  sync.Once
	armed atomic.Bool
	point string
	nth   int64 = 1
	seen  atomic.Int64
)

func load() {
	v := os.Getenv(Env)
	if v == "" {
		return
	}
	p, n, ok := strings.Cut(v, "@")
	if ok {
		k, err := strconv.ParseInt(n, 10, 64)
		if err != nil || k < 1 {
			fmt.Fprintf(os.Stderr, "gizmo: %s=%q: want POINT or POINT@N (N ≥ 1)\n", Env, v)
			return
		}
		nth = k
	}
	point = p
	armed.Store(true)
}

// Reached marks that the process is at point p, and waits there (until ctx
// ends) when GIZMO_TEST_HOOK names it and this is the time it names.
func Reached(ctx context.Context, p string) {
	once.Do(load)
	if !armed.Load() || p != point || seen.Add(1) != nth {
		return
	}
	fmt.Fprintf(os.Stderr, "%s%s\n", Marker, p)
	<-ctx.Done()
}

// LockLogEnv names a file to which a process appends one line per wait
// for a file lock held by another process ("LOCKFILE MILLISECONDS"), for
// the load test of `make stress`.
const LockLogEnv = "GIZMO_TEST_LOCK_LOG"

var (
	lockLogOnce sync.Once
	lockLog     string
)

// Waited records that the process waited d for the lock file named lock.
func Waited(lock string, d time.Duration) {
	lockLogOnce.Do(func() { lockLog = os.Getenv(LockLogEnv) })
	if lockLog == "" {
		return
	}
	f, err := os.OpenFile(lockLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	cmd := "-"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	fmt.Fprintf(f, "%s %.3f %s\n", lock, float64(d.Microseconds())/1000, cmd)
}
