package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// Layout is a layout preset.
type Layout string

// The layout presets.
const (
	MuJoCo Layout = "mujoco"
	Isaac  Layout = "isaac"
)

// Layouts lists the presets in a stable order.
var Layouts = []Layout{Isaac, MuJoCo}

// ParseLayout accepts a preset's name.
func ParseLayout(s string) (Layout, error) {
	switch l := Layout(strings.ToLower(strings.TrimSpace(s))); l {
	case MuJoCo, Isaac:
		return l, nil
	}
	return "", fmt.Errorf("unknown layout %q: use mujoco or isaac", s)
}

// Formats lists the export formats the layout places, in placing order.
func (l Layout) Formats() []formats.Format {
	switch l {
	case MuJoCo:
		return []formats.Format{formats.MuJoCo}
	case Isaac:
		return []formats.Format{formats.IsaacUSD, formats.IsaacURDF}
	}
	return nil
}

// Accepts reports whether the layout places format f.
func (l Layout) Accepts(f formats.Format) bool {
	for _, g := range l.Formats() {
		if f == g {
			return true
		}
	}
	return false
}

// Source is one export of an asset, extracted into a folder that placement
// only reads (the cache's immutable tree).
type Source struct {
	Format formats.Format
	Hash   string // the export's content hash, recorded in the state and the lock
	Tree   string // the extracted export
	Model  string // the model file, slash-separated, relative to Tree
}

// Asset is what to place: an asset's identity, its slug (see Slugs) and the
// exports to place in its folder.
type Asset struct {
	ID      string
	Name    string
	Slug    string
	Sources []Source
}

// Target is a folder of a project laid out by one preset.
type Target struct {
	Dir    string
	Layout Layout
	Link   LinkMode
}

// Placed records one placed asset: which version folder holds it, its model
// files and every file's size, mtime and hash, so that Check can tell
// whether anything was deleted or modified.
type Placed struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Slug    string   `json:"slug"`
	Key     string   `json:"key"`
	Version string   `json:"version"` // folder name under <dir>/.gizmo
	Link    LinkMode `json:"link"`
	Models  []Model  `json:"models"`
	Files   []File   `json:"files"`
}

// Model is a placed model file.
type Model struct {
	Format formats.Format `json:"format"`
	Hash   string         `json:"hash"`
	// Path is slash-separated, relative to <dir>/<slug>. For the mujoco
	// layout Scene is the scene file beside it.
	Path  string `json:"path"`
	Scene string `json:"scene,omitempty"`
}

// File is a placed file as it was left.
type File struct {
	Path    string `json:"path"` // slash-separated, relative to the version folder
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime"` // Unix nanoseconds
	SHA256  string `json:"sha256"`
}

// stateDir is the folder of a target gizmo owns.
const stateDir = ".gizmo"

// layoutVersion changes when the placed output of a layout changes, so that
// prepare re-places what an older gizmo wrote.
const layoutVersion = "1"

// VersionKey is the name of the version folder for a set of sources: it
// changes when any export, the layout or the link mode does.
func VersionKey(l Layout, link LinkMode, sources []Source) string {
	lines := []string{"gizmo-layout " + layoutVersion, string(l), string(link)}
	for _, s := range sources {
		lines = append(lines, string(s.Format)+" "+s.Hash)
	}
	sort.Strings(lines[3:])
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:6])
}

// Path returns where the asset's folder is: <dir>/<slug>.
func (t Target) Path(slug string) string { return filepath.Join(t.Dir, slug) }

