package layout

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// State is what a target holds: its placed assets by id. It lives in
// <dir>/.gizmo/state.json.
type State struct {
	Version int                `json:"version"`
	Layout  Layout             `json:"layout"`
	Assets  map[string]*Placed `json:"assets"`
}

// stateVersion is the version of the state file's shape.
const stateVersion = 1

// ReadState reads a target's state; a target never placed has an empty one.
// A state file gizmo cannot read is treated as empty, so everything is
// placed again.
func ReadState(dir string) *State {
	s := &State{Version: stateVersion, Assets: map[string]*Placed{}}
	data, err := os.ReadFile(filepath.Join(dir, stateDir, "state.json"))
	if err != nil {
		return s
	}
	var r State
	if json.Unmarshal(data, &r) != nil || r.Version != stateVersion {
		return s
	}
	for id, p := range r.Assets {
		if p != nil && validSlug(p.Slug) != "" && p.ID == id && validVersion(p.Version, p.Slug) {
			s.Assets[id] = p
		}
	}
	s.Layout = r.Layout
	return s
}

func validVersion(v, slug string) bool {
	return strings.HasPrefix(v, slug+"@") && !strings.ContainsAny(v, `/\`) && v != "." && v != ".."
}

// Slugs returns the slugs of the state's assets by id.
func (s *State) Slugs() map[string]string {
	out := make(map[string]string, len(s.Assets))
	for id, p := range s.Assets {
		out[id] = p.Slug
	}
	return out
}

// Write saves the state (temp file, fsync, rename).
func (s *State) Write(dir string) error {
	s.Version = stateVersion
	data, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, stateDir, "state.json"), append(data, '\n'), 0o644)
}

// sidecar is what a version folder holds, kept beside it in
// <dir>/.gizmo/<version>.json, so that the folder can be reused, and when it
// stopped being current.
type sidecar struct {
	Models     []Model    `json:"models"`
	Files      []File     `json:"files"`
	Superseded *time.Time `json:"superseded,omitempty"`
}

func writeSidecar(state, version string, s sidecar) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(state, version+".json"), data, 0o644)
}

// readSidecar reads a version's sidecar; ok is false when it is missing,
// unreadable or lists no file.
func readSidecar(state, version string) (s sidecar, ok bool) {
	data, err := os.ReadFile(filepath.Join(state, version+".json"))
	if err != nil || json.Unmarshal(data, &s) != nil {
		return sidecar{}, false
	}
	return s, len(s.Files) > 0
}

// intactVersion reports whether a version folder exists with every file
// its sidecar lists, each with its hash.
func intactVersion(state, version string) (sidecar, bool) {
	s, ok := readSidecar(state, version)
	if !ok {
		return s, false
	}
	for _, f := range s.Files {
		fp := filepath.Join(state, version, filepath.FromSlash(f.Path))
		fi, err := os.Stat(fp)
		if err != nil || fi.Size() != f.Size || fi.ModTime().UnixNano() != f.ModTime {
			return s, false
		}
		if sum, err := hashFile(fp); err != nil || sum != f.SHA256 {
			return s, false
		}
	}
	return s, true
}
