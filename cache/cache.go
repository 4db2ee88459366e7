package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// Errors callers branch on with errors.Is.
var (
	// ErrNotFound: no asset with that id or name is known to the cache.
	ErrNotFound = errors.New("not found in the cache")
	// ErrNotCached: the asset is known but this format has not been downloaded.
	ErrNotCached = errors.New("not cached")
	// ErrSchemaTooNew: the index was written by a newer gizmo.
	ErrSchemaTooNew = errors.New("cache index schema is newer than this gizmo understands")
	// ErrHostileArchive: a download is a zip that could escape its directory
	// or exhaust the disk. The error names the archive and the entry.
	ErrHostileArchive = archive.ErrHostile
	// ErrNoModel: a download holds no URDF, MJCF or USD model file.
	ErrNoModel = errors.New("no model file found")
)

const (
	dbName       = "index.db"
	dbLockName   = "index.lock"
	dbWantName   = "index.want"
	dbWriterName = "index.writer"
	tagName      = "CACHEDIR.TAG"
	blobsDir     = "blobs"
	treesDir     = "trees"
	tmpDir       = "tmp"
	locksDir     = "locks"
	gcLockName   = "gc.lock"
	lockTimeout  = 10 * time.Second
)

const cachedirTag = "Signature: 8a477f597d28d172789f06886806bc55\n" +
	"# This file is a cache directory tag created by gizmo.\n" +
	"# For information about cache directory tags, see https://bford.info/cachedir/\n"

// AssetMeta is an asset's metadata as last seen in the account's listing.
type AssetMeta struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Prompt    string    `json:"prompt"`
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Formats   []string  `json:"formats,omitempty"`
	// Vanished is set when a complete listing no longer holds the asset.
	Vanished bool `json:"vanished,omitempty"`
	// Scene marks a scene of the API's current generation, kept as an
	// asset is.
	Scene bool `json:"scene,omitempty"`
	// Revision is what the server tells of the state of a scene
	// (api.Scene.Revision), opaque. When it changes, RecordAssets drops
	// the scene's entries: they are exports of another state of it.
	Revision string `json:"revision,omitempty"`
}

// Entry is one downloaded (asset, format).
type Entry struct {
	AssetID string       `json:"asset_id"`
	Format  string       `json:"format"`
	Hash    string       `json:"sha256"` // SHA-256 of the download, hex
	Size    int64        `json:"size"`   // bytes of the download
	Kind    formats.Kind `json:"kind"`   // what the download is: zip, urdf, mjcf, usda, usdc
	// Files lists a zip's regular files, or the single stored file's name.
	Files []string `json:"files"`
	// Model is the model file's path relative to the tree, slash-separated.
	Model     string       `json:"model"`
	ModelKind formats.Kind `json:"model_kind"`
	ETag      string       `json:"etag,omitempty"`
	// Filename is the server's filename hint for the download, if the
	// fetcher passed it on (see FetchFunc). Untrusted: never use it as a
	// path without sanitising it.
	Filename   string      `json:"filename,omitempty"`
	FetchedAt  time.Time   `json:"fetched_at"`
	Validation *Validation `json:"validation,omitempty"`
}

