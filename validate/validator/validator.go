// Package validator is the front door of validation: it takes a path (a
// model file, a folder of them, or a zip archive as Gizmo exports them),
// detects each file's format from its bytes, and hands it to the checker
// for that format (validate/urdf, validate/mjcf, validate/usd).
//
// Checkers plug in through Register so that a format package can be added
// without this one knowing it; the URDF checker is registered here.
package validator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/mjcf"
	"github.com/antimlabs/gizmo/validate/urdf"
	"github.com/antimlabs/gizmo/validate/usd"
)

// CheckFunc validates one model file, reading it and the files it names
// through opts.FS.
type CheckFunc func(path string, opts validate.Options) validate.Report

// IncludesFunc lists the files a model file pulls in (MJCF <include>), as
// absolute or path-relative file names. Files listed by another model of the
// same walk are validated as part of that model, not alone.
type IncludesFunc func(path string) ([]string, error)

// includesFunc is an IncludesFunc that reads through opts.FS.
type includesFunc func(path string, opts validate.Options) ([]string, error)

var (
	mu       sync.RWMutex
	checkers = map[formats.Kind]CheckFunc{}
	includes = map[formats.Kind]includesFunc{}
)

// Register installs the checker for a kind of file, replacing any earlier
// one. It is meant to be called from init functions.
func Register(kind formats.Kind, fn CheckFunc) {
	mu.Lock()
	defer mu.Unlock()
	checkers[kind] = fn
}

// RegisterIncludes installs the include lister for a kind of file. fn reads
// from the operating system, whatever Options.FS says.
func RegisterIncludes(kind formats.Kind, fn IncludesFunc) {
	registerIncludes(kind, func(path string, _ validate.Options) ([]string, error) { return fn(path) })
}

func registerIncludes(kind formats.Kind, fn includesFunc) {
	mu.Lock()
	defer mu.Unlock()
	includes[kind] = fn
}

func checker(kind formats.Kind) CheckFunc {
	mu.RLock()
	defer mu.RUnlock()
	return checkers[kind]
}

func includer(kind formats.Kind) includesFunc {
	mu.RLock()
	defer mu.RUnlock()
	return includes[kind]
}

func init() {
	Register(formats.KindURDF, urdf.Check)
	Register(formats.KindMJCF, mjcf.Check)
	Register(formats.KindUSDA, usd.Check)
	Register(formats.KindUSDC, usd.Check)
	registerIncludes(formats.KindMJCF, mjcfIncludes)
}

// mjcfIncludes lists what an MJCF model includes: mjcf.Includes when the
// model reads cleanly, else a plain scan of its <include file> elements (a
// model with errors still owns its fragments; they must not be validated
// alone). Files are read through opts.FS.
func mjcfIncludes(path string, opts validate.Options) ([]string, error) {
	if list, err := mjcf.IncludesWith(path, opts); err == nil {
		return list, nil
	}
	return scanIncludes(path, opts), nil
}

// ErrNotFound is returned (wrapped) when a path given to Path does not exist.
var ErrNotFound = errors.New("no such file or directory")

// headSize is how much of a file Detect needs.
const headSize = 4096

// Path validates path: a model file, a directory (recursively) or a zip
// archive. It returns one report per model file, in path order. A file
// whose kind cannot be told from its bytes is reported with an error when it
// was named directly and skipped when found while walking a directory
// (READMEs, meshes, textures). The error is for what stops the walk itself:
// a path that does not exist (wrapping ErrNotFound), an unreadable
// directory, a cancelled context.
//
// Files are read through opts.FS: a model file (or zip) given as path is
// stat'ed and opened there, and so is every file a model names. A directory
// is walked on the operating system (FS cannot list folders); the files
// found are then read through opts.FS. A zip is unpacked to a temporary
// folder on the operating system and validated there.
func Path(ctx context.Context, path string, opts validate.Options) ([]validate.Report, error) {
	fi, err := opts.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("validate %s: %w", path, ErrNotFound)
		}
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	if fi.IsDir() {
		return dir(ctx, path, opts, path, false)
	}
	return file(ctx, path, opts, path, true)
}

// file validates one file named directly (explicit) or found in a walk.
// display is the name reports use for it.
func file(ctx context.Context, path string, opts validate.Options, display string, explicit bool) ([]validate.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	kind, checkOpts, err := detectMemo(path, opts)
	if err != nil {
		r := validate.Report{Path: display}
		r.Add(validate.Problem{Severity: validate.Error, Rule: "file-unreadable", File: display,
			Message: fmt.Sprintf("cannot read the file: %v", err)})
		return []validate.Report{r}, nil
	}
	switch kind {
	case formats.KindZip:
		return checkArchive(ctx, path, opts, display), nil
	case formats.KindUnknown:
		if !explicit {
			return nil, nil
		}
		r := validate.Report{Path: display}
		r.Add(validate.Problem{Severity: validate.Error, Rule: "format-unknown", File: display,
			Message: "not a model gizmo knows: expected a URDF (<robot> root), an MJCF (<mujoco> root), a USD file (#usda or PXR-USDC header) or a zip of them"})
		return []validate.Report{r}, nil
	}
	return []validate.Report{checkOne(path, kind, checkOpts, display)}, nil
}

