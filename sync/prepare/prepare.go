package prepare

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/formats/project"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
)

// Cache is what prepare needs from the cache; *cache.Cache satisfies it.
// Files are fetched into it by the sync engine (gsync.Fetch).
type Cache interface {
	Assets() ([]cache.AssetMeta, error)
	Asset(idOrName string) (cache.AssetMeta, error)
	RecordAssets(seen []cache.AssetMeta, complete bool) error
	// Stored is the entry of an export the cache stores (indexed, its
	// download in place); ErrNotCached otherwise.
	Stored(id, format string) (cache.Entry, error)
	TreePath(e cache.Entry) string
	// Unpack makes sure an entry's tree is in place (the cache unpacks
	// downloads on first use).
	Unpack(ctx context.Context, e cache.Entry) (string, error)
	gsync.FileStore
}

// Remote is what prepare needs from the Gizmo API; *api.Client satisfies it.
type Remote interface {
	gsync.Lister
	Get(ctx context.Context, id string) (*api.Asset, error)
	gsync.FileRemote
}

var (
	_ Cache  = (*cache.Cache)(nil)
	_ Remote = (*api.Client)(nil)
)

// Options says how Run prepares a project.
type Options struct {
	Dir string // the project root (holds gizmo.toml)
	// Offline never touches the network: what the cache lacks is an error.
	Offline bool
	// Locked fails (LockedError) when what would be placed differs from
	// gizmo.lock, and never writes the lock.
	Locked bool
	// Update resolves the manifest again (refreshing the asset list from the
	// API unless Offline) and rewrites the lock.
	Update bool
	// Verify re-hashes every placed file instead of trusting size and mtime.
	Verify bool
	// OpenCache opens the cache; called only when something must be fetched,
	// resolved or placed.
	OpenCache func() (Cache, error)
	// Remote makes the API client; called only when a request is needed.
	Remote func() (Remote, error)
	// Validate checks a model file, as the sync engine's Validator does;
	// nil skips validation. Prepare validates the unpacked tree on disk, so
	// it passes files as nil (the operating system). Summary should carry
	// every error line (file:line): InvalidError shows them.
	Validate gsync.Validator
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...any)
	// Manifest, when set, is used instead of reading gizmo.toml (a
	// long-running caller keeps the last good one while the file has an
	// error).
	Manifest *project.Manifest
	// Listed says the caller has just recorded the account's listing in the
	// cache: the selection is resolved from it without listing again.
	Listed bool
}

// Item is one placed model.
type Item struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Format formats.Format `json:"format"`
	Hash   string         `json:"hash"`
	Target string         `json:"target"` // the target's dir, relative to the project
	Layout layout.Layout  `json:"layout"`
	Slug   string         `json:"slug"`
	Path   string         `json:"path"`            // the model file, relative to the project
	Scene  string         `json:"scene,omitempty"` // mujoco: the scene file beside it
}

// Result says what Run did.
type Result struct {
	Items []Item `json:"placed"`
	// NoOp is set when everything was in place: no cache, no request.
	NoOp     bool     `json:"noop"`
	Fetched  int      `json:"fetched"`
	Placed   int      `json:"written"`  // asset folders written (new or changed)
	Repaired int      `json:"repaired"` // of those, folders whose files were damaged
	Removed  int      `json:"removed"`  // asset folders no longer selected
	Warnings []string `json:"warnings,omitempty"`
	// Unplaced lists the selected assets that were not placed (failed,
	// not ready, deleted on Gizmo, of a status gizmo does not know, or
	// offering none of a target's formats), each with the reason.
	Unplaced []Unplaced `json:"unplaced"`
}

// StatusGone is the Unplaced status of an asset deleted on Gizmo whose
// files the cache does not have.
const StatusGone = "gone"

// Unplaced is a selected asset that was not placed, and why.
type Unplaced struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Status is the asset's status on Gizmo (failed, pending, processing,
	// or one gizmo does not know), or StatusGone.
	Status string `json:"status"`
	Reason string `json:"reason"`
	// Named is set when the manifest names the asset by id or name; an
	// asset only a tag or all selects is named false.
	Named bool `json:"named"`
}

// Partial reports whether an asset the manifest names cannot be placed and
// will not become placeable by waiting: failed, or deleted on Gizmo with
// nothing in the cache. Pending and processing assets, and statuses gizmo
// does not know, are reported but do not make a run partial.
func (r *Result) Partial() bool {
	for _, u := range r.Unplaced {
		if u.Named && (u.Status == string(api.StatusFailed) || u.Status == StatusGone) {
			return true
		}
	}
	return false
}

