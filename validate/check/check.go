// Package check is the front door of validation: it checks a path (a
// model file, a folder of them, or a zip archive as Gizmo exports them),
// detects each file's format from its bytes, and hands it to the checker
// for that format (validate/urdf, validate/mjcf, validate/usd, validate/sdf).
// It is what a command with a path calls; the shared types it returns
// (validate.Report, validate.Options) live in the parent package validate,
// which checks nothing by itself.
package check

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/mjcf"
	"github.com/antimlabs/gizmo/validate/sdf"
	"github.com/antimlabs/gizmo/validate/urdf"
	"github.com/antimlabs/gizmo/validate/usd"
)

// checker is the checker for a kind of file, or nil for a kind no package
// of this build checks.
func checker(kind formats.Kind) func(path string, opts validate.Options) validate.Report {
	switch kind {
	case formats.KindURDF:
		return urdf.Check
	case formats.KindMJCF:
		return mjcf.Check
	case formats.KindUSDA, formats.KindUSDC:
		return usd.Check
	case formats.KindSDF:
		return sdf.Check
	}
	return nil
}

// includer lists the files a model file of kind pulls in (MJCF <include>),
// as absolute or path-relative file names, reading through opts.FS; nil for
// a kind that includes nothing. Files listed by another model of the same
// walk are validated as part of that model, not alone.
func includer(kind formats.Kind) func(path string, opts validate.Options) ([]string, error) {
	if kind == formats.KindMJCF {
		return mjcfIncludes
	}
	return nil
}

// mjcfIncludes lists what an MJCF model includes: mjcf.Includes when the
// model reads cleanly, else a plain scan of its <include file> elements (a
// model with errors still owns its fragments; they must not be validated
// alone). Files are read through opts.FS.
func mjcfIncludes(path string, opts validate.Options) ([]string, error) {
	if list, err := mjcf.Includes(path, opts); err == nil {
		return list, nil
	}
	return scanIncludes(path, opts), nil
}

// ErrNotFound is returned (wrapped) when a path given to Path does not exist.
var ErrNotFound = errors.New("no such file or directory")

// Result is what Validate found under one path.
type Result struct {
	// Reports has one report per model file, in path order, and one with
	// an error for each thing that could not be checked: a special file
	// named directly (rule path-not-regular), a folder with no model in it
	// (no-model), an unreadable folder or file below the path
	// (path-unreadable, file-unreadable), a file named like a model whose
	// content is no model (format-unknown).
	Reports []validate.Report
	// Skipped lists the files a walk looked at and did not check, with
	// why: an .xml file that is no model, a special file, a broken
	// symbolic link, a link to a folder already walked (a loop).
	Skipped []Skipped
}

// Skipped is a file or folder a walk left out, and why.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Path validates path as Validate does and returns its reports.
func Path(ctx context.Context, path string, opts validate.Options) ([]validate.Report, error) {
	res, err := Validate(ctx, path, opts)
	return res.Reports, err
}

// Validate validates path: a model file, a directory (recursively,
// following symbolic links to files and folders, each real folder once) or
// a zip archive. A file whose kind cannot be told from its bytes is
// reported with an error when it was named directly or carries a model's
// extension (.urdf, .mjcf, .usd, .usda, .usdc, .zip), and skipped with a
// note when it is an .xml file found in a folder (package.xml, launch
// files); files with other extensions (meshes, textures, READMEs) are not
// looked at. A folder in which nothing was checked gets a report with a
// no-model error: a run never passes what it never checked. A special file
// (FIFO, device) is never read. The error is for what stops the walk
// itself: a path that does not exist (wrapping ErrNotFound), an unreadable
// directory, a cancelled context.
//
// Files are read through opts.FS: a model file (or zip) given as path is
// stat'ed and opened there, and so is every file a model names. A directory
// is walked on the operating system (FS cannot list folders); the files
// found are then read through opts.FS. A zip is unpacked to a temporary
// folder on the operating system and validated there.
func Validate(ctx context.Context, path string, opts validate.Options) (Result, error) {
	fi, err := opts.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Result{}, fmt.Errorf("validate %s: %w", path, ErrNotFound)
		}
		return Result{}, fmt.Errorf("validate %s: %w", path, err)
	}
	switch {
	case fi.IsDir():
		w, err := walkDir(ctx, path, opts, path, false)
		if err != nil {
			return Result{Reports: w.reports, Skipped: w.skipped}, err
		}
		if len(w.reports) == 0 {
			w.reports = []validate.Report{w.nothingChecked(path)}
		}
		return Result{Reports: w.reports, Skipped: w.skipped}, nil
	case !fi.Mode().IsRegular():
		r := validate.Report{Path: path}
		r.Add(validate.Problem{Severity: validate.Error, Rule: "path-not-regular", File: path,
			Message: fmt.Sprintf("%s, not a file: gizmo validate reads model files, folders and zip archives, never special files; save the model to a file and validate that", validate.DescribeMode(fi.Mode()))})
		return Result{Reports: []validate.Report{r}}, nil
	}
	rs, err := file(ctx, path, opts, path, true)
	return Result{Reports: rs}, err
}

// file validates one file named directly (explicit) or found in a walk.
// display is the name reports use for it.
func file(ctx context.Context, path string, opts validate.Options, display string, explicit bool) ([]validate.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, checkOpts, err := detectMemo(path, opts)
	if err != nil {
		return []validate.Report{unreadable(display, err)}, nil
	}
	switch {
	case s.kind == formats.KindZip:
		return checkArchive(ctx, path, opts, display), nil
	case s.kind == formats.KindUnknown:
		if !explicit {
			return nil, nil
		}
		return []validate.Report{unknownFormat(display)}, nil
	case s.utf16:
		return []validate.Report{encodingReport(s.kind, display)}, nil
	}
	return []validate.Report{checkOne(path, s.kind, checkOpts, display)}, nil
}

// unreadable is the report for a file that could not be read.
func unreadable(display string, err error) validate.Report {
	r := validate.Report{Path: display}
	r.Add(validate.Problem{Severity: validate.Error, Rule: "file-unreadable", File: display,
		Message: fmt.Sprintf("cannot read the file: %v", err)})
	return r
}

// unknownFormat is the report for a file that should be a model and is not.
func unknownFormat(display string) validate.Report {
	r := validate.Report{Path: display}
	r.Add(validate.Problem{Severity: validate.Error, Rule: "format-unknown", File: display,
		Message: "not a model gizmo knows: expected a URDF (<robot> root), an MJCF (<mujoco> root), a USD file (#usda or PXR-USDC header) or a zip of them"})
	return r
}

// encodingReport is the report for a URDF or MJCF saved as UTF-16. The
// parsers of urdfdom (check_urdf), MuJoCo and Isaac Sim (all tinyxml2)
// read UTF-8 only: check_urdf stops with "Error document empty" or "Could
// not find the 'robot' element", MuJoCo with an XML parse error.
func encodingReport(kind formats.Kind, display string) validate.Report {
	r := validate.Report{Path: display, Format: kind}
	rule, reader := "urdf-encoding", "urdfdom (check_urdf) and Isaac Sim read"
	if kind == formats.KindMJCF {
		rule, reader = "mjcf-encoding", "MuJoCo reads"
	}
	r.Add(validate.Problem{Severity: validate.Error, Rule: rule, File: display,
		Message: fmt.Sprintf("the file is UTF-16 text; %s UTF-8 only and refuse it: save it as UTF-8 (iconv -f UTF-16 -t UTF-8 IN > OUT)", reader)})
	return r
}

// checkOne runs the checker for kind over path and renames the
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
