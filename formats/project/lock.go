package project

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/BurntSushi/toml"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// Lock is gizmo.lock: what a project's manifest resolved to.
type Lock struct {
	// Manifest is the digest of the gizmo.toml the lock was written for.
	Manifest string
	// Source and SourceDigest record the registry bundle the entries came
	// from (prepare --from, or source in gizmo.toml): the reference as
	// given and the manifest digest it resolved to. Empty for the API.
	Source       string
	SourceDigest string
	Entries      []Entry
	// Unplaced lists the assets the manifest names that could not be
	// placed (not ready, failed, deleted): prepare looks at them again on
	// its next run instead of calling the project complete.
	Unplaced []Unplaced
}

// Unplaced is an asset the manifest names that was not placed.
type Unplaced struct {
	ID     string `toml:"id"`
	Name   string `toml:"name"`
	Status string `toml:"status"` // the status on Gizmo, or "gone"
}

// Entry is one placed export.
type Entry struct {
	ID     string         `toml:"id"`
	Name   string         `toml:"name"`
	Format formats.Format `toml:"format"`
	Hash   string         `toml:"hash"`
	Target string         `toml:"target"` // the target's dir
	// Path is the placed model file, slash-separated, relative to the
	// project root.
	Path string `toml:"path"`
}

// Key identifies an entry: target, asset and format.
func (e Entry) Key() string { return e.Target + "\x00" + e.ID + "\x00" + string(e.Format) }

type rawLock struct {
	Version      int        `toml:"version"`
	Manifest     string     `toml:"manifest"`
	Source       string     `toml:"source,omitempty"`
	SourceDigest string     `toml:"source_digest,omitempty"`
	Asset        []Entry    `toml:"asset"`
	Unplaced     []Unplaced `toml:"unplaced,omitempty"`
}

const lockVersion = 1

const lockHeader = "# gizmo.lock: what gizmo.toml resolved to, written by 'gizmo place' and\n# 'gizmo prepare --update'. Commit it: 'gizmo prepare --locked' fails when\n# what it would place differs.\n"

// ErrNoLock is returned by ReadLock when the project has no gizmo.lock.
var ErrNoLock = errors.New("no " + LockFile)

// ReadLock reads the gizmo.lock of the project at dir.
func ReadLock(dir string) (*Lock, error) {
	p := filepath.Join(dir, LockFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoLock)
	}
	if err != nil {
		return nil, err
	}
	var raw rawLock
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: p, Line: pe.Position.Line, Msg: pe.Message + " (restore it from version control, or run 'gizmo prepare --update')"}
		}
		return nil, &Error{File: p, Msg: err.Error()}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0].String()
		return nil, &Error{File: p, Line: keyLines(data).first(k), Msg: fmt.Sprintf("unknown key %q (written by a newer gizmo?)", k)}
	}
	if raw.Version != lockVersion {
		return nil, &Error{File: p, Msg: fmt.Sprintf("lock version %d is not %d (written by another gizmo?); run 'gizmo prepare --update'", raw.Version, lockVersion)}
	}
	return &Lock{Manifest: raw.Manifest, Source: raw.Source, SourceDigest: raw.SourceDigest, Entries: raw.Asset, Unplaced: raw.Unplaced}, nil
}

// Sort orders the entries by target, id and format.
func (l *Lock) Sort() {
	sort.Slice(l.Entries, func(i, j int) bool { return l.Entries[i].Key() < l.Entries[j].Key() })
	sort.Slice(l.Unplaced, func(i, j int) bool { return l.Unplaced[i].ID < l.Unplaced[j].ID })
}

// Marshal renders the lock; the same lock gives the same bytes.
func (l *Lock) Marshal() ([]byte, error) {
	l.Sort()
	var b bytes.Buffer
	b.WriteString(lockHeader)
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(rawLock{Version: lockVersion, Manifest: l.Manifest, Source: l.Source, SourceDigest: l.SourceDigest, Asset: l.Entries, Unplaced: l.Unplaced}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write saves the lock in the project at dir (temp file + rename).
func (l *Lock) Write(dir string) error {
	data, err := l.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, LockFile), data, 0o644)
}

// Diff lists, one line per asset, how other (what would be placed) differs
// from l: an export whose hash changed, one that moved, one that is new, one
// that is gone. With fill, an export of an asset l lists as not placed is
// not counted as new: a pinned prepare fills those in once they can be.
func (l *Lock) Diff(other *Lock, fill bool) []string {
	filled := map[string]bool{}
	if fill {
		for _, u := range l.Unplaced {
			filled[u.ID] = true
		}
	}
	have := map[string]Entry{}
	for _, e := range l.Entries {
		have[e.Key()] = e
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range other.Entries {
		seen[e.Key()] = true
		old, ok := have[e.Key()]
		switch {
		case !ok && !filled[e.ID]:
			out = append(out, fmt.Sprintf("asset %s (%s) %s in %s: would be placed, but gizmo.lock does not list it", e.ID, e.Name, e.Format.Short(), e.Target))
		case ok && old.Hash != e.Hash:
			out = append(out, fmt.Sprintf("asset %s (%s) %s in %s: gizmo.lock has hash %s, would place %s", e.ID, e.Name, e.Format.Short(), e.Target, short(old.Hash), short(e.Hash)))
		case ok && old.Path != e.Path:
			out = append(out, fmt.Sprintf("asset %s (%s) %s in %s: gizmo.lock places it at %s, would place it at %s", e.ID, e.Name, e.Format.Short(), e.Target, old.Path, e.Path))
		}
	}
	for _, e := range l.Entries {
		if !seen[e.Key()] {
			out = append(out, fmt.Sprintf("asset %s (%s) %s in %s: listed in gizmo.lock, but would not be placed", e.ID, e.Name, e.Format.Short(), e.Target))
		}
	}
	sort.Strings(out)
	return out
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
