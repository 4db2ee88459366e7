package prepare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/internal/lockedfile"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/validate"
)

// Cache is what prepare needs from the cache; *cache.Cache satisfies it.
// Files are fetched into it by the sync engine (gsync.Fetch).
type Cache interface {
	Assets() ([]cache.AssetMeta, error)
	Asset(idOrName string) (cache.AssetMeta, error)
	RecordAssets(seen []cache.AssetMeta, complete bool) error
	Entry(id, format string) (cache.Entry, error)
	TreePath(e cache.Entry) string
	// Unpack makes sure an entry's tree is in place (the cache unpacks
	// downloads on first use).
	Unpack(ctx context.Context, e cache.Entry) (string, error)
	gsync.FileStore
}

// Remote is what prepare needs from the Gizmo API; *api.Client satisfies it.
type Remote interface {
	List(ctx context.Context, limit, offset int) (*api.Page, error)
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
	// Validate checks a model file; nil skips validation.
	Validate func(ctx context.Context, path string) ([]validate.Report, error)
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

// LockedError is what --locked returns when what would be placed differs
// from gizmo.lock; Diff names each asset.
// With Pinned, it is a plain prepare refusing to place what differs from
// what gizmo.lock pins (the lock edited by hand, or an export changed on
// Gizmo): the lock is rewritten only with --update.
type LockedError struct {
	Diff   []string
	Pinned bool
}

func (e *LockedError) Error() string {
	if e.Pinned {
		return "gizmo.lock pins what cannot be placed (edited by hand, or the export changed on Gizmo); nothing was changed. Restore gizmo.lock, or run 'gizmo prepare --update' to accept what Gizmo serves now and commit gizmo.lock:\n  " + strings.Join(e.Diff, "\n  ")
	}
	return "what would be placed differs from gizmo.lock (run 'gizmo prepare --update' and commit gizmo.lock if the change is wanted):\n  " + strings.Join(e.Diff, "\n  ")
}

// InvalidError is a model that fails validation; its reports carry
// file:line for each problem.
type InvalidError struct {
	Asset   string
	Format  formats.Format
	Reports []validate.Report
}

func (e *InvalidError) Error() string {
	var lines []string
	for _, r := range e.Reports {
		for _, p := range r.Errors {
			lines = append(lines, p.String())
		}
	}
	return fmt.Sprintf("asset %s (%s) is not valid, not placed (ask Gizmo to regenerate it, or remove it from gizmo.toml):\n  %s", e.Asset, e.Format.Short(), strings.Join(lines, "\n  "))
}

// MissingError lists what an offline prepare needs that the cache lacks.
type MissingError struct{ Missing []string }

func (e *MissingError) Error() string {
	return "offline, and the cache lacks what the project needs (run 'gizmo prepare' without --offline, or 'gizmo sync'):\n  " + strings.Join(e.Missing, "\n  ")
}

// NotFoundError is an asset the manifest names that does not exist.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What }

// target is a manifest target with its state.
type target struct {
	project.Target
	lt    layout.Target
	state *layout.State
	dirty bool
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
	lock, err := project.ReadLock(o.Dir)
	if errors.Is(err, project.ErrNoLock) {
		lock, err = nil, nil
	}
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
	// One prepare at a time writes a target; what another one did while
	// this one waited is read again.
	unlock, err := lockTargets(ctx, targets)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, t := range targets {
		t.state = layout.ReadState(t.lt.Dir)
	}
	s := newSlow(o, m)
	s.lock, s.targets, s.pinned = lock, targets, pinned
	return s.run(ctx)
}

// lockTargets takes <dir>/.gizmo/prepare.lock of every target, in folder
// order so that two runs cannot deadlock.
func lockTargets(ctx context.Context, targets []*target) (func(), error) {
	dirs := make([]string, 0, len(targets))
	for _, t := range targets {
		dirs = append(dirs, t.lt.Dir)
	}
	sort.Strings(dirs)
	var held []*lockedfile.Lock
	unlock := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i].Unlock()
		}
	}
	for _, d := range dirs {
		state := filepath.Join(d, ".gizmo")
		if err := os.MkdirAll(state, 0o755); err != nil {
			unlock()
			return nil, fmt.Errorf("create %s: %w", state, err)
		}
		l, err := lockedfile.Acquire(ctx, filepath.Join(state, "prepare.lock"), true)
		if err != nil {
			unlock()
			return nil, err
		}
		held = append(held, l)
	}
	return unlock, nil
}

