package prepare

import (
	"bytes"
	"path"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/formats/project"
)

// plan is what a prepare will place, and the lock it would write.
type plan struct {
	assets    [][]layout.Asset // per target, by index
	lock      *project.Lock
	writeLock bool
}

// plan decides what each target gets (slugs kept from its state) and the
// lock that says so. A pinned prepare refuses what differs from the lock's
// pins (LockedError with Pinned), and --locked what differs from the lock
// at all.
func (s *slow) plan(selected []string, wants wanted, entries map[need]cache.Entry) (*plan, error) {
	newLock := &project.Lock{Manifest: s.m.Digest}
	p := &plan{assets: make([][]layout.Asset, len(s.targets)), lock: newLock}
	for i, t := range s.targets {
		var named []layout.Named
		for _, id := range selected {
			if len(wants[i][id]) > 0 {
				named = append(named, layout.Named{ID: id, Name: s.name(id)})
			}
		}
		slugs := layout.Slugs(named, t.state.Slugs())
		for _, nm := range named {
			a := layout.Asset{ID: nm.ID, Name: nm.Name, Slug: slugs[nm.ID]}
			for _, f := range wants[i][nm.ID] {
				e := entries[need{nm.ID, f}]
				src := layout.Source{Format: f, Hash: e.Hash, Tree: s.cache.TreePath(e), Model: e.Model, Kind: e.ModelKind}
				a.Sources = append(a.Sources, src)
				newLock.Entries = append(newLock.Entries, project.Entry{
					ID: nm.ID, Name: nm.Name, Format: f, Hash: e.Hash, Target: t.Dir,
					Path: path.Join(t.Dir, a.Slug, src.ModelPath(a.Slug)),
				})
			}
			p.assets[i] = append(p.assets[i], a)
		}
	}
	for _, u := range s.res.Unplaced {
		if u.Named {
			newLock.Unplaced = append(newLock.Unplaced, project.Unplaced{ID: u.ID, Name: u.Name, Status: u.Status})
		}
	}
	p.writeLock = !s.o.Locked
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
		if diff := s.lock.Diff(newLock, true); len(diff) > 0 && !s.o.Locked {
			return nil, &LockedError{Diff: diff, Pinned: true}
		}
		old, _ := s.lock.Marshal()
		now, _ := newLock.Marshal()
		p.writeLock = p.writeLock && !bytes.Equal(old, now)
	}
	if s.lock != nil && s.o.Locked {
		if diff := s.lock.Diff(newLock, false); len(diff) > 0 {
			return nil, &LockedError{Diff: diff}
		}
	}
	return p, nil
}
