package archive

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
	"time"
)

// Overlay shows a zip as the folder it would be extracted to, without
// extracting it: a name under Root is served from the zip's entries, any
// other name from the operating system. Readers that take an Overlay (the
// validators do) see the same files, sizes and errors as after an
// extraction to Root, and no file is written.
type Overlay struct {
	root  string
	files map[string]overlayFile // slash path relative to root
	dirs  map[string]bool        // "." and every parent of a file
}

type overlayFile struct {
	data []byte    // the contents, decompressed already, or
	zf   *zip.File // a zip entry, or
	path string    // a file on disk
	size int64
}

// NewOverlay shows zr's regular files under root. zr must have passed
// Check; entries Check would refuse are left out.
func NewOverlay(root string, zr *zip.Reader) *Overlay {
	o := newOverlay(root)
	for _, f := range zr.File {
		name, isDir, err := checkName(f.Name)
		if err != nil || !f.Mode().IsRegular() && !isDir {
			continue
		}
		if isDir {
			o.addDirs(name)
			continue
		}
		o.files[name] = overlayFile{zf: f, size: int64(f.UncompressedSize64)}
		o.addDirs(path.Dir(name))
	}
	return o
}

// NewOverlayOf is NewOverlay that serves the files whose contents files
// holds (OpenVerified's, with Data) from memory instead of decompressing
// them again.
func NewOverlayOf(root string, zr *zip.Reader, files []File) *Overlay {
	o := NewOverlay(root, zr)
	for _, f := range files {
		if of, ok := o.files[f.Name]; ok && f.Data != nil && int64(len(f.Data)) == of.size {
			o.files[f.Name] = overlayFile{data: f.Data, size: of.size}
		}
	}
	return o
}

// NewFileOverlay shows the file at src as root/name (a single-file download
// seen as its tree).
func NewFileOverlay(root, name, src string, size int64) *Overlay {
	o := newOverlay(root)
	o.files[name] = overlayFile{path: src, size: size}
	o.addDirs(path.Dir(name))
	return o
}

func newOverlay(root string) *Overlay {
	return &Overlay{root: filepath.Clean(root), files: map[string]overlayFile{}, dirs: map[string]bool{".": true}}
}

func (o *Overlay) addDirs(d string) {
	for ; d != "." && d != "/" && d != ""; d = path.Dir(d) {
		o.dirs[d] = true
	}
}

// Root is the folder the zip is shown as.
func (o *Overlay) Root() string { return o.root }

// rel returns name relative to the root, slash-separated, and whether name
// is under the root.
func (o *Overlay) rel(name string) (string, bool) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", false
	}
	r, err := filepath.Rel(o.root, abs)
	if err != nil || !filepath.IsLocal(r) && r != "." {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// Open opens name for reading.
func (o *Overlay) Open(name string) (io.ReadCloser, error) {
	r, ok := o.rel(name)
	if !ok {
		return os.Open(name)
	}
	f, ok := o.files[r]
	switch {
	case ok && f.data != nil:
		return io.NopCloser(bytes.NewReader(f.data)), nil
	case ok && f.zf != nil:
		rc, err := f.zf.Open()
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return rc, nil
	case ok:
		return os.Open(f.path)
	case o.dirs[r]:
		// Reading a directory fails as it does on disk.
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: o.missing(r)}
}

// ReadFile returns the contents of name, as os.ReadFile would. Contents
// kept in memory (NewOverlayOf) are returned without a copy: the caller
// must not change them.
func (o *Overlay) ReadFile(name string) ([]byte, error) {
	if r, ok := o.rel(name); ok {
		if f, ok := o.files[r]; ok && f.data != nil {
			return f.data, nil
		}
	}
	rc, err := o.Open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	st, err := o.Stat(name)
	if err != nil {
		return nil, err
	}
	b := bytes.NewBuffer(make([]byte, 0, st.Size()+1))
	if _, err := b.ReadFrom(rc); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return b.Bytes(), nil
}

// Stat describes name.
func (o *Overlay) Stat(name string) (fs.FileInfo, error) {
	r, ok := o.rel(name)
	if !ok {
		return os.Stat(name)
	}
	if f, ok := o.files[r]; ok {
		return overlayInfo{name: path.Base(r), size: f.size}, nil
	}
	if o.dirs[r] {
		base := path.Base(r)
		if r == "." {
			base = filepath.Base(o.root)
		}
		return overlayInfo{name: base, dir: true}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: o.missing(r)}
}

// missing is the error for a name that is not there: ENOTDIR when a parent
// is a file, as on disk, else ENOENT.
func (o *Overlay) missing(r string) error {
	for d := path.Dir(r); d != "." && d != "/"; d = path.Dir(d) {
		if _, ok := o.files[d]; ok {
			return syscall.ENOTDIR
		}
	}
	return syscall.ENOENT
}

// overlayInfo describes a file or folder of an Overlay as an extraction
// into the cache would leave it: read-only.
type overlayInfo struct {
	name string
	size int64
	dir  bool
}

func (i overlayInfo) Name() string { return i.name }
func (i overlayInfo) Size() int64  { return i.size }
func (i overlayInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i overlayInfo) ModTime() time.Time { return time.Time{} }
func (i overlayInfo) IsDir() bool        { return i.dir }
func (i overlayInfo) Sys() any           { return nil }
