package layout

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// supersede records in a version's sidecar that it stopped being current
// now; collect removes it once that is more than Grace ago.
func (t Target) supersede(version string) {
	state := filepath.Join(t.Dir, stateDir)
	sc, _ := readSidecar(state, version)
	now := t.now()
	sc.Superseded = &now
	_ = writeSidecar(state, version, sc)
}

// collect removes the slug's version folders superseded more than Grace
// ago, except the current one and the one it replaced (the one superseded
// last). A version with no record of when it was superseded (left by an
// interrupted run or an older gizmo) is recorded as superseded now.
func (t Target) collect(slug string) { t.collectVersions(slug, t.versions(slug)) }

// collectVersions is collect among the slug's versions as listed.
func (t Target) collectVersions(slug string, versions []string) {
	state := filepath.Join(t.Dir, stateDir)
	cur := t.current(slug)
	now := t.now()
	type old struct {
		version string
		at      time.Time
	}
	var olds []old
	for _, v := range versions {
		if v == cur {
			continue
		}
		if sc, _ := readSidecar(state, v); sc.Superseded != nil {
			olds = append(olds, old{v, *sc.Superseded})
		} else {
			t.supersede(v) // kept for Grace from now
		}
	}
	sort.Slice(olds, func(i, j int) bool { return olds[i].at.After(olds[j].at) })
	for i, o := range olds {
		if (i == 0 && cur != "") || now.Sub(o.at) <= Grace {
			continue
		}
		// The folder first: a sidecar left alone is collected next time.
		if os.RemoveAll(filepath.Join(state, o.version)) == nil {
			os.Remove(filepath.Join(state, o.version+".json"))
			flushed.Delete(flushKey(state, o.version))
		}
	}
}

// Collect removes the version folders of every asset of the target that
// were superseded more than Grace ago (see Grace), including those of
// assets removed since. gizmo prepare calls it after placing.
func (t Target) Collect() {
	vl := t.readVersions()
	for _, slug := range vl.slugs() {
		t.collectVersions(slug, vl[slug])
	}
}

// Remove unlinks an asset's folder; its version folders are removed by a
// later Place, Remove or Collect once superseded more than Grace ago.
func (t Target) Remove(slug string) error {
	if validSlug(slug) == "" {
		return fmt.Errorf("%q is not a slug", slug)
	}
	link := t.Path(slug)
	if fi, err := os.Lstat(link); err == nil {
		if fi.Mode()&os.ModeSymlink == 0 {
			return fmt.Errorf("%s was not placed by gizmo; leaving it", link)
		}
		prev := t.current(slug)
		if err := os.Remove(link); err != nil {
			return err
		}
		if prev != "" {
			t.supersede(prev)
		}
	}
	t.collect(slug)
	return nil
}