// Place writes a new version of the asset's folder beside the current one
// and switches <dir>/<slug> to it with one rename of a symlink; it then
// removes the versions older than the one replaced. It never changes the
// state file: the caller records the returned Placed (see State).
func (t Target) Place(a Asset) (Placed, error) {
	if validSlug(a.Slug) == "" {
		return Placed{}, fmt.Errorf("asset %s: %q is not a slug", a.ID, a.Slug)
	}
	if len(a.Sources) == 0 {
		return Placed{}, fmt.Errorf("asset %s: nothing to place", a.ID)
	}
	link := t.Link
	if link == "" {
		link = DefaultLink
	}
	p := Placed{ID: a.ID, Name: a.Name, Slug: a.Slug, Link: link, Key: VersionKey(t.Layout, link, a.Sources)}
	state := filepath.Join(t.Dir, stateDir)
	if err := os.MkdirAll(state, 0o755); err != nil {
		return Placed{}, fmt.Errorf("create %s: %w", state, err)
	}
	removeStale(state, "tmp-"+a.Slug+"-")
	// The same sources give the same folder: reuse a version folder that
	// is still intact (switching back to it is one rename).
	if files, ok := intactVersion(state, a.Slug+"@"+p.Key); ok {
		p.Version, p.Files = a.Slug+"@"+p.Key, files
		for _, m := range readModels(state, p.Version) {
			p.Models = append(p.Models, m)
		}
		if len(p.Models) == len(a.Sources) {
			prev, err := t.swap(a.Slug, p.Version)
			if err != nil {
				return Placed{}, err
			}
			t.collect(a.Slug, p.Version, prev)
			return p, nil
		}
		p.Models, p.Files = nil, nil
	}
	tmp := filepath.Join(state, "tmp-"+a.Slug+"-"+randSuffix())
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return Placed{}, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	w := &writer{dir: tmp, link: link}
	// URDF first in the isaac layout, so that USD extras cannot claim urdf/.
	srcs := append([]Source(nil), a.Sources...)
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].Format == formats.IsaacURDF && srcs[j].Format != formats.IsaacURDF })
	for _, s := range srcs {
		if !t.Layout.Accepts(s.Format) {
			return Placed{}, fmt.Errorf("asset %s: the %s layout does not place %s exports", a.ID, t.Layout, s.Format)
		}
		tr, err := openTree(s.Tree)
		if err != nil {
			return Placed{}, fmt.Errorf("asset %s (%s): %w", a.ID, s.Format, err)
		}
		var models []string
		switch s.Format {
		case formats.MuJoCo:
			models, err = buildMuJoCo(w, tr, s.Model, a.Slug)
		case formats.IsaacURDF:
			models, err = buildURDF(w, tr, s.Model, a.Slug)
		case formats.IsaacUSD:
			models, err = buildUSD(w, tr, s.Model, a.Slug, []string{"urdf"})
		}
		if err != nil {
			return Placed{}, fmt.Errorf("place asset %s (%s) from %s: %w", a.ID, s.Format, s.Tree, err)
		}
		m := Model{Format: s.Format, Hash: s.Hash, Path: models[0]}
		if len(models) > 1 {
			m.Scene = models[1]
		}
		p.Models = append(p.Models, m)
	}
	sort.Slice(p.Models, func(i, j int) bool { return p.Models[i].Format < p.Models[j].Format })
	files, err := recordFiles(tmp)
	if err != nil {
		return Placed{}, err
	}
	p.Files = files
	if err := syncTree(tmp); err != nil {
		return Placed{}, err
	}

	// Name the version; an existing folder of that name stays untouched
	// (a reader may be inside it).
	p.Version = a.Slug + "@" + p.Key
	for n := 2; ; n++ {
		err := os.Rename(tmp, filepath.Join(state, p.Version))
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) && !isNotEmpty(err) {
			return Placed{}, err
		}
		p.Version = fmt.Sprintf("%s@%s.%d", a.Slug, p.Key, n)
	}
	ok = true
	if err := writeSidecar(state, p); err != nil {
		return Placed{}, err
	}
	if err := syncDir(state); err != nil {
		return Placed{}, err
	}
	// Files moved with the folder keep their mtimes; record paths only.
	prev, err := t.swap(a.Slug, p.Version)
	if err != nil {
		return Placed{}, err
	}
	t.collect(a.Slug, p.Version, prev)
	return p, nil
}

// swap points <dir>/<slug> at the version folder with one rename and returns
// the version it pointed at before ("" if none).
func (t Target) swap(slug, version string) (string, error) {
	link := t.Path(slug)
	prev := ""
	if fi, err := os.Lstat(link); err == nil {
		if fi.Mode()&os.ModeSymlink == 0 {
			return "", fmt.Errorf("%s exists and was not placed by gizmo; move it away and run again", link)
		}
		if dest, err := os.Readlink(link); err == nil {
			prev = strings.TrimPrefix(filepath.ToSlash(dest), stateDir+"/")
		}
	}
	tmp := filepath.Join(t.Dir, stateDir, "link-"+slug+"-"+randSuffix())
	if err := os.Symlink(stateDir+"/"+version, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("switch %s to the new version: %w", link, err)
	}
	return prev, syncDir(t.Dir)
}

// collect removes the asset's version folders other than the current one and
// the one it replaced.
func (t Target) collect(slug, current, prev string) {
	state := filepath.Join(t.Dir, stateDir)
	ents, err := os.ReadDir(state)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		v := strings.TrimSuffix(n, ".json")
		if !strings.HasPrefix(n, slug+"@") || v == current || v == prev {
			continue
		}
		os.RemoveAll(filepath.Join(state, n))
	}
}

