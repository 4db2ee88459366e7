package oci

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/opencontainers/go-digest"
)

// layerFile is what goes into a layer: a regular file at a slash path.
type layerFile struct {
	path string // slash path inside the tar, under the title
	src  string // the file on disk
}

// builtLayer is a layer written to a temp file.
type builtLayer struct {
	file   string // the gzip'd tar
	digest digest.Digest
	size   int64
	diffID digest.Digest // the uncompressed tar's digest
	files  []BundleFile
}

// treeFiles lists the regular files below dir as layer files under title,
// in name order. Anything but regular files and folders is refused: the
// cache's trees hold nothing else.
func treeFiles(dir, title string) ([]layerFile, error) {
	var out []layerFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file; a bundle holds regular files only", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, layerFile{path: path.Join(title, filepath.ToSlash(rel)), src: p})
		return nil
	})
	return out, err
}

// writeLayer writes files as a deterministic tar.gz into a new temp file in
// tmpDir: names sorted, parent folders first, every mtime mtime, owners 0,
// modes 0644 and 0755. The same files give the same bytes.
func writeLayer(tmpDir string, files []layerFile, mtime time.Time) (_ *builtLayer, err error) {
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	f, err := os.CreateTemp(tmpDir, "oci-*.layer")
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	gzSum, tarSum := sha256.New(), sha256.New()
	counter := &countWriter{w: io.MultiWriter(f, gzSum)}
	gz, err := gzip.NewWriterLevel(counter, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(io.MultiWriter(gz, tarSum))
	mtime = mtime.UTC().Truncate(time.Second)
	dirs := map[string]bool{}
	var addDirs func(p string) error
	addDirs = func(p string) error {
		if p == "." || p == "/" || dirs[p] {
			return nil
		}
		if err := addDirs(path.Dir(p)); err != nil {
			return err
		}
		dirs[p] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX})
	}
	var listed []BundleFile
	for _, lf := range files {
		if err := addDirs(path.Dir(lf.path)); err != nil {
			return nil, err
		}
		sum, n, err := addFile(tw, lf, mtime)
		if err != nil {
			return nil, err
		}
		listed = append(listed, BundleFile{Path: lf.path, SHA256: sum, Size: n})
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return &builtLayer{
		file:   f.Name(),
		digest: digest.NewDigestFromBytes(digest.SHA256, gzSum.Sum(nil)),
		size:   counter.n,
		diffID: digest.NewDigestFromBytes(digest.SHA256, tarSum.Sum(nil)),
		files:  listed,
	}, nil
}

func addFile(tw *tar.Writer, lf layerFile, mtime time.Time) (string, int64, error) {
	src, err := os.Open(lf.src)
	if err != nil {
		return "", 0, err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return "", 0, err
	}
	if !st.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%s: not a regular file", lf.src)
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: lf.path, Size: st.Size(), Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), src)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", lf.src, err)
	}
	if n != st.Size() {
		return "", 0, fmt.Errorf("%s: changed while being read", lf.src)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