// fast checks, without the cache, that every export in the lock is placed
// as recorded and that nothing else is; it returns the result when so.
func fast(lock *project.Lock, targets []*target, verify bool) (*Result, bool) {
	if len(lock.Unplaced) > 0 {
		return nil, false // look at what was missing again
	}
	res := &Result{NoOp: true, Unplaced: []Unplaced{}}
	byTarget := map[string]*target{}
	for _, t := range targets {
		byTarget[t.Dir] = t
	}
	want := map[*target]map[string][]project.Entry{}
	for _, e := range lock.Entries {
		t := byTarget[e.Target]
		if t == nil {
			return nil, false
		}
		if want[t] == nil {
			want[t] = map[string][]project.Entry{}
		}
		want[t][e.ID] = append(want[t][e.ID], e)
	}
	for _, t := range targets {
		if len(t.state.Assets) != len(want[t]) {
			return nil, false
		}
		for id, entries := range want[t] {
			p := t.state.Assets[id]
			if p == nil || p.Link != t.Link || len(p.Models) != len(entries) {
				return nil, false
			}
			for _, e := range entries {
				mdl, ok := findModel(p, e.Format)
				if !ok || mdl.Hash != e.Hash || e.Path != path.Join(t.Dir, p.Slug, mdl.Path) {
					return nil, false
				}
				res.Items = append(res.Items, item(t, p, mdl))
			}
			if len(t.lt.Check(*p, verify)) > 0 {
				return nil, false
			}
		}
	}
	sortItems(targets, res.Items)
	return res, true
}

func findModel(p *layout.Placed, f formats.Format) (layout.Model, bool) {
	for _, m := range p.Models {
		if m.Format == f {
			return m, true
		}
	}
	return layout.Model{}, false
}

func item(t *target, p *layout.Placed, m layout.Model) Item {
	it := Item{ID: p.ID, Name: p.Name, Format: m.Format, Hash: m.Hash, Target: t.Dir, Layout: t.Layout, Slug: p.Slug, Path: path.Join(t.Dir, p.Slug, m.Path)}
	if m.Scene != "" {
		it.Scene = path.Join(t.Dir, p.Slug, m.Scene)
	}
	return it
}

func sortItems(targets []*target, items []Item) {
	order := map[string]int{}
	for i, t := range targets {
		order[t.Dir] = i
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if order[a.Target] != order[b.Target] {
			return order[a.Target] < order[b.Target]
		}
		if a.Slug != b.Slug {
			return a.Slug < b.Slug
		}
		return a.Format < b.Format
	})
}

// slow is a prepare that resolves, fetches, validates and places.
type slow struct {
	o       Options
	m       *project.Manifest
	lock    *project.Lock
	targets []*target
	pinned  bool // the lock says which assets and hashes
	res     *Result

	cache  Cache
	remote Remote
	metas  map[string]cache.AssetMeta
	listed bool
	logMu  sync.Mutex

	asked map[string]bool // assets asked for once this run (GET /assets/{id})
	named map[string]bool // assets the manifest names by id or name
	gone  map[string]bool // assets Gizmo answered 404 for, known to the cache or the lock
	// dropped are selected assets found unplaceable after the formats
	// were chosen (deleted on Gizmo, their files not in the cache).
	dropped map[string]bool
	// inListing holds the ids of the listing, once list has run.
	inListing map[string]bool
}

func newSlow(o Options, m *project.Manifest) *slow {
	return &slow{o: o, m: m, res: &Result{Unplaced: []Unplaced{}}, metas: map[string]cache.AssetMeta{},
		asked: map[string]bool{}, named: map[string]bool{}, gone: map[string]bool{}, dropped: map[string]bool{}}
}

func (s *slow) logf(format string, args ...any) {
	if s.o.Log != nil {
		s.logMu.Lock()
		defer s.logMu.Unlock()
		s.o.Log(format, args...)
	}
}

