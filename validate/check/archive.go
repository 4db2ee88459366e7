package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// checkArchive extracts a zip (read through opts.FS) to a temporary folder
// and validates what it holds, from the operating system. Reports name
// files as "<display>!/<entry>". A refused or unreadable archive yields one
// report with an error.
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
	if err := extractFS(ctx, opts, zipPath, tmp); err != nil {
		rule := "archive-unreadable"
		if errors.Is(err, ErrUnsafeArchive) {
			rule = "archive-unsafe"
		}
		return fail(rule, err)
	}
	inner := opts
	inner.FS = nil // the unpacked files are on disk
	w, err := walkDir(ctx, tmp, inner, display+"!", true)
	if err != nil {
		return fail("archive-unreadable", err)
	}
	reports := w.reports
	if len(reports) == 0 {
		r := validate.Report{Path: display, Format: formats.KindZip}
		r.Add(validate.Problem{Severity: validate.Error, Rule: "archive-no-model", File: display,
			Message: "the archive holds no URDF, MJCF or USD file"})
		return []validate.Report{r}
	}
	return reports
}

// extractFS unpacks the zip archive at zipPath into dest, which must be an
// empty folder or not exist yet. It refuses, with an error wrapping
// ErrUnsafeArchive that names the archive and the entry, everything
// internal/archive refuses (absolute paths, ".." steps, links and other
// special files, duplicate or case-colliding names, zip bombs), more than
// MaxArchiveEntries entries and more than MaxArchiveBytes in all; sizes are
// counted as bytes are written, not taken from the headers. It reads the
// archive through opts.FS; a file that is not an io.ReaderAt (a zip inside
// a zip shown as a folder) is read into memory, up to MaxArchiveBytes.
func extractFS(ctx context.Context, opts validate.Options, zipPath, dest string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := opts.Stat(zipPath)
	if err != nil {
		return fmt.Errorf("%s is not a readable zip archive: %v", zipPath, err)
	}
	f, err := opts.Open(zipPath)
	if err != nil {
		return fmt.Errorf("%s is not a readable zip archive: %v", zipPath, err)
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	size := fi.Size()
	if !ok {
		data, err := io.ReadAll(io.LimitReader(f, maxArchiveBytes+1))
		if err != nil {
			return fmt.Errorf("%s is not a readable zip archive: %v", zipPath, err)
		}
		if int64(len(data)) > maxArchiveBytes {
			return fmt.Errorf("%s is larger than %d bytes: %w", zipPath, maxArchiveBytes, ErrUnsafeArchive)
		}
		ra, size = bytes.NewReader(data), int64(len(data))
	}
	// archive.Extract makes dest itself; an empty dest is given back.
	if err := os.Remove(dest); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unpack %s: %s must be an empty folder: %v", zipPath, dest, err)
	}
	lim := archive.DefaultLimits
	lim.MaxEntries = maxArchiveEntries
	lim.MaxTotalSize = maxArchiveBytes
	lim.MaxFileSize = maxArchiveBytes
	_, err = archive.Extract(ra, size, zipPath, dest, lim)
	if err != nil {
		if !errors.Is(err, archive.ErrHostile) {
			return err
		}
		return fmt.Errorf("%w: %w", err, ErrUnsafeArchive)
	}
	return nil
}
