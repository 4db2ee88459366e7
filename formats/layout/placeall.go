package layout

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// placeConcurrency is how many version folders PlaceAll builds at once:
// building reads the source trees, rewrites the model files and hashes
// what it wrote, mostly from the page cache.
const placeConcurrency = 4

// PlaceAll places several assets of the target, each as Place does, in
// three steps whose flushes they share:
//
//  1. each asset's version folder is reused if an intact one was built
//     from the same sources, or built (a few at once) without being
//     flushed;
//  2. one flush makes every folder about to be switched in durable
//     (flushVersions: one syncfs(2) on Linux);
//  3. each <dir>/<slug> is switched to its folder with one rename of a
//     symlink, one fsync of <dir> makes the switches durable, and the
//     versions superseded more than Grace ago are removed.
//
// Nothing is switched before step 2 ends, so an error or a crash before
// then leaves every asset's previous version placed; a folder built but
// not switched in is reused by the next run if intact, else collected.
// Slugs must differ. It returns what it placed in the order of as, or the
// first error; after an error the caller records nothing (the next run
// finds the folders switched in and reuses them).
func (t Target) PlaceAll(ctx context.Context, as []Asset) ([]Placed, error) {
	ps, err := t.stage(ctx, as)
	if err != nil || len(as) == 0 {
		return nil, err
	}

	// 3. Switch, make the switches durable, collect.
	var swapErr error
	for i, a := range as {
		prev, err := t.swap(a.Slug, ps[i].Version)
		if err != nil {
			swapErr = err
			break
		}
		if prev != "" && prev != ps[i].Version {
			t.supersede(prev)
		}
	}
	if err := atomicfile.SyncDir(t.Dir); err != nil && swapErr == nil {
		swapErr = fmt.Errorf("make the switches in %s durable: %w", t.Dir, err)
	}
	if swapErr != nil {
		return nil, swapErr
	}
	vl := t.readVersions()
	for _, a := range as {
		t.collectVersions(a.Slug, vl[a.Slug])
	}
	return ps, nil
}

// Stage does PlaceAll's first two steps and switches nothing: each
// asset's version folder is found intact or built, and made durable. A
// PlaceAll of the same assets then reuses those folders, so that a caller
// can build outside a lock and hold it only for PlaceAll's switches. A
// folder staged and never switched in is collected like any other.
func (t Target) Stage(ctx context.Context, as []Asset) error {
	_, err := t.stage(ctx, as)
	return err
}

// stage checks as, then reuses or builds every version folder and makes
// durable those about to be switched in (PlaceAll's steps 1 and 2).
func (t Target) stage(ctx context.Context, as []Asset) ([]Placed, error) {
	link := t.Link
	if link == "" {
		link = DefaultLink
	}
	slugs := map[string]bool{}
	for _, a := range as {
		if validSlug(a.Slug) == "" {
			return nil, fmt.Errorf("asset %s: %q is not a slug", a.ID, a.Slug)
		}
		if len(a.Sources) == 0 {
			return nil, fmt.Errorf("asset %s: nothing to place", a.ID)
		}
		if slugs[a.Slug] {
			return nil, fmt.Errorf("asset %s: the slug %q is given to two assets", a.ID, a.Slug)
		}
		slugs[a.Slug] = true
	}
	if len(as) == 0 {
		return nil, nil
	}
	state := filepath.Join(t.Dir, stateDir)
	if err := os.MkdirAll(state, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", state, err)
	}

	// 1. Reuse or build every version folder.
	vl := t.readVersions()
	ps := make([]Placed, len(as))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(placeConcurrency)
	for i, a := range as {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			p, err := t.prepareVersion(a, link, vl[a.Slug])
			ps[i] = p
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// 2. Make durable what is about to be switched in. A reused folder is
	// flushed too: the run that built it may have stopped before its flush.
	var switching []string
	for i, a := range as {
		if t.current(a.Slug) != ps[i].Version {
			switching = append(switching, ps[i].Version)
		}
	}
	if err := flushVersions(state, switching); err != nil {
		return nil, fmt.Errorf("make the new versions in %s durable: %w (check free space and the disk)", state, err)
	}
	return ps, nil
}

// prepareVersion finds among the slug's versions, or builds, the version
// folder that will show a.
func (t Target) prepareVersion(a Asset, link LinkMode, versions []string) (Placed, error) {
	p := Placed{ID: a.ID, Name: a.Name, Slug: a.Slug, Link: link, Key: VersionKey(t.Layout, link, a.Sources)}
	state := filepath.Join(t.Dir, stateDir)
	// The same sources give the same folder: switching back to an intact
	// one is one rename. A folder is reused as it stands, never rebuilt in
	// place, so a reader inside it keeps reading the same files.
	if v, sc, ok := t.reusable(a.Slug, p.Key, len(a.Sources), versions); ok {
		p.Version, p.Models, p.Files = v, sc.Models, sc.Files
		if sc.Superseded != nil { // current again: no longer due for removal
			sc.Superseded = nil
			if err := writeSidecar(state, v, sc); err != nil {
				return p, err
			}
		}
		return p, nil
	}
	return p, t.build(a, &p)
}