func (s *slow) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.res.Warnings = append(s.res.Warnings, msg)
	s.logf("warning: %s", msg)
}

func (s *slow) api() (Remote, error) {
	if s.o.Offline {
		return nil, errors.New("offline")
	}
	if s.remote == nil {
		if s.o.Remote == nil {
			return nil, errors.New("no API client")
		}
		r, err := s.o.Remote()
		if err != nil {
			return nil, err
		}
		s.remote = r
	}
	return s.remote, nil
}

func (s *slow) run(ctx context.Context) (*Result, error) {
	c, err := s.o.OpenCache()
	if err != nil {
		return nil, err
	}
	s.cache = c
	metas, err := c.Assets()
	if err != nil {
		return nil, err
	}
	s.metas = map[string]cache.AssetMeta{}
	for _, a := range metas {
		s.metas[a.ID] = a
	}
	if s.o.Update && !s.o.Offline {
		if err := s.list(ctx); err != nil {
			return nil, err
		}
	}
	selected, err := s.selected(ctx)
	if err != nil {
		return nil, err
	}
	if selected, err = s.placeable(ctx, selected); err != nil {
		return nil, err
	}

	// Which exports each target needs.
	perTarget := make([]map[string][]formats.Format, len(s.targets))
	var needs []need
	seenNeed := map[need]bool{}
	for i, t := range s.targets {
		perTarget[i] = map[string][]formats.Format{}
		for _, id := range selected {
			fs, err := s.formatsFor(ctx, t, id)
			if err != nil {
				return nil, err
			}
			perTarget[i][id] = fs
			for _, f := range fs {
				n := need{id, f}
				if !seenNeed[n] {
					seenNeed[n] = true
					needs = append(needs, n)
				}
			}
		}
	}

	// What the cache has, and what to fetch.
	entries := map[need]cache.Entry{}
	var missing []need
	for _, n := range needs {
		e, err := c.Entry(n.id, string(n.f))
		switch {
		case err == nil:
			entries[n] = e
		case errors.Is(err, cache.ErrNotCached):
			missing = append(missing, n)
		default:
			return nil, err
		}
	}
	// An asset deleted on Gizmo is placed from what the cache keeps; what
	// the cache lacks of it cannot be fetched.
	missing = s.dropGone(missing, func(n need) string { return n.id })
	if len(missing) > 0 {
		if s.o.Offline {
			var names []string
			for _, n := range missing {
				names = append(names, fmt.Sprintf("asset %s (%s): %s", n.id, s.name(n.id), n.f.Short()))
			}
			return nil, &MissingError{Missing: names}
		}
		items := make([]gsync.Item, len(missing))
		for i, n := range missing {
			items[i] = gsync.Item{ID: n.id, Name: s.name(n.id), Format: n.f}
		}
		if err := s.fetch(ctx, items); err != nil {
			return nil, err
		}
		// Assets deleted while fetching are reported, not placed.
		missing = s.dropGone(missing, func(n need) string { return n.id })
		for _, n := range missing {
			e, err := c.Entry(n.id, string(n.f))
			if err != nil {
				return nil, fmt.Errorf("fetch asset %s (%s) %s: %w", n.id, s.name(n.id), n.f.Short(), err)
			}
			entries[n] = e
			s.res.Fetched++
		}
	}

	if len(s.dropped) > 0 {
		needs = slices.DeleteFunc(needs, func(n need) bool { return s.dropped[n.id] })
		selected = slices.DeleteFunc(selected, func(id string) bool { return s.dropped[id] })
	}

	// Unpack what will be placed (a tree is made on first use; one stat
	// when it is there).
	for _, n := range needs {
		if _, err := c.Unpack(ctx, entries[n]); err != nil {
			return nil, fmt.Errorf("asset %s (%s) %s: %w", n.id, s.name(n.id), n.f.Short(), err)
		}
	}

	// Validate what will be placed.
	if s.o.Validate != nil {
		for _, n := range needs {
			e := entries[n]
			if e.Validation != nil && e.Validation.Valid && e.Validation.Errors == 0 {
				continue // validated when it was stored
			}
			reps, err := s.o.Validate(ctx, filepath.Join(c.TreePath(e), filepath.FromSlash(e.Model)))
			if err != nil {
				return nil, fmt.Errorf("validate asset %s (%s) %s: %w", n.id, s.name(n.id), n.f.Short(), err)
			}
			v := cache.Validation{Valid: true, Checked: time.Now()}
			for _, r := range reps {
				v.Errors += len(r.Errors)
				v.Warnings += len(r.Warnings)
				if !r.Valid {
					return nil, &InvalidError{Asset: fmt.Sprintf("%s (%s)", n.id, s.name(n.id)), Format: n.f, Reports: reps}
				}
			}
			// Remember the verdict, so the next slow run skips this model.
			if err := c.SetValidation(n.id, string(n.f), v); err != nil {
				s.logf("warning: recording the validation of %s %s: %v", n.id, n.f.Short(), err)
			}
		}
	}

	// The lock this would write; --locked compares it with the one there.
	newLock := &project.Lock{Manifest: s.m.Digest}
	plans := make([][]layout.Asset, len(s.targets))
	for i, t := range s.targets {
		var named []layout.Named
		for _, id := range selected {
			if len(perTarget[i][id]) > 0 {
				named = append(named, layout.Named{ID: id, Name: s.name(id)})
			}
		}
		slugs := layout.Slugs(named, t.state.Slugs())
		for _, nm := range named {
			a := layout.Asset{ID: nm.ID, Name: nm.Name, Slug: slugs[nm.ID]}
			for _, f := range perTarget[i][nm.ID] {
				e := entries[need{nm.ID, f}]
				a.Sources = append(a.Sources, layout.Source{Format: f, Hash: e.Hash, Tree: c.TreePath(e), Model: e.Model})
				newLock.Entries = append(newLock.Entries, project.Entry{
					ID: nm.ID, Name: nm.Name, Format: f, Hash: e.Hash, Target: t.Dir,
					Path: path.Join(t.Dir, a.Slug, modelPath(t.Layout, f, a.Slug, e)),
				})
			}
			plans[i] = append(plans[i], a)
		}
	}
	for _, u := range s.res.Unplaced {
		if u.Named {
			newLock.Unplaced = append(newLock.Unplaced, project.Unplaced{ID: u.ID, Name: u.Name, Status: u.Status})
		}
	}
	writeLock := !s.o.Locked
	if s.lock != nil && s.pinned {
		// What the lock pins of an asset that could not be placed stays
		// pinned.
		unplaced := map[string]bool{}
		for _, u := range s.res.Unplaced {
			unplaced[u.ID] = true
		}
		for _, e := range s.lock.Entries {
			if unplaced[e.ID] {
				newLock.Entries = append(newLock.Entries, e)
			}
		}
		// The lock is not rewritten without --update (only filled in with
		// assets it listed as not placed): a pin the cache and Gizmo
		// cannot honour is refused.
		if diff := pinDiff(s.lock, newLock); len(diff) > 0 && !s.o.Locked {
			return nil, &LockedError{Diff: diff, Pinned: true}
		}
		old, _ := s.lock.Marshal()
		now, _ := newLock.Marshal()
		writeLock = writeLock && !bytes.Equal(old, now)
	}
	if s.lock != nil && s.o.Locked {
		if diff := s.lock.Diff(newLock); len(diff) > 0 {
			return nil, &LockedError{Diff: diff}
		}
	}

	// Place what is missing, changed or damaged; remove what is no longer
	// selected.
	for i, t := range s.targets {
		keep := map[string]bool{}
		for _, a := range plans[i] {
			if err := ctx.Err(); err != nil {
				// Stopped: what is placed stays whole; the next run
				// records it (an intact version folder is reused).
				return nil, err
			}
			keep[a.ID] = true
			key := layout.VersionKey(t.Layout, t.Link, a.Sources)
			p := t.state.Assets[a.ID]
			if p != nil && p.Key == key && p.Slug == a.Slug && p.Link == t.Link {
				problems := t.lt.Check(*p, s.o.Verify)
				if len(problems) == 0 {
					continue
				}
				for _, pr := range problems {
					s.logf("repairing %s", pr)
				}
				s.res.Repaired++
			}
			if p != nil && p.Slug != a.Slug {
				if err := t.lt.Remove(p.Slug); err != nil {
					return nil, err
				}
			}
			placed, err := t.lt.Place(a)
			if err != nil {
				return nil, err
			}
			s.logf("placed %s (%s) in %s/%s", a.ID, a.Name, t.Dir, a.Slug)
			t.state.Assets[a.ID] = &placed
			t.state.Layout = t.Layout
			t.dirty = true
			s.res.Placed++
		}
		for id, p := range t.state.Assets {
			if keep[id] {
				continue
			}
			if err := t.lt.Remove(p.Slug); err != nil {
				s.warn("%v", err)
			}
			delete(t.state.Assets, id)
			t.dirty = true
			s.res.Removed++
			s.logf("removed %s (%s) from %s: no longer selected", id, p.Name, t.Dir)
		}
		if t.dirty || len(t.state.Assets) == 0 {
			if err := t.state.Write(t.lt.Dir); err != nil {
				return nil, fmt.Errorf("record placement in %s: %w", t.lt.Dir, err)
			}
		}
		// Remove version folders superseded more than layout.Grace ago,
		// of every asset, including assets removed on earlier runs.
		t.lt.Collect()
		for _, a := range plans[i] {
			p := t.state.Assets[a.ID]
			for _, mdl := range p.Models {
				s.res.Items = append(s.res.Items, item(t, p, mdl))
			}
		}
	}
	sortItems(s.targets, s.res.Items)
	if writeLock {
		if err := newLock.Write(s.o.Dir); err != nil {
			return nil, fmt.Errorf("write gizmo.lock: %w", err)
		}
	}
	return s.res, nil
}

