package prepare

import (
	"context"
	"fmt"
	"path"
	"sort"

	"github.com/antimlabs/gizmo/formats/layout"
)

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

// stage builds, before the targets' lock is taken, the version folders
// that placing will switch in (layout.Target.Stage), from a plan on the
// targets' states as they are now: under the lock, placing finds them
// intact and only switches them in. A folder the plan under the lock no
// longer wants is collected like any superseded one. A plan refused here
// (LockedError) or a folder that cannot be built is left to the placing
// under the lock, which meets it again; only ctx ending stops the run.
func (s *slow) stage(ctx context.Context, r *readied) error {
	for _, t := range s.targets {
		t.state = layout.ReadState(t.lt.Dir)
	}
	p, err := s.plan(r.selected, r.wants, r.entries)
	if err != nil {
		return nil
	}
	for i, t := range s.targets {
		var todo []layout.Asset
		for _, a := range p.assets[i] {
			if s.placed(t, a) {
				continue // a repair, if any, is made under the lock
			}
			todo = append(todo, a)
		}
		if err := t.lt.Stage(ctx, todo); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// placed tells whether the target's state has the asset placed from the
// same sources under the same slug (its files are checked apart).
func (s *slow) placed(t *target, a layout.Asset) bool {
	p := t.state.Assets[a.ID]
	return p != nil && p.Key == layout.VersionKey(t.Layout, t.Link, a.Sources) && p.Slug == a.Slug && p.Link == t.Link
}

// place places what is missing, changed or damaged in each target, removes
// what is no longer selected, and records each target's state.
func (s *slow) place(ctx context.Context, p *plan) error {
	for i, t := range s.targets {
		if err := s.placeTarget(ctx, t, p.assets[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *slow) placeTarget(ctx context.Context, t *target, assets []layout.Asset) error {
	keep := map[string]bool{}
	var todo []layout.Asset
	for _, a := range assets {
		keep[a.ID] = true
		p := t.state.Assets[a.ID]
		if s.placed(t, a) {
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
				return err
			}
		}
		todo = append(todo, a)
	}
	// One batch: the new version folders are built a few at once and made
	// durable with one flush before any is switched in. Stopped or failed,
	// what is placed stays whole; the next run records it (an intact
	// version folder is reused).
	placed, err := t.lt.PlaceAll(ctx, todo)
	if err != nil {
		return err
	}
	for i, a := range todo {
		s.logf("placed %s (%s) in %s/%s", a.ID, a.Name, t.Dir, a.Slug)
		t.state.Assets[a.ID] = &placed[i]
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
			return fmt.Errorf("record placement in %s: %w", t.lt.Dir, err)
		}
	}
	// Remove version folders superseded more than layout.Grace ago, of
	// every asset, including assets removed on earlier runs.
	t.lt.Collect()
	for _, a := range assets {
		p := t.state.Assets[a.ID]
		for _, mdl := range p.Models {
			s.res.Items = append(s.res.Items, item(t, p, mdl))
		}
	}
	return nil
}
