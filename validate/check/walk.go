package check

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/plural"
	"github.com/antimlabs/gizmo/validate"
)

// maxWalkDepth bounds how deep a walk goes below its root: deeper folders
// are skipped with a note (a loop that real paths do not show, such as a
// bind mount of a folder inside itself, ends here).
const maxWalkDepth = 64

// maxNamedSkips is how many skipped files a no-model message names.
const maxNamedSkips = 3

// modelExt reports whether a file's extension says it is a model (or a zip
// of models): such a file whose content is no model is an error, not a
// skip.
func modelExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".urdf", ".mjcf", ".usd", ".usda", ".usdc", ".zip", ".sdf":
		return true
	}
	return false
}

// candidate reports whether a walk looks inside a file: by extension, since
// a folder of meshes and textures is mostly not models. .xml files are then
// told apart by content.
func candidate(name string) bool {
	return modelExt(name) || strings.EqualFold(filepath.Ext(name), ".xml")
}

// walker is one walk of a folder: what it found to check, what it
// reported, what it skipped.
type walker struct {
	ctx       context.Context
	opts      validate.Options
	root      string
	display   string
	inArchive bool
	visited   map[string]string // real path of each folder walked → the path it was walked as
	found     []found
	reports   []validate.Report // problems found while walking (unreadable, unknown content)
	skipped   []Skipped
	files     int // regular files seen
}

type found struct {
	path string
	kind formats.Kind
}

// walkDir walks root, following symbolic links, and validates every model
// file below it. Files included by another model of the walk (MJCF
// <include>) are validated as part of that model only. inArchive is set for
// the folder an archive was extracted to: archives inside it are reported,
// not opened (no nesting, no zip-bomb chains).
func walkDir(ctx context.Context, root string, opts validate.Options, display string, inArchive bool) (*walker, error) {
	w := &walker{ctx: ctx, opts: opts, root: root, display: display, inArchive: inArchive, visited: map[string]string{}}
	if err := w.walk(root, 0); err != nil {
		return w, fmt.Errorf("validate %s: %w", display, err)
	}
	checked, err := w.check()
	w.reports = append(w.reports, checked...)
	sort.SliceStable(w.reports, func(i, j int) bool { return w.reports[i].Path < w.reports[j].Path })
	if err != nil {
		return w, err
	}
	return w, ctx.Err()
}

// name is how reports show path, a file below the root.
func (w *walker) name(path string) string {
	rel, err := filepath.Rel(w.root, path)
	if err != nil {
		rel = path
	}
	if w.display == "." {
		return filepath.ToSlash(rel)
	}
	return joinDisplay(strings.TrimSuffix(w.display, "/"), rel)
}

func (w *walker) skip(path, reason string) {
	w.skipped = append(w.skipped, Skipped{Path: w.name(path), Reason: reason})
}

// walk reads dir (at depth below the root) and everything below it. Only a
// cancelled context or an unreadable root stops it; an unreadable folder
// below the root is reported and the walk goes on.
func (w *walker) walk(dir string, depth int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	if real, err = filepath.Abs(real); err != nil {
		real = dir
	}
	if first, seen := w.visited[real]; seen {
		w.skip(dir, fmt.Sprintf("a link to a folder already walked as %s (a loop or a second link to it); not walked again", w.name(first)))
		return nil
	}
	w.visited[real] = dir
	if depth > maxWalkDepth {
		w.skip(dir, fmt.Sprintf("more than %d folders deep; not walked", maxWalkDepth))
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if depth == 0 {
			return err
		}
		r := validate.Report{Path: w.name(dir)}
		r.Add(validate.Problem{Severity: validate.Error, Rule: "path-unreadable", File: w.name(dir),
			Message: fmt.Sprintf("cannot read the folder, so nothing in it was checked: %v", err)})
		w.reports = append(w.reports, r)
		return nil
	}
	for _, e := range entries {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		p := filepath.Join(dir, e.Name())
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				w.skip(p, fmt.Sprintf("a symbolic link that leads nowhere (%v)", err))
				continue
			}
			mode = fi.Mode().Type()
		}
		switch {
		case mode.IsDir():
			if strings.HasPrefix(e.Name(), ".") {
				continue // .git, .cache: never models
			}
			if err := w.walk(p, depth+1); err != nil {
				return err
			}
		case mode.IsRegular():
			w.files++
			w.file(p, e.Name())
		case candidate(e.Name()):
			w.skip(p, validate.DescribeMode(mode)+", not a regular file; never read")
		}
	}
	return nil
}

