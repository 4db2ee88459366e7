package validator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/validate"
)

// Limits on the archives Path opens. An archive over them is refused, not
// partly checked.
const (
	MaxArchiveEntries = 10000
	MaxArchiveBytes   = 1 << 30 // total uncompressed size
)

// The limits in force; tests lower them.
var (
	maxArchiveEntries       = MaxArchiveEntries
	maxArchiveBytes   int64 = MaxArchiveBytes
)

// ErrUnsafeArchive is the cause of every refused archive.
var ErrUnsafeArchive = errors.New("unsafe archive")

// checkArchive extracts a zip to a temporary folder and validates what it holds.
// Reports name files as "<display>!/<entry>". A refused or unreadable
// archive yields one report with an error.
func checkArchive(ctx context.Context, zipPath string, opts validate.Options, display string) []validate.Report {
	fail := func(rule string, err error) []validate.Report {
		r := validate.Report{Path: display, Format: formats.KindZip}
		r.Add(validate.Problem{Severity: validate.Error, Rule: rule, File: display,
			Message: err.Error()})
		return []validate.Report{r}
	}
	tmp, err := os.MkdirTemp("", "gizmo-validate-*")
	if err != nil {
		return fail("archive-unreadable", fmt.Errorf("cannot make a temporary folder to unpack the archive: %v", err))
	}
	defer os.RemoveAll(tmp)
	if err := Extract(ctx, zipPath, tmp); err != nil {
		rule := "archive-unreadable"
		if errors.Is(err, ErrUnsafeArchive) {
			rule = "archive-unsafe"
		}
		return fail(rule, err)
	}
	reports, err := dir(ctx, tmp, opts, display+"!", true)
	if err != nil {
		return fail("archive-unreadable", err)
	}
	if len(reports) == 0 {
		r := validate.Report{Path: display, Format: formats.KindZip}
		r.Add(validate.Problem{Severity: validate.Error, Rule: "archive-no-model", File: display,
			Message: "the archive holds no URDF, MJCF or USD file"})
		return []validate.Report{r}
	}
	return reports
}

// Extract unpacks the zip archive at zipPath into dest, which must be an
// empty folder or not exist yet. It refuses, with an error wrapping
// ErrUnsafeArchive that names the archive and the entry, everything
// internal/archive refuses (absolute paths, ".." steps, links and other
// special files, duplicate or case-colliding names, zip bombs), more than
// MaxArchiveEntries entries and more than MaxArchiveBytes in all; sizes are
// counted as bytes are written, not taken from the headers.
func Extract(ctx context.Context, zipPath, dest string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(zipPath)
	if err != nil {
		return fmt.Errorf("%s is not a readable zip archive: %v", zipPath, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s is not a readable zip archive: %v", zipPath, err)
	}
	// archive.Extract makes dest itself; an empty dest is given back.
	if err := os.Remove(dest); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unpack %s: %s must be an empty folder: %v", zipPath, dest, err)
	}
	lim := archive.DefaultLimits
	lim.MaxEntries = maxArchiveEntries
	lim.MaxTotalSize = maxArchiveBytes
	lim.MaxFileSize = maxArchiveBytes
	_, err = archive.Extract(f, fi.Size(), zipPath, dest, lim)
	if err != nil {
		if !errors.Is(err, archive.ErrHostile) {
			return err
		}
		return fmt.Errorf("%w: %w", err, ErrUnsafeArchive)
	}
	return nil
}