// UnplacedStatus is the message for an asset that is not ready: what its
// status means for the user, naming it.
func UnplacedStatus(id, name, status, reason string) string {
	switch api.Status(status) {
	case api.StatusFailed:
		if reason == "" {
			reason = "Gizmo gave no reason"
		}
		return fmt.Sprintf("asset %s (%s) failed on Gizmo: %s", id, name, reason)
	case api.StatusPending, api.StatusProcessing:
		return fmt.Sprintf("asset %s (%s) is %s on Gizmo, not ready", id, name, status)
	case StatusGone:
		return fmt.Sprintf("asset %s (%s) was deleted on Gizmo and the cache does not have its files", id, name)
	case "":
		return fmt.Sprintf("asset %s (%s) has no status in the cache", id, name)
	}
	return fmt.Sprintf("asset %s (%s) is %q on Gizmo: a status this gizmo does not know, so it is not placed (a newer gizmo may)", id, name, status)
}

// Run makes the project at o.Dir match its manifest; see the package doc.
func Run(ctx context.Context, o Options) (*Result, error) {
	m := o.Manifest
	if m == nil {
		var err error
		if m, err = project.LoadManifest(o.Dir); err != nil {
			return nil, err
		}
	}
	if len(m.Targets) == 0 {
		return nil, &project.Error{File: m.Path, Msg: "no [[target]]: say where the assets go (see 'gizmo init')"}
	}
	lock, err := readLock(o.Dir)
	if err != nil {
		return nil, err
	}
	targets := make([]*target, len(m.Targets))
	for i, t := range m.Targets {
		abs := filepath.Join(o.Dir, filepath.FromSlash(t.Dir))
		targets[i] = &target{Target: t, lt: layout.Target{Dir: abs, Layout: t.Layout, Link: t.Link}, state: layout.ReadState(abs)}
	}
	pinned := !o.Update && lock != nil && lock.Manifest == m.Digest
	if pinned {
		if res, ok := fast(lock, targets, o.Verify); ok {
			return res, nil
		}
	}
	if o.Locked && lock == nil {
		return nil, &LockedError{Diff: []string{"the project has no gizmo.lock"}}
	}
	s := newSlow(o, m)
	s.lock, s.targets, s.pinned = lock, targets, pinned
	return s.run(ctx)
}

// Resolve finds an asset by id or exact name: in the cache, else (unless
// offline) from the API. It is what gizmo place uses to turn a name into
// the id it records.
func Resolve(ctx context.Context, o Options, idOrName string) (cache.AssetMeta, error) {
	c, err := o.OpenCache()
	if err != nil {
		return cache.AssetMeta{}, err
	}
	a, err := c.Asset(idOrName)
	if err == nil {
		if o.Offline {
			return a, nil
		}
		// Ask Gizmo for its status now (and its formats).
		s := newSlow(o, &project.Manifest{Path: "gizmo"})
		s.cache = c
		s.metas[a.ID] = a
		if err := s.get(ctx, a.ID); err != nil {
			return cache.AssetMeta{}, err
		}
		if s.gone[a.ID] {
			return cache.AssetMeta{}, &NotFoundError{What: fmt.Sprintf("asset %s (%s) was deleted on Gizmo (the cache still has it): not placed", a.ID, a.Name)}
		}
		return s.metas[a.ID], nil
	}
	if !errors.Is(err, cache.ErrNotFound) || o.Offline {
		if errors.Is(err, cache.ErrNotFound) {
			return cache.AssetMeta{}, &NotFoundError{What: fmt.Sprintf("asset %q is not in the cache (offline: run without --offline or 'gizmo sync')", idOrName)}
		}
		return cache.AssetMeta{}, &NotFoundError{What: err.Error()}
	}
	s := newSlow(o, &project.Manifest{Path: "gizmo"})
	s.cache = c
	metas, err := c.Assets()
	if err != nil {
		return cache.AssetMeta{}, err
	}
	for _, m := range metas {
		s.metas[m.ID] = m
	}
	if err := s.get(ctx, idOrName); err == nil {
		return s.metas[idOrName], nil
	}
	// Not an id: look for the name in the listing.
	if err := s.list(ctx); err != nil {
		return cache.AssetMeta{}, err
	}
	ids := s.byName(idOrName)
	switch len(ids) {
	case 0:
		return cache.AssetMeta{}, &NotFoundError{What: fmt.Sprintf("no asset has the id or name %q (see 'gizmo ls')", idOrName)}
	case 1:
		// A listing carries no formats: ask for the asset.
		if err := s.get(ctx, ids[0]); err != nil {
			return cache.AssetMeta{}, err
		}
		if s.gone[ids[0]] {
			return cache.AssetMeta{}, &NotFoundError{What: fmt.Sprintf("asset %s (%s) was deleted on Gizmo while gizmo looked for it: not placed", ids[0], idOrName)}
		}
		return s.metas[ids[0]], nil
	}
	return cache.AssetMeta{}, &NotFoundError{What: fmt.Sprintf("%d assets are named %q (%s): use an id", len(ids), idOrName, strings.Join(ids, ", "))}
}
