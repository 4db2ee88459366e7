// Package archive extracts zip archives from untrusted sources into a fresh
// directory, refusing anything that could write outside it or exhaust the
// disk.
//
// Extract refuses, naming the archive and the entry: absolute paths, ".."
// escapes and other non-canonical names, backslashes, symlinks, hard links,
// device files and every other non-regular entry, duplicate entries, names
// that are not valid UTF-8 (or hold control characters) or that collide after
// case folding, a file that is also used as a directory, encrypted entries,
// more than Limits.MaxEntries entries, and decompressed sizes or compression
// ratios over the limits (zip bombs). Sizes are enforced on the bytes actually
// decompressed, not on what the headers claim. On any error the destination
// directory is removed, so nothing is left behind.
package archive

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrHostile is matched (errors.Is) by every refusal of a dangerous archive.
var ErrHostile = errors.New("hostile archive")

// Error is a refused archive: which archive, which entry, and why.
type Error struct {
	Archive string // a name for the archive, as given to Extract
	Entry   string // the entry's name as stored (quoted when printed)
	Reason  string
}

func (e *Error) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("archive %s refused: %s", e.Archive, e.Reason)
	}
	return fmt.Sprintf("archive %s refused: entry %q: %s", e.Archive, e.Entry, e.Reason)
}

// Is makes every *Error match ErrHostile.
func (e *Error) Is(target error) bool { return target == ErrHostile }

// Limits bound what an archive may expand to.
type Limits struct {
	MaxEntries   int     // entries, directories included
	MaxFileSize  int64   // decompressed bytes of one file
	MaxTotalSize int64   // decompressed bytes of all files
	MaxRatio     float64 // decompressed/compressed of one file, checked for files over RatioFloor
	RatioFloor   int64   // files smaller than this are exempt from MaxRatio
}

// DefaultLimits suit robot exports: a model file and its meshes and textures.
var DefaultLimits = Limits{
	MaxEntries:   10000,
	MaxFileSize:  2 << 30,
	MaxTotalSize: 8 << 30,
	MaxRatio:     200,
	RatioFloor:   1 << 20,
}

// File is one extracted regular file.
type File struct {
	Name  string // slash-separated path inside the tree
	Size  int64
	CRC32 uint32
	// Data is the file's contents, when OpenVerified was asked to keep them.
	Data []byte
}

