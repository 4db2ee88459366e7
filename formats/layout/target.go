package layout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	// Kind is the model file's kind when the caller knows it (the cache
	// detects it from the file's bytes); it only tells ModelPath which USD
	// extension Place will choose. Place reads the bytes itself.
	Kind formats.Kind
}

// ModelPath is where Place puts the source's model file in <dir>/<slug>/,
// slash-separated (the Path of the Model it records), known before
// placing: mujoco <slug>.xml, the isaac URDF urdf/<slug>.urdf, the isaac
// USD <slug>.usda for a text layer and <slug>.usd otherwise. Without a
// Kind, a model named *.usda is taken for a text layer.
func (s Source) ModelPath(slug string) string {
	usda := s.Kind == formats.KindUSDA || s.Kind == formats.KindUnknown && strings.HasSuffix(s.Model, ".usda")
	return modelFile(s.Format, slug, usda)
}

// modelFile names a placed model file; usda says that a USD model is a
// text layer (formats.KindUSDA).
func modelFile(f formats.Format, slug string, usda bool) string {
	switch f {
	case formats.MuJoCo:
		return slug + ".xml"
	case formats.IsaacURDF:
		return "urdf/" + slug + ".urdf"
	}
	if usda {
		return slug + ".usda"
	}
	return slug + ".usd"
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

	clock func() time.Time // time.Now when nil
}

// Placed records one placed asset: which version folder holds it, its model
// files and every file's size, mtime and hash, so that Check can tell
// whether anything was deleted or modified.
type Placed struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Slug    string   `json:"slug"`
	Key     string   `json:"key"`
	Version string   `json:"version"` // folder name under <dir>/.gizmo: <slug>@<key>.<random>
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

// Grace is how long a superseded version folder is kept at least: a reader
// that resolved <dir>/<slug> before a swap has that long to finish with the
// version it found. Versions are removed on a later Place, Remove or
// Collect, never while they are current, and the one the current version
// replaced stays until it is replaced in turn.
const Grace = 10 * time.Minute

func (t Target) now() time.Time {
	if t.clock != nil {
		return t.clock()
	}
	return time.Now()
}

// Place makes <dir>/<slug> show the asset's sources. It reuses an intact
// version folder built from the same sources, or writes a new one under a
// name never used before and makes it durable; it then switches
// <dir>/<slug> to it with one rename of a symlink and removes the versions
// superseded more than Grace ago (see Grace). It never changes the state
// file: the caller records the returned Placed (see State). PlaceAll places
// several assets with their flushes shared.
func (t Target) Place(a Asset) (Placed, error) {
	ps, err := t.PlaceAll(context.Background(), []Asset{a})
	if err != nil {
		return Placed{}, err
	}
	return ps[0], nil
}

// build writes a new version folder for the asset and names it in p. It
// does not flush it (see flushVersions): until then it is not switched in,
// and a crash that tears it leaves files that do not match its sidecar, so
// that it is never reused.
func (t Target) build(a Asset, p *Placed) error {
	state := filepath.Join(t.Dir, stateDir)
	tmp := filepath.Join(state, "tmp-"+a.Slug+"-"+randSuffix())
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	w := &writer{dir: tmp, link: p.Link}
	// URDF first in the isaac layout, so that USD extras cannot claim urdf/.
	srcs := append([]Source(nil), a.Sources...)
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].Format == formats.IsaacURDF && srcs[j].Format != formats.IsaacURDF })
	for _, s := range srcs {
		if !t.Layout.Accepts(s.Format) {
			return fmt.Errorf("asset %s: the %s layout does not place %s exports", a.ID, t.Layout, s.Format)
		}
		tr, err := openTree(s.Tree)
		if err != nil {
			return fmt.Errorf("asset %s (%s): %w", a.ID, s.Format, err)
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
			return fmt.Errorf("place asset %s (%s) from %s: %w", a.ID, s.Format, s.Tree, err)
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
		return err
	}
	p.Files = files
	// A name no folder ever had: one that was removed may still be open in
	// a reader, which must not find other files under it.
	for {
		p.Version = a.Slug + "@" + p.Key + "." + randSuffix()
		dst := filepath.Join(state, p.Version)
		if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if _, err := os.Lstat(dst + ".json"); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
		break
	}
	ok = true
	// Files moved with the folder keep their mtimes.
	return writeNewSidecar(state, a.Slug, p.Version, sidecar{Models: p.Models, Files: p.Files})
}

// reusable finds an intact version folder of the slug built from sources
// with the given key, the current one first, among the slug's versions.
func (t Target) reusable(slug, key string, sources int, versions []string) (string, sidecar, bool) {
	state := filepath.Join(t.Dir, stateDir)
	cur := t.current(slug)
	var cands []string
	for _, v := range versions {
		if v != slug+"@"+key && !strings.HasPrefix(v, slug+"@"+key+".") {
			continue
		}
		if v == cur {
			cands = append([]string{v}, cands...)
		} else {
			cands = append(cands, v)
		}
	}
	for _, v := range cands {
		if sc, ok := intactVersion(state, v); ok && len(sc.Models) == sources {
			return v, sc, true
		}
	}
	return "", sidecar{}, false
}

// swap points <dir>/<slug> at the version folder with one rename and returns
// the version it pointed at before ("" if none). The caller makes the
// rename durable (an fsync of <dir>).
func (t Target) swap(slug, version string) (string, error) {
	link := t.Path(slug)
	if fi, err := os.Lstat(link); err == nil && fi.Mode()&os.ModeSymlink == 0 {
		return "", fmt.Errorf("%s exists and was not placed by gizmo; move it away and run again", link)
	}
	prev := t.current(slug)
	tmp := filepath.Join(t.Dir, stateDir, "link-"+slug+"-"+randSuffix())
	if err := os.Symlink(stateDir+"/"+version, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("switch %s to the new version: %w", link, err)
	}
	return prev, nil
}

// current is the version <dir>/<slug> points at, or "".
func (t Target) current(slug string) string {
	dest, err := os.Readlink(t.Path(slug))
	if err != nil {
		return ""
	}
	v, ok := strings.CutPrefix(filepath.ToSlash(dest), stateDir+"/")
	if !ok || !validVersion(v, slug) {
		return ""
	}
	return v
}

// versions lists the slug's version folders, and sidecars left without
// their folder, by name. Work on many slugs reads them all at once
// (readVersions).
func (t Target) versions(slug string) []string {
	ents, err := os.ReadDir(filepath.Join(t.Dir, stateDir))
	if err != nil {
		return nil
	}
	return groupVersions(ents)[slug]
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
