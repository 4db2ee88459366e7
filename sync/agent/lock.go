package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/antimlabs/gizmo/internal/atomicfile"
	"github.com/antimlabs/gizmo/internal/lockedfile"
)

// Files the agent keeps in the cache directory.
const (
	lockName   = "agent.lock"
	pidName    = "agent.pid"
	SocketName = "agent.sock"
)

// BusyError is returned by Lock when another agent holds the cache.
type BusyError struct {
	CacheDir string
	PID      int // 0 when unknown
}

func (e *BusyError) Error() string {
	who := "another gizmo agent"
	if e.PID > 0 {
		who = fmt.Sprintf("another gizmo agent (PID %d)", e.PID)
	}
	return fmt.Sprintf("%s is running on the cache %s: one agent per cache (stop it first, or pass another --cache-dir)", who, e.CacheDir)
}

// InstanceLock is the agent's hold on a cache directory.
type InstanceLock struct {
	l   *lockedfile.Lock
	pid string
}

// Lock takes the cache's agent lock without waiting, and records this
// process's PID beside it. Another agent holding it gives a *BusyError.
func Lock(cacheDir string) (*InstanceLock, error) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("create the cache directory %s: %w", cacheDir, err)
	}
	l, err := lockedfile.TryAcquire(filepath.Join(cacheDir, lockName), true)
	if errors.Is(err, lockedfile.ErrLocked) {
		return nil, &BusyError{CacheDir: cacheDir, PID: readPID(cacheDir)}
	}
	if err != nil {
		return nil, err
	}
	pid := filepath.Join(cacheDir, pidName)
	if err := atomicfile.WriteFile(pid, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		l.Unlock()
		return nil, fmt.Errorf("record the agent's PID in %s: %w", pid, err)
	}
	return &InstanceLock{l: l, pid: pid}, nil
}

// Unlock removes the PID file and releases the lock.
func (i *InstanceLock) Unlock() {
	os.Remove(i.pid)
	i.l.Unlock()
}

// readPID is the PID recorded by the agent holding cacheDir, or 0.
func readPID(cacheDir string) int {
	b, err := os.ReadFile(filepath.Join(cacheDir, pidName))
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return n
}
