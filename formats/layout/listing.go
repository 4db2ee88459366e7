package layout

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// versionList is one reading of <dir>/.gizmo: each slug's version folders,
// and sidecars left without their folder, by name. Placing or collecting
// many assets reads the folder once and looks each asset up here, instead
// of reading the whole folder (two entries per asset) once per asset and
// step: with thousands of assets that was most of the work.
type versionList map[string][]string

// readVersions reads <dir>/.gizmo once and removes what interrupted runs
// left in it (see sweepStale).
func (t Target) readVersions() versionList {
	state := filepath.Join(t.Dir, stateDir)
	ents, err := os.ReadDir(state)
	if err != nil {
		return versionList{}
	}
	sweepStale(state, ents)
	return groupVersions(ents)
}

// groupVersions sorts the entries of <dir>/.gizmo that name versions by
// slug; ents come in name order, and so do each slug's versions.
func groupVersions(ents []fs.DirEntry) versionList {
	out := versionList{}
	seen := map[string]bool{}
	for _, e := range ents {
		v := strings.TrimSuffix(e.Name(), ".json")
		slug, _, ok := strings.Cut(v, "@")
		if !ok || validSlug(slug) == "" || !validVersion(v, slug) || seen[v] {
			continue
		}
		seen[v] = true
		out[slug] = append(out[slug], v)
	}
	return out
}

// slugs lists the slugs that have versions, in order.
func (vl versionList) slugs() []string {
	out := make([]string, 0, len(vl))
	for s := range vl {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// staleAfter is how old a temp folder, file or link in <dir>/.gizmo must
// be to be taken for the leftover of an interrupted run rather than the
// work of a run going on beside this one.
const staleAfter = time.Hour

// sweepStale removes the leftovers of interrupted runs among the entries
// of <dir>/.gizmo: temp version folders and sidecars (tmp-...) and temp
// links (link-...) older than staleAfter.
func sweepStale(state string, ents []fs.DirEntry) {
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "tmp-") && !strings.HasPrefix(e.Name(), "link-") {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
			os.RemoveAll(filepath.Join(state, e.Name()))
		}
	}
}