// file looks at one regular file found in the walk.
func (w *walker) file(p, base string) {
	if !candidate(base) {
		return
	}
	s, err := detect(p, w.opts)
	switch {
	case err != nil:
		w.reports = append(w.reports, unreadable(w.name(p), err))
	case s.kind == formats.KindUnknown && modelExt(base):
		w.reports = append(w.reports, unknownFormat(w.name(p)))
	case s.kind == formats.KindUnknown && s.root != "":
		w.skip(p, fmt.Sprintf("an XML file whose root element is <%s>, not a model (<robot> or <mujoco>)", s.root))
	case s.kind == formats.KindUnknown:
		w.skip(p, "no XML root element; not a model")
	case s.utf16:
		w.reports = append(w.reports, encodingReport(s.kind, w.name(p)))
	default:
		w.found = append(w.found, found{p, s.kind})
	}
}

// nothingChecked is the report for a folder in which no model was found.
func (w *walker) nothingChecked(display string) validate.Report {
	r := validate.Report{Path: display}
	why := "the folder is empty"
	if w.files > 0 {
		why = "no URDF, MJCF or USD model among its " + plural.Count(w.files, "file", "files")
		if len(w.skipped) > 0 {
			var names []string
			for _, s := range w.skipped[:min(len(w.skipped), maxNamedSkips)] {
				names = append(names, s.Path)
			}
			if more := len(w.skipped) - len(names); more > 0 {
				names = append(names, fmt.Sprintf("%d more", more))
			}
			why += "; skipped " + strings.Join(names, ", ")
		}
	} else if len(w.skipped) > 0 {
		why = fmt.Sprintf("no model in it; %d things skipped", len(w.skipped))
	}
	r.Add(validate.Problem{Severity: validate.Error, Rule: "no-model", File: display,
		Message: "nothing was checked: " + why + "; name a model file or the folder that holds it"})
	return r
}

// check validates what the walk found, in parallel; reports keep the
// path order.
func (w *walker) check() ([]validate.Report, error) {
	included := map[string]bool{}
	for _, f := range w.found {
		inc := includer(f.kind)
		if inc == nil {
			continue
		}
		list, err := inc(f.path, w.opts)
		if err != nil {
			continue // the file's own check reports it
		}
		for _, l := range list {
			if !filepath.IsAbs(l) {
				l = filepath.Join(filepath.Dir(f.path), l)
			}
			if abs, err := filepath.Abs(l); err == nil {
				included[abs] = true
			}
		}
	}
	files := w.found
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	results := make([][]validate.Report, len(files))
	g, gctx := errgroup.WithContext(w.ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		if abs, err := filepath.Abs(f.path); err == nil && included[abs] {
			continue
		}
		name := w.name(f.path)
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			switch {
			case f.kind == formats.KindZip && w.inArchive:
				results[i] = []validate.Report{{Path: name, Format: formats.KindZip, Valid: true,
					NotChecked: []string{"an archive inside an archive is not opened; unpack it and validate it alone"}}}
			case f.kind == formats.KindZip:
				results[i] = checkArchive(gctx, f.path, w.opts, name)
			default:
				results[i] = []validate.Report{checkOne(f.path, f.kind, w.opts, name)}
			}
			return nil
		})
	}
	err := g.Wait()
	var out []validate.Report
	for _, rs := range results {
		out = append(out, rs...)
	}
	return out, err
}