// Check validates the archive's directory (names, types, declared sizes)
// without extracting anything. Extract calls it first.
func Check(zr *zip.Reader, archiveName string, lim Limits) error {
	if lim.MaxEntries > 0 && len(zr.File) > lim.MaxEntries {
		return &Error{Archive: archiveName, Reason: fmt.Sprintf("%d entries, more than the limit of %d", len(zr.File), lim.MaxEntries)}
	}
	seen := make(map[string]string)  // folded name → name
	dirs := make(map[string]string)  // folded implied directory → a name that implies it
	files := make(map[string]string) // folded file name → name
	var total int64
	for _, f := range zr.File {
		bad := func(format string, args ...any) error {
			return &Error{Archive: archiveName, Entry: f.Name, Reason: fmt.Sprintf(format, args...)}
		}
		name, isDir, err := checkName(f.Name)
		if err != nil {
			return bad("%v", err)
		}
		mode := f.Mode()
		switch {
		case mode&os.ModeSymlink != 0:
			return bad("is a symbolic link")
		case mode&(os.ModeDevice|os.ModeCharDevice) != 0:
			return bad("is a device file")
		case mode&os.ModeNamedPipe != 0:
			return bad("is a named pipe")
		case mode&os.ModeSocket != 0:
			return bad("is a socket")
		case mode&os.ModeIrregular != 0:
			return bad("is not a regular file")
		case mode.IsDir() != isDir && mode.IsDir():
			return bad("is a directory whose name lacks a trailing slash")
		case isDir && f.UncompressedSize64 > 0:
			return bad("is a directory with contents")
		}
		if typ := unixType(f); typ != 0 && typ != 0o100000 && typ != 0o040000 {
			return bad("has file type %#o: only regular files and directories are allowed", typ)
		}
		if f.Flags&0x1 != 0 {
			return bad("is encrypted")
		}
		key := fold(name)
		if prev, ok := seen[key]; ok {
			if prev == name {
				return bad("duplicate entry")
			}
			return bad("collides with %q after case folding", prev)
		}
		seen[key] = name
		// Every parent of this entry is a directory; none may be a file.
		for p := path.Dir(name); p != "."; p = path.Dir(p) {
			fp := fold(p)
			if other, ok := files[fp]; ok {
				return bad("needs %q to be a directory, but it is a file", other)
			}
			if _, ok := dirs[fp]; !ok {
				dirs[fp] = name
			}
		}
		if isDir {
			continue
		}
		if other, ok := dirs[key]; ok {
			return bad("is a file, but %q uses it as a directory", other)
		}
		files[key] = name
		size := f.UncompressedSize64
		if lim.MaxFileSize > 0 && size > uint64(lim.MaxFileSize) {
			return bad("decompresses to %d bytes, more than the limit of %d", size, lim.MaxFileSize)
		}
		total += int64(size)
		if lim.MaxTotalSize > 0 && (total > lim.MaxTotalSize || total < 0) {
			return bad("the archive decompresses to more than the limit of %d bytes", lim.MaxTotalSize)
		}
		if err := checkRatio(lim, int64(size), int64(f.CompressedSize64)); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

func checkRatio(lim Limits, size, compressed int64) error {
	if lim.MaxRatio <= 0 || size < lim.RatioFloor || size <= 0 {
		return nil
	}
	if compressed <= 0 || float64(size)/float64(compressed) > lim.MaxRatio {
		return fmt.Errorf("compression ratio over %.0f:1 (zip bomb?)", lim.MaxRatio)
	}
	return nil
}

// unixType returns the Unix file type bits of an entry made on Unix, or 0.
func unixType(f *zip.File) uint32 {
	if f.CreatorVersion>>8 != 3 { // 3 = Unix
		return 0
	}
	return (f.ExternalAttrs >> 16) & 0o170000
}

// checkName validates an entry name and returns it without a trailing slash.
func checkName(raw string) (name string, isDir bool, err error) {
	if raw == "" {
		return "", false, errors.New("empty name")
	}
	if !utf8.ValidString(raw) {
		return "", false, errors.New("name is not valid UTF-8")
	}
	for _, r := range raw {
		if unicode.IsControl(r) {
			return "", false, errors.New("name holds a control character")
		}
	}
	if strings.Contains(raw, `\`) {
		return "", false, errors.New(`name holds a backslash`)
	}
	if strings.HasPrefix(raw, "/") || (len(raw) >= 2 && raw[1] == ':') {
		return "", false, errors.New("absolute path")
	}
	isDir = strings.HasSuffix(raw, "/")
	name = strings.TrimSuffix(raw, "/")
	for _, elem := range strings.Split(name, "/") {
		if elem == ".." {
			return "", false, errors.New("path escapes the archive with ..")
		}
	}
	if name == "" || name == "." || path.Clean(name) != name {
		return "", false, errors.New("name is not a clean relative path")
	}
	return name, isDir, nil
}

// fold maps a name to a key shared by every name that equals it under
// Unicode case folding (as case-insensitive file systems compare).
func fold(s string) string {
	return strings.ToLower(strings.ToUpper(s))
}

// Extract checks the zip (see Check), then writes its files under dest, which
// must not exist yet, with mode 0644 (directories 0755). Nothing is synced.
// It returns the regular files written, sorted by name. On error dest is
// removed.
func Extract(r io.ReaderAt, size int64, archiveName, dest string, lim Limits) (_ []File, err error) {
	return extract(r, size, archiveName, dest, lim, false)
}

// ExtractSealed is Extract for a tree that is about to be published: each
// file is created read-only (0444), which saves changing its mode later.
// The directories are left writable (0755). Nothing is synced: the caller
// seals the directories and makes the tree durable once it is complete.
func ExtractSealed(r io.ReaderAt, size int64, archiveName, dest string, lim Limits) (_ []File, err error) {
	return extract(r, size, archiveName, dest, lim, true)
}

// OpenVerified is Extract without writing anything: it checks the zip (see
// Check), decompresses every file to check its size, ratio and CRC-32, and
// returns the reader for further reading along with its regular files,
// sorted by name. What OpenVerified accepts, Extract extracts. When the files'
// declared sizes add up to at most keep bytes, each File also holds its
// contents (Data), decompressed once here for whoever reads them next
// (NewOverlayOf serves them).
func OpenVerified(r io.ReaderAt, size int64, archiveName string, lim Limits, keep int64) (*zip.Reader, []File, error) {
	zr, err := open(r, size, archiveName)
	if err != nil {
		return nil, nil, err
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	files, err := extractFrom(zr, archiveName, "", lim, false, total <= uint64(max(keep, 0)))
	if err != nil {
		return nil, nil, err
	}
	return zr, files, nil
}

func open(r io.ReaderAt, size int64, archiveName string) (*zip.Reader, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, &Error{Archive: archiveName, Reason: fmt.Sprintf("not a readable zip: %v", err)}
	}
	return zr, nil
}

// extract writes the zip under dest, or only reads it when dest is "".
func extract(r io.ReaderAt, size int64, archiveName, dest string, lim Limits, seal bool) (_ []File, err error) {
	zr, err := open(r, size, archiveName)
	if err != nil {
		return nil, err
	}
	return extractFrom(zr, archiveName, dest, lim, seal, false)
}

// extractFrom writes zr's files under dest (or only reads them when dest
// is ""), keeping their contents in File.Data when keep is set.
func extractFrom(zr *zip.Reader, archiveName, dest string, lim Limits, seal, keep bool) (_ []File, err error) {
	if err := Check(zr, archiveName, lim); err != nil {
		return nil, err
	}
	write := dest != ""
	if write {
		if err := os.Mkdir(dest, 0o755); err != nil {
			return nil, fmt.Errorf("extract %s: %w", archiveName, err)
		}
		defer func() {
			if err != nil {
				os.RemoveAll(dest)
			}
		}()
	}
	var out []File
	var total int64
	for _, f := range zr.File {
		name, isDir, _ := checkName(f.Name)
		target := ""
		if write {
			target = filepath.Join(dest, filepath.FromSlash(name))
		}
		if isDir {
			if write {
				if err := os.MkdirAll(target, 0o755); err != nil {
					return nil, fmt.Errorf("extract %s: %w", archiveName, err)
				}
			}
			continue
		}
		if write {
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return nil, fmt.Errorf("extract %s: %w", archiveName, err)
			}
		}
		remaining := int64(-1)
		if lim.MaxTotalSize > 0 {
			remaining = lim.MaxTotalSize - total
		}
		file, err := extractFile(f, target, archiveName, lim, remaining, seal, keep)
		if err != nil {
			return nil, err
		}
		total += file.Size
		file.Name = name
		out = append(out, file)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func extractFile(f *zip.File, target, archiveName string, lim Limits, remaining int64, seal, keep bool) (File, error) {
	bad := func(format string, args ...any) error {
		return &Error{Archive: archiveName, Entry: f.Name, Reason: fmt.Sprintf(format, args...)}
	}
	rc, err := f.Open()
	if err != nil {
		return File{}, bad("cannot be read: %v", err)
	}
	defer rc.Close()
	var w io.WriteCloser = nopWriteCloser{io.Discard}
	if target != "" {
		// O_EXCL: never follow or overwrite anything already there.
		mode := os.FileMode(0o644)
		if seal {
			mode = 0o444 // the descriptor opened here may still write
		}
		w, err = os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return File{}, fmt.Errorf("extract %s: entry %q: %w", archiveName, f.Name, err)
		}
	}
	// Enforce the limits on the bytes really produced: headers can lie.
	limit := int64(f.UncompressedSize64)
	if lim.MaxFileSize > 0 && limit > lim.MaxFileSize {
		limit = lim.MaxFileSize
	}
	if remaining >= 0 && limit > remaining {
		limit = remaining
	}
	var h hash.Hash32
	ws := []io.Writer{w}
	var kept *bytes.Buffer
	if keep {
		kept = bytes.NewBuffer(make([]byte, 0, limit))
		ws = append(ws, kept)
	}
	// archive/zip checks the CRC-32 the header gives when the entry is
	// read to its end, unless that CRC is 0 (unknown): only then is the
	// sum computed here.
	if f.CRC32 == 0 {
		h = crc32.NewIEEE()
		ws = append(ws, h)
	}
	dst := io.MultiWriter(ws...)
	n, err := io.Copy(dst, io.LimitReader(rc, limit+1))
	if err == nil && n > limit {
		err = bad("decompresses to more bytes than declared or allowed (zip bomb?)")
	} else if err == nil {
		err = checkRatio(lim, n, int64(f.CompressedSize64))
		if err != nil {
			err = bad("%v", err)
		}
	} else if !errors.Is(err, ErrHostile) {
		err = bad("cannot be decompressed: %v", err)
	}
	if cerr := w.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return File{}, err
	}
	sum := f.CRC32
	if h != nil {
		sum = h.Sum32()
	}
	file := File{Size: n, CRC32: sum}
	if kept != nil {
		file.Data = kept.Bytes()
	}
	return file, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
