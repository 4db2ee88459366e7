// Package ratebudget shares the API's rate-limit budget between the
// processes that use one API key on one machine (several gizmo commands,
// the agent): a small JSON file in the cache directory holds the pacing
// state (api.PaceState), read and written under an exclusive flock for
// every request, so that together they spend the window's requests evenly
// instead of racing each other into 429s.
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
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/antimlabs/gizmo/internal/lockedfile"
	"github.com/antimlabs/gizmo/sync/api"
)

// File is a budget kept in a file. Its methods are safe for concurrent
// use, from any number of processes.
type File struct {
	cacheDir, path, lock string
}

var _ api.Budget = (*File)(nil)

// Dir is where budgets live below a cache directory.
const Dir = "api"

// New returns the budget of apiURL and key, kept in cacheDir/api/. That
// directory is made on first use, but never the cache directory itself: a
// command that fails before it creates the cache leaves no trace (the
// budget is then this process's alone).
func New(cacheDir, apiURL, key string) *File {
	base := strings.TrimRight(apiURL, "/")
	if strings.HasSuffix(strings.ToLower(base), "/v1") {
		base = base[:len(base)-3] // one server, however its URL is written
	}
	sum := sha256.Sum256([]byte(base + "\x00" + key))
	name := "ratelimit-" + hex.EncodeToString(sum[:8]) + ".json"
	p := filepath.Join(cacheDir, Dir, name)
	return &File{cacheDir: cacheDir, path: p, lock: p + ".lock"}
}

// Path is the file holding the state.
func (f *File) Path() string { return f.path }

// Update runs fn on the state under the file's lock and writes it back.
func (f *File) Update(ctx context.Context, fn func(*api.PaceState)) error {
	l, err := lockedfile.Acquire(ctx, f.lock, true)
	if err != nil {
		if st, serr := os.Stat(f.cacheDir); serr != nil || !st.IsDir() {
			return fmt.Errorf("rate-limit budget: no cache directory yet: %w", err)
		}
		if mkErr := os.Mkdir(filepath.Dir(f.lock), 0o755); mkErr != nil && !os.IsExist(mkErr) {
			return fmt.Errorf("rate-limit budget: %w", err)
		}
		if l, err = lockedfile.Acquire(ctx, f.lock, true); err != nil {
			return fmt.Errorf("rate-limit budget: %w", err)
		}
	}
	defer l.Unlock()
	var s api.PaceState
	if b, err := os.ReadFile(f.path); err == nil {
		if json.Unmarshal(b, &s) != nil {
			s = api.PaceState{}
		}
	}
	fn(&s)
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	// Written in place under the lock: a torn write (a crash) reads as an
	// empty state next time, which only costs pacing.
	if err := os.WriteFile(f.path, b, 0o644); err != nil {
		return fmt.Errorf("rate-limit budget: %w", err)
	}
	return nil
}
