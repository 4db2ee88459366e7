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
	"path/filepath"
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
// for a file lock held by another process, for the load test of `make
// stress` and the agent's lock test (package locklog reads it):
//
//	LOCK:MODE MILLISECONDS COMMAND PID START_UNIX_NANO KEY PATH
//
// LOCK is the lock file's base name, MODE shared or exclusive, COMMAND
// the process's first argument, KEY what the lock was wanted for when one
// lock file serves many (a cache key: WithLockKey), else "-".
const LockLogEnv = "GIZMO_TEST_LOCK_LOG"

// HoldLogEnv names a file to which a process appends one line, in the
// same shape, per hold of a file lock (from taking it to letting it go),
// and one per hold of a key under a lock file that many keys share, so
// that a test can tell which process the waits logged through LockLogEnv
// waited for, for how long, and whether for the same key.
const HoldLogEnv = "GIZMO_TEST_HOLD_LOG"

var (
	lockLogOnce sync.Once
	lockLog     string
	holdLog     string
)

func loadLockLogs() {
	lockLog, holdLog = os.Getenv(LockLogEnv), os.Getenv(HoldLogEnv)
}

// LoggingLocks tells whether the process logs its lock waits or holds.
func LoggingLocks() bool {
	lockLogOnce.Do(loadLockLogs)
	return lockLog != "" || holdLog != ""
}

// LoggingHolds tells whether the process logs its lock holds (HoldLogEnv):
// lock files note when they were taken only then.
func LoggingHolds() bool {
	lockLogOnce.Do(loadLockLogs)
	return holdLog != ""
}

type lockKeyKey struct{}

// WithLockKey returns a context whose lock waits are logged as being for
// key (callers check LoggingLocks first).
func WithLockKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, lockKeyKey{}, key)
}

// LockKey is the key of WithLockKey, or "".
func LockKey(ctx context.Context) string {
	k, _ := ctx.Value(lockKeyKey{}).(string)
	return k
}

// Waited records that the process waited d, from start, for the lock file
// at path in mode ("shared" or "exclusive"), for key ("" when none).
func Waited(path, mode, key string, start time.Time, d time.Duration) {
	lockLogOnce.Do(loadLockLogs)
	if lockLog != "" {
		appendLockLine(lockLog, path, mode, key, start, d)
	}
}

// Held records that the process held the lock file at path in mode from
// start for d; with a key, that it held that key under the lock file.
func Held(path, mode, key string, start time.Time, d time.Duration) {
	lockLogOnce.Do(loadLockLogs)
	if holdLog != "" {
		appendLockLine(holdLog, path, mode, key, start, d)
	}
}

func appendLockLine(log, path, mode, key string, start time.Time, d time.Duration) {
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	cmd := "-"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	if key == "" {
		key = "-"
	}
	// One write, so that lines of processes appending at once stay whole.
	line := fmt.Sprintf("%s:%s %.3f %s %d %d %s %s\n", filepath.Base(path), mode, float64(d.Microseconds())/1000, cmd, os.Getpid(), start.UnixNano(), key, path)
	f.Write([]byte(line))
}