// Validation is the result of validating an entry's model.
type Validation struct {
	Valid    bool      `json:"valid"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Checked  time.Time `json:"checked"`
	Summary  []string  `json:"summary,omitempty"`
}

// Interrupted tells whether v is no verdict at all but the trace of a
// validation cut short: earlier versions of gizmo recorded a sync's
// Ctrl-C as {"valid": false, "summary": ["context canceled"]}. Such a
// verdict says nothing about the model: sync validates the entry again and
// Verify reports it.
func (v *Validation) Interrupted() bool {
	if v == nil || v.Valid || len(v.Summary) == 0 {
		return false
	}
	for _, s := range v.Summary {
		if !strings.HasSuffix(s, context.Canceled.Error()) && !strings.HasSuffix(s, context.DeadlineExceeded.Error()) {
			return false
		}
	}
	return true
}

// tempFile is what Store writes a download into; tests swap it to inject
// disk-full and permission errors.
type tempFile interface {
	io.Writer
	io.Seeker
	Truncate(size int64) error
	Name() string
	Sync() error
	Close() error
}

// Cache is a cache directory. Any number of Cache values and processes can
// share one directory: between operations, a process holds the index open
// for at most a short linger, and lets go at once when another process
// waits for it (see the package comment).
type Cache struct {
	root string
	// Limits bound what a downloaded zip may expand to.
	limits archive.Limits
	// sweepTemps removes stale temp files once, before the first store.
	sweepTemps sync.Once
	// blobDirs holds the blob directories known to exist (see blobDir).
	blobDirs sync.Map

	// Test seams.
	createTemp func(dir, pattern string) (tempFile, error)
	rename     func(oldpath, newpath string) error
	now        func() time.Time
}

// DefaultDir is $XDG_CACHE_HOME/gizmo, else ~/.cache/gizmo.
func DefaultDir() (string, error) {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "gizmo"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", fmt.Errorf("no cache directory: set --cache-dir, GIZMO_CACHE_DIR or XDG_CACHE_HOME (%v)", err)
	}
	return filepath.Join(home, ".cache", "gizmo"), nil
}

// Open opens the cache at dir, creating its layout (CACHEDIR.TAG, the
// directories, the index at the current schema) if needed and migrating an
// older index. An index written by a newer gizmo is refused
// (ErrSchemaTooNew), never rewritten.
func Open(dir string) (*Cache, error) {
	c, err := newCache(dir)
	if err != nil {
		return nil, err
	}
	abs := c.root
	for _, d := range []string{"", blobsDir, treesDir, tmpDir, locksDir} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o755); err != nil {
			return nil, fmt.Errorf("open cache %s: %w (check the permissions, or pick another --cache-dir)", abs, err)
		}
	}
	if _, err := os.Stat(filepath.Join(abs, tagName)); errors.Is(err, os.ErrNotExist) {
		if err := atomicfile.WriteFile(filepath.Join(abs, tagName), []byte(cachedirTag), 0o644); err != nil {
			return nil, fmt.Errorf("open cache %s: %w", abs, err)
		}
	}
	if err := c.migrate(); err != nil {
		return nil, err
	}
	return c, nil
}

// newCache is the Cache of dir, without touching the disk.
func newCache(dir string) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("open cache: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open cache %s: %w", dir, err)
	}
	return &Cache{
		root:       abs,
		limits:     archive.DefaultLimits,
		createTemp: createTempFile,
		rename:     os.Rename,
		now:        time.Now,
	}, nil
}

// Close lets the index's committer commit what is queued and stop, and
// waits for it: afterwards the process holds nothing of the cache open, and
// nothing of it is opened again until the next read or write (of any of the
// process's Cache values for this directory: they share the index). Safe to
// call more than once.
func (c *Cache) Close() error {
	if x, ok := indexes.Load(c.dbPath()); ok {
		x.(*indexDB).quiesce()
	}
	return nil
}

// Root is the cache's absolute directory.
func (c *Cache) Root() string { return c.root }

// ModelPath is the absolute path of e's model file inside its immutable tree.
func (c *Cache) ModelPath(e Entry) string {
	m := filepath.FromSlash(e.Model)
	if !filepath.IsLocal(m) {
		// Only a damaged index record gets here; never a path outside the tree.
		m = "invalid-model"
	}
	return filepath.Join(c.TreePath(e), m)
}

// TreePath is the absolute path of the root of e's immutable tree: the folder
// holding the model file (perhaps in a subfolder, see Entry.Model) and the
// meshes and textures it references.
func (c *Cache) TreePath(e Entry) string {
	if e.Hash == "" || strings.ContainsAny(e.Hash, `/\.`) {
		return filepath.Join(c.root, treesDir, "invalid-hash")
	}
	return filepath.Join(c.root, treesDir, e.Hash)
}

// DownloadPath is the absolute path of e's download as it was fetched (the
// zip itself, or the single model file), stored read-only under its hash.
func (c *Cache) DownloadPath(e Entry) string { return c.blobPath(e.Hash) }

// blobPath is where a download with hash h is stored.
func (c *Cache) blobPath(h string) string {
	if len(h) < 2 || strings.ContainsAny(h, `/\.`) {
		// Only a damaged index record gets here; never a path outside blobs/.
		return filepath.Join(c.root, blobsDir, "invalid-hash")
	}
	return filepath.Join(c.root, blobsDir, h[:2], h)
}

func (c *Cache) dbPath() string { return filepath.Join(c.root, dbName) }

// keyHash names an (id, format) on disk: ids are never used as paths.
func keyHash(id, format string) string {
	s := sha256.Sum256([]byte(id + "\x00" + format))
	return hex.EncodeToString(s[:16])
}

// keyLockPath is the lock file of key kh: one of 4,096, picked by the key
// hash's first three hex digits. Keys share lock files so that storing a
// new key seldom creates a file (on some file systems a new inode costs
// more than the download of a small model); two keys of one stripe only
// wait for each other, which correctness never depends on (see the
// package comment). 4,096 rather than 256: a sync with a hundred stores
// in flight held half of 256 stripes at any time, and a prepare beside it
// waited on most of its keys.
func (c *Cache) keyLockPath(kh string) string {
	return filepath.Join(c.root, locksDir, "key-"+kh[:3]+".lock")
}

func checkKey(id, format string) error {
	switch {
	case id == "":
		return errors.New("empty asset id")
	case format == "":
		return fmt.Errorf("asset %s: empty format", id)
	case strings.ContainsRune(id, 0) || strings.ContainsRune(format, 0):
		return fmt.Errorf("asset %q: id or format holds a NUL byte", id)
	}
	return nil
}
