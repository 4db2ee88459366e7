package prepare

import (
	"path"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/formats/project"
)

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