// Remove unlinks an asset's folder and its versions.
func (t Target) Remove(slug string) error {
	if validSlug(slug) == "" {
		return fmt.Errorf("%q is not a slug", slug)
	}
	link := t.Path(slug)
	if fi, err := os.Lstat(link); err == nil {
		if fi.Mode()&os.ModeSymlink == 0 {
			return fmt.Errorf("%s was not placed by gizmo; leaving it", link)
		}
		if err := os.Remove(link); err != nil {
			return err
		}
	}
	t.collect(slug, "", "")
	return nil
}

// removeStale removes leftovers of interrupted runs (older than an hour, so
// that a concurrent run's folder is left alone).
func removeStale(dir, prefix string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

func isNotEmpty(err error) bool {
	var le *os.LinkError
	return errors.As(err, &le) && strings.Contains(le.Err.Error(), "not empty")
}

// recordFiles lists every file of a version folder with its size, mtime and
// hash (following symlinks, as a simulator does).
func recordFiles(dir string) ([]File, error) {
	var out []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		sum, err := hashFile(p)
		if err != nil {
			return err
		}
		out = append(out, File{Path: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime().UnixNano(), SHA256: sum})
		return nil
	})
	return out, err
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// syncTree fsyncs every folder of a version folder (files were synced as
// they were written).
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return syncDir(p)
	})
}

// Check tells whether a placed asset is still as it was placed: the link
// points at its version and every file has its size and mtime (and, with
// verify, its hash). It returns one line per problem, naming the file.
func (t Target) Check(p Placed, verify bool) []string {
	var problems []string
	link := t.Path(p.Slug)
	dest, err := os.Readlink(link)
	if err != nil || filepath.ToSlash(dest) != stateDir+"/"+p.Version {
		problems = append(problems, fmt.Sprintf("%s: does not point at the placed version", link))
		return problems
	}
	vdir := filepath.Join(t.Dir, stateDir, p.Version)
	for _, f := range p.Files {
		fp := filepath.Join(vdir, filepath.FromSlash(f.Path))
		fi, err := os.Stat(fp)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: missing", filepath.Join(link, f.Path)))
		case fi.Size() != f.Size || fi.ModTime().UnixNano() != f.ModTime:
			problems = append(problems, fmt.Sprintf("%s: modified", filepath.Join(link, f.Path)))
		case verify:
			if sum, err := hashFile(fp); err != nil || sum != f.SHA256 {
				problems = append(problems, fmt.Sprintf("%s: modified (content differs)", filepath.Join(link, f.Path)))
			}
		}
	}
	return problems
}

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
	return WriteFileAtomic(filepath.Join(dir, stateDir, "state.json"), append(data, '\n'), 0o644)
}

// WriteFileAtomic writes data to a temp file beside name, fsyncs it and
// renames it over name, so a reader sees the old file or the new one.
func WriteFileAtomic(name string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	return syncDir(dir)
}

// sidecar is what a version folder holds, kept beside it in
// <dir>/.gizmo/<version>.json, so that the folder can be reused.
type sidecar struct {
	Models []Model `json:"models"`
	Files  []File  `json:"files"`
}

func writeSidecar(state string, p Placed) error {
	data, err := json.Marshal(sidecar{Models: p.Models, Files: p.Files})
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(state, p.Version+".json"), data, 0o644)
}

func readSidecar(state, version string) (sidecar, bool) {
	var s sidecar
	data, err := os.ReadFile(filepath.Join(state, version+".json"))
	if err != nil || json.Unmarshal(data, &s) != nil || len(s.Files) == 0 {
		return s, false
	}
	return s, true
}

func readModels(state, version string) []Model {
	s, _ := readSidecar(state, version)
	return s.Models
}

// intactVersion reports whether a version folder exists with every file
// its sidecar lists, each with its hash.
func intactVersion(state, version string) ([]File, bool) {
	s, ok := readSidecar(state, version)
	if !ok {
		return nil, false
	}
	for _, f := range s.Files {
		fp := filepath.Join(state, version, filepath.FromSlash(f.Path))
		fi, err := os.Stat(fp)
		if err != nil || fi.Size() != f.Size || fi.ModTime().UnixNano() != f.ModTime {
			return nil, false
		}
		if sum, err := hashFile(fp); err != nil || sum != f.SHA256 {
			return nil, false
		}
	}
	return s.Files, true
}
