// Package ratebudget shares the API's rate-limit budget between the
// processes that use one API key on one machine (several gizmo commands,
// the agent, whatever cache directory each uses): a small JSON file in one
// directory of the user's (the caller picks it: gizmo's is the api folder
// of the user's default cache directory) holds the pacing state
// (api.PaceState), read and written under an exclusive flock for every
// request, so that together they spend the window's requests evenly instead
// of racing each other into 429s. The budget belongs to the key and the
// server, not to a cache.
//
// The file is named by a hash of the API URL and the key; it never holds
// the key. A file that cannot be read as a state is taken as empty (it only
// paces; the server's 429s stay the authority).
package ratebudget

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/antimlabs/gizmo/internal/lockedfile"
	"github.com/antimlabs/gizmo/sync/api"
)

// File is a budget kept in a file. Its methods are safe for concurrent
// use, from any number of processes.
type File struct {
	dir, path, lock string
}

var _ api.Budget = (*File)(nil)

// New returns the budget of apiURL and key, kept in dir. The directory is
// made when there is something to keep (a window seen): a process that
// never sees the rate-limit headers (the alpha generation) leaves no trace.
func New(dir, apiURL, key string) *File {
	base := strings.TrimRight(apiURL, "/")
	if strings.HasSuffix(strings.ToLower(base), "/v1") {
		base = base[:len(base)-3] // one server, however its URL is written
	}
	sum := sha256.Sum256([]byte(base + "\x00" + key))
	name := "ratelimit-" + hex.EncodeToString(sum[:8]) + ".json"
	p := filepath.Join(dir, name)
	return &File{dir: dir, path: p, lock: p + ".lock"}
}

// Path is the file holding the state.
func (f *File) Path() string { return f.path }

// Update runs fn on the state under the file's lock and writes it back.
// With no directory yet, fn first runs on an empty state, and the directory
// is made only when fn leaves something in it; fn then runs again on the
// file's state (another process may have made it meanwhile): fn may run
// twice, and its last run is the one that counts.
func (f *File) Update(ctx context.Context, fn func(*api.PaceState)) error {
	l, err := lockedfile.Acquire(ctx, f.lock, true)
	if err != nil {
		if _, serr := os.Stat(f.dir); !errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("rate-limit budget: %w", err)
		}
		var s api.PaceState
		if fn(&s); s == (api.PaceState{}) {
			return nil // nothing to share: leave no trace
		}
		if err := os.MkdirAll(f.dir, 0o755); err != nil {
			return fmt.Errorf("rate-limit budget: %w", err)
		}
		if l, err = lockedfile.Acquire(ctx, f.lock, true); err != nil {
			return fmt.Errorf("rate-limit budget: %w", err)
		}
	}
	defer l.Unlock()
	var s api.PaceState
	b, err := os.ReadFile(f.path)
	existed := err == nil
	if existed && json.Unmarshal(b, &s) != nil {
		s = api.PaceState{}
	}
	fn(&s)
	if !existed && s == (api.PaceState{}) {
		return nil // nothing to share yet: no state file
	}
	if b, err = json.Marshal(s); err != nil {
		return err
	}
	// Written in place under the lock: a torn write (a crash) reads as an
	// empty state next time, which only costs pacing.
	if err := os.WriteFile(f.path, b, 0o644); err != nil {
		return fmt.Errorf("rate-limit budget: %w", err)
	}
	return nil
}