// checkOne runs the registered checker for kind over path and renames the
// report's paths to display.
func checkOne(path string, kind formats.Kind, opts validate.Options, display string) validate.Report {
	fn := checker(kind)
	if fn == nil {
		r := validate.Report{Path: display, Format: kind, Valid: true}
		r.NotChecked = append(r.NotChecked, fmt.Sprintf("%s files: this build of gizmo has no %s checker", kind, kind))
		return r
	}
	r := fn(path, opts)
	r.Format = kind
	if display != path {
		rename(&r, path, display)
	}
	return r
}

// rename rewrites the file names of a report made for path so that they
// read as display (a zip entry, a path as the user typed it).
func rename(r *validate.Report, path, display string) {
	fix := func(s string) string {
		if s == path {
			return display
		}
		// An included file, next to or below the model.
		dir := filepath.Dir(path)
		if rel, err := filepath.Rel(dir, s); err == nil && !strings.HasPrefix(rel, "..") && filepath.IsAbs(s) == filepath.IsAbs(dir) {
			return joinDisplay(displayDir(display), rel)
		}
		return s
	}
	r.Path = fix(r.Path)
	for i := range r.Errors {
		r.Errors[i].File = fix(r.Errors[i].File)
	}
	for i := range r.Warnings {
		r.Warnings[i].File = fix(r.Warnings[i].File)
	}
}

// displayDir is the folder part of a display name, keeping an archive's
// "x.zip!/" prefix.
func displayDir(display string) string {
	if i := strings.LastIndex(display, "/"); i >= 0 {
		return display[:i]
	}
	return "."
}

func joinDisplay(dir, rel string) string {
	rel = filepath.ToSlash(rel)
	if dir == "." {
		return rel
	}
	return dir + "/" + rel
}

// detect tells the kind of the file at path from its first bytes, read
// through opts.FS.
func detect(path string, opts validate.Options) (formats.Kind, error) {
	f, err := opts.Open(path)
	if err != nil {
		return formats.KindUnknown, err
	}
	defer f.Close()
	head := make([]byte, headSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return formats.KindUnknown, err
	}
	return formats.Detect(head[:n]), nil
}

// candidate reports whether a walk looks inside a file: by extension, since
// a folder of meshes and textures is mostly not models. .xml files are then
// told apart by content.
func candidate(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".urdf", ".xml", ".mjcf", ".usd", ".usda", ".usdc", ".zip":
		return true
	}
	return false
}

// dir walks root and validates every model file below it. Files included by
// another model of the walk (MJCF <include>) are validated as part of that
// model only.
// inArchive is set for the folder an archive was extracted to: archives
// inside it are reported, not opened (no nesting, no zip-bomb chains).
func dir(ctx context.Context, root string, opts validate.Options, display string, inArchive bool) ([]validate.Report, error) {
	type found struct {
		path string
		kind formats.Kind
	}
	var files []found
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !candidate(d.Name()) {
			return nil
		}
		kind, err := detect(p, opts)
		if err != nil || kind == formats.KindUnknown {
			return nil
		}
		files = append(files, found{p, kind})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("validate %s: %w", display, err)
	}
	included := map[string]bool{}
	for _, f := range files {
		inc := includer(f.kind)
		if inc == nil {
			continue
		}
		list, err := inc(f.path, opts)
		if err != nil {
			continue // the file's own check reports it
		}
		if len(list) == 0 {
			continue
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
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	// Check files in parallel; reports keep the path order.
	results := make([][]validate.Report, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		if abs, err := filepath.Abs(f.path); err == nil && included[abs] {
			continue
		}
		rel, err := filepath.Rel(root, f.path)
		if err != nil {
			rel = f.path
		}
		name := joinDisplay(strings.TrimSuffix(display, "/"), rel)
		if display == "." {
			name = filepath.ToSlash(rel)
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			switch {
			case f.kind == formats.KindZip && inArchive:
				results[i] = []validate.Report{{Path: name, Format: formats.KindZip, Valid: true,
					NotChecked: []string{"an archive inside an archive is not opened; unpack it and validate it alone"}}}
			case f.kind == formats.KindZip:
				results[i] = checkArchive(gctx, f.path, opts, name)
			default:
				results[i] = []validate.Report{checkOne(f.path, f.kind, opts, name)}
			}
			return nil
		})
	}
	err = g.Wait()
	var out []validate.Report
	for _, rs := range results {
		out = append(out, rs...)
	}
	if err != nil {
		return out, err
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, nil
}
