package validator

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/antimlabs/gizmo/formats"
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

// archive extracts a zip to a temporary folder and validates what it holds.
// Reports name files as "<display>!/<entry>". A refused or unreadable
// archive yields one report with an error.
func archive(ctx context.Context, zipPath string, opts validate.Options, display string) []validate.Report {
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

// Extract unpacks the zip archive at zipPath into dest, which must exist
// and be empty. It refuses (with an error wrapping ErrUnsafeArchive) entries
// with absolute paths or ".." steps, symbolic links and other special files,
// more than MaxArchiveEntries entries and more than MaxArchiveBytes in all;
// sizes are counted as bytes are written, not taken from the headers.
func Extract(ctx context.Context, zipPath, dest string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("%s is not a readable zip archive: %v", zipPath, err)
	}
	defer zr.Close()
	if len(zr.File) > maxArchiveEntries {
		return fmt.Errorf("%s has %d entries, more than the %d gizmo opens: %w", zipPath, len(zr.File), maxArchiveEntries, ErrUnsafeArchive)
	}
	// Refuse early what the headers already admit is too big; the real
	// sizes are counted while writing, since headers can lie.
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > uint64(maxArchiveBytes) {
			return fmt.Errorf("%s unpacks to more than %d bytes: %w", zipPath, maxArchiveBytes, ErrUnsafeArchive)
		}
	}
	var total int64
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		name, err := entryName(f.Name)
		if err != nil {
			return fmt.Errorf("%s: entry %q: %v: %w", zipPath, f.Name, err, ErrUnsafeArchive)
		}
		mode := f.Mode()
		target := filepath.Join(dest, filepath.FromSlash(name))
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		case mode&os.ModeSymlink != 0:
			return fmt.Errorf("%s: entry %q is a symbolic link; gizmo does not unpack links: %w", zipPath, f.Name, ErrUnsafeArchive)
		case !mode.IsRegular():
			return fmt.Errorf("%s: entry %q is not a regular file: %w", zipPath, f.Name, ErrUnsafeArchive)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		n, err := extractFile(f, target, maxArchiveBytes-total)
		total += n
		if err != nil {
			return fmt.Errorf("%s: entry %q: %w", zipPath, f.Name, err)
		}
	}
	return nil
}

// entryName cleans a zip entry name and refuses one that would land outside
// the destination.
func entryName(n string) (string, error) {
	if n == "" {
		return "", errors.New("empty name")
	}
	if strings.Contains(n, "\\") {
		return "", errors.New("backslash in name")
	}
	if strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':') {
		return "", errors.New("absolute path")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", errors.New(`".." in path`)
		}
	}
	c := path.Clean(n)
	if c == "." || c == "" {
		return "", errors.New("empty name")
	}
	return c, nil
}

// extractFile writes one entry, copying at most budget bytes.
func extractFile(f *zip.File, target string, budget int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if n > budget {
		return n, fmt.Errorf("the archive unpacks to more than %d bytes: %w", maxArchiveBytes, ErrUnsafeArchive)
	}
	return n, nil
}