// need is one export of an asset that a target needs.
type need struct {
	id string
	f  formats.Format
}

// pinDiff lists how what a pinned prepare would place differs from what the
// lock pins, leaving out the assets the lock lists as not placed (filled in
// once they can be).
func pinDiff(lock, now *project.Lock) []string {
	fill := map[string]bool{}
	for _, u := range lock.Unplaced {
		fill[u.ID] = true
	}
	pinned := map[string]project.Entry{}
	for _, e := range lock.Entries {
		pinned[e.Key()] = e
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range now.Entries {
		seen[e.Key()] = true
		old, ok := pinned[e.Key()]
		switch {
		case !ok && !fill[e.ID]:
			out = append(out, fmt.Sprintf("asset %s (%s) %s in %s: would be placed, but gizmo.lock does not pin it", e.ID, e.Name, e.Format.Short(), e.Target))
		case ok && old.Hash != e.Hash:
			out = append(out, fmt.Sprintf("asset %s (%s) %s in %s: gizmo.lock pins hash %s, the cache and Gizmo have %s", e.ID, e.Name, e.Format.Short(), e.Target, old.Hash, e.Hash))
		case ok && old.Path != e.Path:
			out = append(out, fmt.Sprintf("asset %s (%s) %s in %s: gizmo.lock places it at %s, it would go to %s", e.ID, e.Name, e.Format.Short(), e.Target, old.Path, e.Path))
		}
	}
	for _, e := range lock.Entries {
		if !seen[e.Key()] {
			out = append(out, fmt.Sprintf("asset %s (%s) %s in %s: pinned by gizmo.lock, but would not be placed", e.ID, e.Name, e.Format.Short(), e.Target))
		}
	}
	sort.Strings(out)
	return out
}

// modelPath is where a layout puts an export's model file in <slug>/.
func modelPath(l layout.Layout, f formats.Format, slug string, e cache.Entry) string {
	switch f {
	case formats.MuJoCo:
		return slug + ".xml"
	case formats.IsaacURDF:
		return "urdf/" + slug + ".urdf"
	}
	if e.ModelKind == formats.KindUSDA || strings.HasSuffix(e.Model, ".usda") {
		return slug + ".usda"
	}
	return slug + ".usd"
}

func (s *slow) name(id string) string {
	if a, ok := s.metas[id]; ok && a.Name != "" {
		return a.Name
	}
	if s.lock != nil {
		for _, e := range s.lock.Entries {
			if e.ID == id {
				return e.Name
			}
		}
	}
	return id
}

// list refreshes the asset list from the API (once per run) and records it
// in the cache.
func (s *slow) list(ctx context.Context) error {
	if s.listed || s.o.Listed {
		return nil
	}
	r, err := s.api()
	if err != nil {
		return err
	}
	var seen []cache.AssetMeta
	ids := map[string]bool{}
	var bound api.ListBound // a server that keeps the list going is stopped
	for offset := 0; ; {
		page, err := r.List(ctx, 100, offset)
		if err != nil {
			return fmt.Errorf("list assets: %w", err)
		}
		fresh := 0
		for _, a := range page.Assets {
			if !ids[a.ID] {
				fresh++
			}
		}
		if err := bound.Page(page, fresh, 100); err != nil {
			return err
		}
		for _, a := range page.Assets {
			if a.ID == "" || ids[a.ID] {
				continue
			}
			ids[a.ID] = true
			seen = append(seen, s.merge(a))
		}
		offset += len(page.Assets)
		if len(page.Assets) == 0 || offset >= page.Total {
			break
		}
	}
	for _, a := range seen {
		s.metas[a.ID] = a
	}
	if err := s.cache.RecordAssets(seen, false); err != nil {
		return err
	}
	s.listed = true
	s.inListing = ids
	return nil
}

// merge turns an API asset into cache metadata, keeping what a list page
// leaves out (formats, tags) from the cache's record.
func (s *slow) merge(a api.Asset) cache.AssetMeta {
	prev, known := s.metas[a.ID]
	m := cache.AssetMeta{ID: a.ID, Name: a.Name, Prompt: a.Prompt, Status: string(a.Status), Error: a.Error, Tags: a.Tags, CreatedAt: a.CreatedAt}
	for _, f := range a.Formats {
		m.Formats = append(m.Formats, string(f))
	}
	if known {
		m.FirstSeen = prev.FirstSeen
		if len(m.Tags) == 0 {
			m.Tags = prev.Tags
		}
		if len(m.Formats) == 0 && prev.Status == m.Status {
			m.Formats = prev.Formats
		}
	}
	return m
}

// selected resolves the manifest's selection (or, pinned, the lock's) to
// asset ids, in order.
func (s *slow) selected(ctx context.Context) ([]string, error) {
	var out []string
	add := func(id string) {
		for _, x := range out {
			if x == id {
				return
			}
		}
		out = append(out, id)
	}
	if s.pinned {
		for _, e := range s.lock.Entries {
			add(e.ID)
		}
		for _, u := range s.lock.Unplaced {
			s.named[u.ID] = true // only named assets are listed
			add(u.ID)
		}
		return out, nil
	}
	sel := s.m.Assets
	if (sel.All || len(sel.Tags) > 0) && !s.o.Offline {
		if err := s.list(ctx); err != nil {
			return nil, err
		}
	}
	// A scene (current generation) is resolved as an asset id is: the
	// client fetches and exports it as one.
	for _, id := range append(slices.Clone(sel.IDs), sel.Scenes...) {
		_, known := s.metas[id]
		if !known || s.inListing != nil && !s.inListing[id] && !s.o.Offline {
			// Unknown to the cache, or missing from the listing: ask.
			if err := s.get(ctx, id); err != nil {
				return nil, err
			}
		}
		s.named[id] = true
		add(id)
	}
	for _, name := range sel.Names {
		ids := s.byName(name)
		if len(ids) == 0 && !s.o.Offline && !s.listed {
			if err := s.list(ctx); err != nil {
				return nil, err
			}
			ids = s.byName(name)
		}
		switch len(ids) {
		case 0:
			return nil, &NotFoundError{What: fmt.Sprintf("%s: no asset is named %q%s", s.m.Path, name, s.offlineHint())}
		case 1:
			s.named[ids[0]] = true
			add(ids[0])
		default:
			return nil, &NotFoundError{What: fmt.Sprintf("%s: %d assets are named %q (%s): list the one you mean under ids", s.m.Path, len(ids), name, strings.Join(ids, ", "))}
		}
	}
	var rest, notReady []string
	for id, a := range s.metas {
		if a.Vanished || !(sel.All || anyTag(a.Tags, sel.Tags)) {
			continue
		}
		if api.Status(a.Status) == api.StatusReady {
			rest = append(rest, id)
		} else {
			notReady = append(notReady, id)
		}
	}
	sort.Strings(rest)
	for _, id := range rest {
		add(id)
	}
	// A tag or all selects the ready assets; the others are noted.
	sort.Strings(notReady)
	for _, id := range notReady {
		if !slices.Contains(out, id) {
			a := s.metas[id]
			s.unplaced(id, a.Status, a.Error)
		}
	}
	return out, nil
}

// placeable keeps the selected assets that can be placed: those the lock
// pins, and ready ones. The status of one the cache knows as pending or
// processing is asked for once. The others are reported in Result.Unplaced.
// An asset deleted on Gizmo is kept, to be placed from the cache.
func (s *slow) placeable(ctx context.Context, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		if s.pinned && s.lockPins(id) {
			out = append(out, id)
			continue
		}
		a := s.metas[id]
		st := api.Status(a.Status)
		if !st.Settled() && !s.gone[id] && !s.asked[id] && !s.o.Offline {
			if err := s.get(ctx, id); err != nil {
				return nil, err
			}
			a = s.metas[id]
			st = api.Status(a.Status)
		}
		switch {
		case s.gone[id], st == api.StatusReady:
			out = append(out, id)
		case st == "" && s.o.Offline:
			out = append(out, id) // what the cache lacks is named later
		default:
			s.unplaced(id, a.Status, a.Error)
		}
	}
	return out, nil
}

