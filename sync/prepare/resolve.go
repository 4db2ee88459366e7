package prepare

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
)

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
	l, err := gsync.List(ctx, r)
	if err != nil {
		return fmt.Errorf("list assets: %w", err)
	}
	seen := make([]cache.AssetMeta, 0, len(l.Assets))
	ids := make(map[string]bool, len(l.Assets))
	for _, a := range l.Assets {
		ids[a.ID] = true
		seen = append(seen, s.merge(a))
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

// merge is the cache's record of an asset the API answered with, merged
// with what the cache knew (sync.MergeAsset).
func (s *slow) merge(a api.Asset) cache.AssetMeta {
	prev, known := s.metas[a.ID]
	return gsync.MergeAsset(a, prev, known)
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
	// client fetches and exports it as one. A scene may be edited
	// elsewhere, so it is always asked for (online): the cache drops its
	// exports when its revision has changed, and they are exported again.
	// Then what a target lists for itself ('gizmo place --layout').
	ids, scenes := append(slices.Clone(sel.IDs), sel.Scenes...), slices.Clone(sel.Scenes)
	for _, t := range s.targets {
		ids = append(append(ids, t.IDs...), t.Scenes...)
		scenes = append(scenes, t.Scenes...)
	}
	for _, id := range ids {
		if slices.Contains(out, id) {
			continue
		}
		m, known := s.metas[id]
		scene := m.Scene || slices.Contains(scenes, id)
		if !known || (scene || s.inListing != nil && !s.inListing[id]) && !s.o.Offline {
			// Unknown to the cache, missing from the listing, or a scene: ask.
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
		if a.Vanished || !s.byRule(a) {
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

// everywhere tells whether [assets] selects an asset, for every target.
func (s *slow) everywhere(id string) bool {
	sel := s.m.Assets
	if slices.Contains(sel.IDs, id) || slices.Contains(sel.Scenes, id) {
		return true
	}
	a, ok := s.metas[id]
	if !ok {
		return sel.All
	}
	return slices.Contains(sel.Names, a.Name) || s.byRule(a)
}

// byRule tells whether all = true or a tag of [assets] selects an asset.
// They select assets only: scenes are selected under scenes (or names),
// whether or not a sync has mirrored them into the cache.
func (s *slow) byRule(a cache.AssetMeta) bool {
	sel := s.m.Assets
	return !a.Scene && (sel.All || gsync.HasAnyTag(a.Tags, sel.Tags))
}

// elsewhere tells whether target t leaves out an asset another target lists
// for itself and [assets] does not select.
func (s *slow) elsewhere(t *target, id string) bool {
	if t.Lists(id) || s.everywhere(id) {
		return false
	}
	for _, o := range s.targets {
		if o.Lists(id) {
			return true
		}
	}
	return false
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

// get asks the API for one asset and records it.
func (s *slow) get(ctx context.Context, id string) error {
	r, err := s.api()
	if err != nil {
		return &NotFoundError{What: fmt.Sprintf("%s: asset %s is not in the cache (offline: run without --offline or 'gizmo sync')", s.m.Path, id)}
	}
	s.asked[id] = true
	a, err := getAsset(ctx, r, id, s.metas[id].Scene)
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

// cached tells whether the cache has an export stored (its download in
// place, not only indexed).
func (s *slow) cached(id string, f formats.Format) bool {
	_, err := s.cache.Stored(id, string(f))
	return err == nil
}

// open opens the cache (unless a run before this one did) and reads what it
// knows of the account; with --update (online) it lists the account again,
// once per run.
func (s *slow) open(ctx context.Context) error {
	if s.cache == nil {
		c, err := s.o.OpenCache()
		if err != nil {
			return err
		}
		s.cache = c
	}
	metas, err := s.cache.Assets()
	if err != nil {
		return err
	}
	s.metas = make(map[string]cache.AssetMeta, len(metas))
	for _, a := range metas {
		s.metas[a.ID] = a
	}
	if s.o.Update && !s.o.Offline {
		return s.list(ctx)
	}
	return nil
}

// wanted is, per target (by index), the formats to place of each selected
// asset.
type wanted []map[string][]formats.Format

// wanted returns which exports each target needs, and every export needed
// once, in order.
func (s *slow) wanted(ctx context.Context, selected []string) (wanted, []need, error) {
	perTarget := make(wanted, len(s.targets))
	var needs []need
	seenNeed := map[need]bool{}
	for i, t := range s.targets {
		perTarget[i] = map[string][]formats.Format{}
		for _, id := range selected {
			if s.elsewhere(t, id) && !(s.pinned && s.lockPins(id)) {
				continue // listed by another target only
			}
			fs, err := s.formatsFor(ctx, t, id)
			if err != nil {
				return nil, nil, err
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
	return perTarget, needs, nil
}

// sceneGetter is a Remote that reads a scene by its own route (the current
// generation's client).
type sceneGetter interface {
	GetScene(ctx context.Context, id string) (*api.Scene, error)
}

// getAsset reads an asset, or a scene the cache knows as one straight from
// the scene route (one request; Get would try the asset route first).
func getAsset(ctx context.Context, r Remote, id string, scene bool) (*api.Asset, error) {
	if sg, ok := r.(sceneGetter); ok && scene {
		sc, err := sg.GetScene(ctx, id)
		if err != nil {
			return nil, err
		}
		a := sc.AsAsset()
		return &a, nil
	}
	return r.Get(ctx, id)
}
