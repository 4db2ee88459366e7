package prepare

import (
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
// validating it, the plan (and the lock it would write), and placing.
func (s *slow) run(ctx context.Context) (*Result, error) {
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
	p, err := s.plan(selected, wants, entries)
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

// need is one export of an asset that a target needs.
type need struct {
	id string
	f  formats.Format
}