// lockPins tells whether the lock pins exports of an asset.
func (s *slow) lockPins(id string) bool {
	for _, e := range s.lock.Entries {
		if e.ID == id {
			return true
		}
	}
	return false
}

// lockUnplaced tells whether the lock lists an asset as not placed.
func (s *slow) lockUnplaced(id string) bool {
	for _, u := range s.lock.Unplaced {
		if u.ID == id {
			return true
		}
	}
	return false
}

// unplaced reports a selected asset that is not placed.
func (s *slow) unplaced(id, status, reason string) {
	u := Unplaced{ID: id, Name: s.name(id), Status: status, Reason: reason, Named: s.named[id]}
	if u.Reason == "" && status == string(api.StatusFailed) {
		u.Reason = "Gizmo gave no reason"
	}
	s.res.Unplaced = append(s.res.Unplaced, u)
	// Failed and gone assets the manifest names make the run partial: the
	// caller reports them (Result.Partial).
	msg := UnplacedStatus(u.ID, u.Name, u.Status, u.Reason)
	switch {
	case !u.Named:
		s.logf("note: %s: not placed (a tag or all selects only ready assets)", msg)
	case u.Status == string(api.StatusPending) || u.Status == string(api.StatusProcessing):
		s.logf("warning: %s: not placed; the next gizmo prepare places it once it is ready", strings.Replace(msg, ", not ready", "", 1))
	case u.Status != string(api.StatusFailed) && u.Status != StatusGone:
		s.logf("warning: %s", msg)
	}
}

