package prepare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/formats/project"
)

// target is a manifest target with its state.
type target struct {
	project.Target
	lt    layout.Target
	state *layout.State
	dirty bool
}

// slow is a prepare that resolves, fetches, validates and places.
type slow struct {
	o       Options
	m       *project.Manifest
	lock    *project.Lock
	targets []*target
	pinned  bool // the lock says which assets and hashes
	held    bool // the targets' lock is held (again)
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

// run is the slow prepare, phase by phase: what the manifest selects, the
// exports each target needs, fetching what the cache lacks, unpacking and
// validating it, building the new version folders (all without the
// targets' lock: another prepare of the project goes on meanwhile), then,
// holding the lock, the plan (and the lock file it would write), switching
// the placed versions and recording them.
func (s *slow) run(ctx context.Context) (*Result, error) {
	r, err := s.ready(ctx)
	if err != nil {
		return nil, err
	}
	if !s.held {
		// The new version folders are built before the lock is taken:
		// under it, placing only switches them in.
		if err := s.stage(ctx, r); err != nil {
			return nil, err
		}
		// One prepare at a time writes a target and gizmo.lock.
		unlock, err := lockTargets(ctx, s.targets)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if moved, err := s.lockMoved(); err != nil || moved {
			if err != nil {
				return nil, err
			}
			return s.again(ctx)
		}
	}
	return s.commit(ctx, r)
}

// readied is what ready found: the selected assets, the formats each
// target places of them, and the cache's entries, unpacked and valid.
type readied struct {
	selected []string
	wants    wanted
	entries  map[need]cache.Entry
}

// ready resolves the selection and makes sure the cache has, unpacked and
// validated, every export the targets need. It writes nothing in the
// project.
func (s *slow) ready(ctx context.Context) (*readied, error) {
	if err := s.open(ctx); err != nil {
		return nil, err
	}
	selected, err := s.selected(ctx)
	if err != nil {
		return nil, err
	}
	if selected, err = s.placeable(ctx, selected); err != nil {
		return nil, err
	}
	wants, needs, err := s.wanted(ctx, selected)
	if err != nil {
		return nil, err
	}
	entries, err := s.fetchMissing(ctx, needs)
	if err != nil {
		return nil, err
	}
	if len(s.dropped) > 0 {
		needs = slices.DeleteFunc(needs, func(n need) bool { return s.dropped[n.id] })
		selected = slices.DeleteFunc(selected, func(id string) bool { return s.dropped[id] })
	}
	if err := s.unpack(ctx, needs, entries); err != nil {
		return nil, err
	}
	if err := s.validate(ctx, needs, entries); err != nil {
		return nil, err
	}
	return &readied{selected: selected, wants: wants, entries: entries}, nil
}

// commit, under the targets' lock, reads each target's state again (another
// prepare may have placed meanwhile), plans, places, and writes gizmo.lock.
func (s *slow) commit(ctx context.Context, r *readied) (*Result, error) {
	for _, t := range s.targets {
		t.state = layout.ReadState(t.lt.Dir)
		t.dirty = false
	}
	p, err := s.plan(r.selected, r.wants, r.entries)
	if err != nil {
		return nil, err
	}
	if err := s.place(ctx, p); err != nil {
		return nil, err
	}
	sortItems(s.targets, s.res.Items)
	if p.writeLock {
		if err := p.lock.Write(s.o.Dir); err != nil {
			return nil, fmt.Errorf("write gizmo.lock: %w", err)
		}
	}
	return s.res, nil
}

// lockMoved tells whether gizmo.lock is no longer the one this run resolved
// from: another prepare wrote it meanwhile.
func (s *slow) lockMoved() (bool, error) {
	now, err := readLock(s.o.Dir)
	if err != nil {
		return false, err
	}
	if (now == nil) != (s.lock == nil) {
		return true, nil
	}
	if now == nil {
		return false, nil
	}
	a, errA := s.lock.Marshal()
	b, errB := now.Marshal()
	return errA != nil || errB != nil || !bytes.Equal(a, b), nil
}

// again resolves once more, holding the targets' lock, from the gizmo.lock
// another prepare wrote while this one fetched: what this one learnt (the
// cache, the API's answers) is kept, and what it fetched is in the cache.
// A pinned lock that is already in place makes it a no-op.
func (s *slow) again(ctx context.Context) (*Result, error) {
	s.logf("gizmo.lock was written by another prepare meanwhile: resolving again")
	lock, err := readLock(s.o.Dir)
	if err != nil {
		return nil, err
	}
	for _, t := range s.targets {
		t.state = layout.ReadState(t.lt.Dir)
	}
	pinned := !s.o.Update && lock != nil && lock.Manifest == s.m.Digest
	if pinned {
		if res, ok := fast(lock, s.targets, s.o.Verify); ok {
			res.NoOp = false
			res.Fetched = s.res.Fetched
			return res, nil
		}
	}
	if s.o.Locked && lock == nil {
		return nil, &LockedError{Diff: []string{"the project has no gizmo.lock"}}
	}
	n := newSlow(s.o, s.m)
	n.lock, n.targets, n.pinned, n.held = lock, s.targets, pinned, true
	n.cache, n.remote, n.listed, n.inListing = s.cache, s.remote, s.listed, s.inListing
	n.asked, n.gone = s.asked, s.gone
	n.res.Fetched = s.res.Fetched
	return n.run(ctx)
}

// readLock reads the project's gizmo.lock; nil when it has none.
func readLock(dir string) (*project.Lock, error) {
	lock, err := project.ReadLock(dir)
	if errors.Is(err, project.ErrNoLock) {
		return nil, nil
	}
	return lock, err
}

// need is one export of an asset that a target needs.
type need struct {
	id string
	f  formats.Format
}
