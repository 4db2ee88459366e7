package layout

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// LinkMode says how placed files other than the rewritten model files are
// made from the source tree.
type LinkMode string

// The link modes.
const (
	// Copy writes an independent copy: the project works without the cache,
	// inside a container that mounts only the project, and a simulator that
	// edits a placed file cannot touch the cache. The default.
	Copy LinkMode = "copy"
	// Hardlink links the cache's files (read-only) into the project, falling
	// back to a copy across filesystems. No extra disk space.
	Hardlink LinkMode = "hardlink"
	// Symlink points at the files of the cache's immutable trees; the project
	// breaks when the cache is cleaned or not mounted.
	Symlink LinkMode = "symlink"
)

// DefaultLink is the link mode used when a target names none.
const DefaultLink = Copy

// ParseLinkMode accepts copy, hardlink or symlink ("" means DefaultLink).
func ParseLinkMode(s string) (LinkMode, error) {
	switch m := LinkMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return DefaultLink, nil
	case Copy, Hardlink, Symlink:
		return m, nil
	}
	return "", fmt.Errorf("unknown link mode %q: use copy, hardlink or symlink", s)
}

// placedPerm is the mode of placed files: read-only, since prepare puts
// back whatever differs from what it placed.
const placedPerm = 0o444

// tree is a source folder: an extracted export, read but never written.
type tree struct {
	root  string // absolute path
	files []string
	set   map[string]bool // slash-separated paths relative to root
}

func openTree(root string) (*tree, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	t := &tree{root: abs, set: make(map[string]bool)}
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil // directories, and never a symlink out of the tree
		}
		rel, err := filepath.Rel(abs, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		t.files = append(t.files, rel)
		t.set[rel] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read source folder %s: %w", root, err)
	}
	return t, nil
}

// has reports whether rel names a regular file of the tree.
func (t *tree) has(rel string) bool { return t.set[rel] }

func (t *tree) abs(rel string) string { return filepath.Join(t.root, filepath.FromSlash(rel)) }

// inside cleans a slash path relative to the tree root and reports whether it
// stays inside the tree.
func inside(p string) (string, bool) {
	p = path.Clean(p)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) {
		return p, false
	}
	return p, true
}

// bySuffix finds the file of the tree whose path ends with the longest
// trailing part of p (an absolute path or URI path written on another
// machine). It returns "" when no file matches or two match equally.
func (t *tree) bySuffix(p string) string {
	parts := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	for i := 0; i < len(parts); i++ {
		suf := strings.Join(parts[i:], "/")
		if suf == "" || suf == ".." {
			continue
		}
		var found []string
		for _, f := range t.files {
			if f == suf || strings.HasSuffix(f, "/"+suf) {
				found = append(found, f)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
		if len(found) > 1 {
			return ""
		}
	}
	return ""
}

// commonDir is the deepest directory holding every path (slash-separated,
// relative); "" is the root.
func commonDir(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	dir := path.Dir(paths[0])
	for _, p := range paths[1:] {
		for dir != "." && !strings.HasPrefix(p, dir+"/") {
			dir = path.Dir(dir)
		}
	}
	if dir == "." {
		return ""
	}
	return dir
}

// relTo returns p relative to dir ("" is the root); p must be inside dir.
func relTo(dir, p string) string {
	if dir == "" {
		return p
	}
	return strings.TrimPrefix(p, dir+"/")
}

// writer writes one version folder.
type writer struct {
	dir  string // the version folder being built
	link LinkMode
}

// file writes data at rel (slash-separated) inside the version folder.
func (w *writer) file(rel string, data []byte) error {
	dst, err := w.dst(rel)
	if err != nil {
		return err
	}
	return writeNew(dst, data)
}

// place makes rel inside the version folder from src according to the link
// mode.
func (w *writer) place(rel, src string) error {
	dst, err := w.dst(rel)
	if err != nil {
		return err
	}
	switch w.link {
	case Symlink:
		return os.Symlink(src, dst)
	case Hardlink:
		err := os.Link(src, dst)
		if err == nil {
			// The inode is the cache's: keep it read-only for both.
			return os.Chmod(dst, placedPerm)
		}
		var le *os.LinkError
		if !(errors.As(err, &le) && (errors.Is(le.Err, syscall.EXDEV) || errors.Is(le.Err, syscall.EPERM) || errors.Is(le.Err, syscall.EMLINK))) {
			return err
		}
		// Across filesystems (or where links are refused): copy.
	}
	return copyNew(src, dst)
}

func (w *writer) dst(rel string) (string, error) {
	rel, ok := inside(rel)
	if !ok {
		return "", fmt.Errorf("refusing to write %q outside the asset folder", rel)
	}
	dst := filepath.Join(w.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if _, err := os.Lstat(dst); err == nil {
		return "", fmt.Errorf("two files would be placed at %s", rel)
	}
	return dst, nil
}

// writeNew and copyNew create a file of a version folder being built. They
// do not flush it: PlaceAll makes a whole batch of version folders durable
// with one flush before any of them is switched in (see flushVersions).
func writeNew(dst string, data []byte) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, placedPerm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyNew copies src to the new file dst. io.Copy between two files uses
// copy_file_range(2) on Linux, which shares the extents (a reflink, copy on
// write) on file systems that can, such as Btrfs and XFS.
func copyNew(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, placedPerm)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, in)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func randSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maxModelSize bounds the model files read into memory.
const maxModelSize = 256 << 20

func readFile(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxModelSize {
		return nil, fmt.Errorf("%s: %d bytes is too large for a model file", p, fi.Size())
	}
	return os.ReadFile(p)
}

func xmlEscapeTo(w io.Writer, s string) error { return xml.EscapeText(w, []byte(s)) }

func readHead(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 512)
	n, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:n], err
}