// dropGone removes from missing the files of assets deleted on Gizmo, which
// cannot be fetched: each such asset is reported as not placed, and
// dropped from the run.
func (s *slow) dropGone(missing []need, id func(need) string) []need {
	return slices.DeleteFunc(missing, func(n need) bool {
		if !s.gone[id(n)] {
			return false
		}
		if !s.dropped[id(n)] {
			s.dropped[id(n)] = true
			s.unplaced(id(n), StatusGone, "deleted on Gizmo, and the cache does not have its files")
		}
		return true
	})
}

func (s *slow) offlineHint() string {
	if s.o.Offline {
		return " in the cache (offline: run without --offline or 'gizmo sync')"
	}
	return ""
}

func (s *slow) byName(name string) []string {
	var ids []string
	for id, a := range s.metas {
		if a.Name == name && !a.Vanished {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func anyTag(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

// get asks the API for one asset and records it.
func (s *slow) get(ctx context.Context, id string) error {
	r, err := s.api()
	if err != nil {
		return &NotFoundError{What: fmt.Sprintf("%s: asset %s is not in the cache (offline: run without --offline or 'gizmo sync')", s.m.Path, id)}
	}
	s.asked[id] = true
	a, err := r.Get(ctx, id)
	if errors.Is(err, api.ErrNotFound) {
		if _, known := s.metas[id]; known || s.lock != nil && (s.lockPins(id) || s.lockUnplaced(id)) {
			s.gone[id] = true
			s.warn("asset %s (%s) was deleted on Gizmo: its files are placed from the cache while it keeps them (remove it from gizmo.toml to stop using it)", id, s.name(id))
			return nil
		}
		return &NotFoundError{What: fmt.Sprintf("%s: asset %s does not exist in the account (check the id)", s.m.Path, id)}
	}
	if err != nil {
		return fmt.Errorf("get asset %s: %w", id, err)
	}
	m := s.merge(*a)
	s.metas[id] = m
	return s.cache.RecordAssets([]cache.AssetMeta{m}, false)
}

// formatsFor returns the formats of target t to place for an asset: the
// target's formats the asset offers (or has in the cache).
func (s *slow) formatsFor(ctx context.Context, t *target, id string) ([]formats.Format, error) {
	if s.pinned && s.lockPins(id) {
		var out []formats.Format
		for _, e := range s.lock.Entries {
			if e.ID == id && e.Target == t.Dir {
				out = append(out, e.Format)
			}
		}
		return out, nil
	}
	a := s.metas[id]
	offered := map[formats.Format]bool{}
	for _, f := range a.Formats {
		offered[formats.Format(f)] = true
	}
	var out, unknown []formats.Format
	for _, f := range t.Formats {
		switch {
		case offered[f]:
			out = append(out, f)
		case s.cached(id, f):
			out = append(out, f)
		default:
			unknown = append(unknown, f)
		}
	}
	if len(unknown) > 0 && len(a.Formats) == 0 && !s.o.Offline && !s.asked[id] && !s.gone[id] {
		// A list page carries no formats: ask for the asset, once.
		if err := s.get(ctx, id); err != nil {
			return nil, err
		}
		return s.formatsFor(ctx, t, id)
	}
	if len(unknown) > 0 && len(a.Formats) == 0 && (s.o.Offline || s.gone[id]) {
		// Offline with no formats known: what the target wants is missing.
		out = append(out, unknown...)
		unknown = nil
	}
	if len(unknown) > 0 && api.Status(a.Status) == api.StatusReady {
		var u []string
		for _, f := range unknown {
			u = append(u, f.Short())
		}
		s.warn("asset %s (%s) does not offer %s; target %s gets the rest", id, s.name(id), strings.Join(u, ", "), t.Dir)
	}
	if len(out) == 0 && a.Status != "" && api.Status(a.Status) != api.StatusReady {
		s.warn("asset %s (%s) is %s, not ready: not placed in %s (run gizmo prepare --update when it is)", id, s.name(id), a.Status, t.Dir)
	}
	return out, nil
}

func (s *slow) cached(id string, f formats.Format) bool {
	_, err := s.cache.Entry(id, string(f))
	return err == nil
}

// fetch gets the files the cache lacks through the sync engine (recorded
// URLs reused, ETags checked, cut-short downloads restarted); a file that
// fails, or whose asset is gone from the account, is an error.
func (s *slow) fetch(ctx context.Context, items []gsync.Item) error {
	r, err := s.api()
	if err != nil {
		return err
	}
	gone := map[gsync.Item]bool{}
	sum, err := gsync.Fetch(ctx, r, s.cache, items, gsync.Options{
		Concurrency: fetchConcurrency,
		OnEvent: func(ev gsync.Event) {
			switch ev.Type {
			case gsync.EventStart:
				s.logf("fetching %s (%s) %s", ev.ID, ev.Name, ev.Format.Short())
			case gsync.EventRetry:
				s.logf("retrying %s (%s) %s: %s", ev.ID, ev.Name, ev.Format.Short(), ev.Reason)
			case gsync.EventSkip:
				gone[gsync.Item{ID: ev.ID, Name: ev.Name, Format: ev.Format}] = true
			}
		},
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range sum.Failures {
		errs = append(errs, fmt.Errorf("fetch asset %s (%s) %s: %s", f.ID, s.name(f.ID), f.Format.Short(), f.Reason))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, it := range items {
		if gone[it] {
			s.gone[it.ID] = true // reported as not placed
		}
	}
	return nil
}

// fetchConcurrency bounds prepare's downloads in flight.
const fetchConcurrency = 4

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
