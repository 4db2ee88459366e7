package check

import (
	"bytes"
	"io"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
)

// memoLimit is the largest model file read whole to tell its kind and kept
// for its checker; a larger one is read twice (its head, then by the
// checker).
const memoLimit = 1 << 20

// memoFS serves one file, already read in full, from memory and every other
// name (and Stat of every name) from the FS under it.
type memoFS struct {
	validate.FS
	name string
	data []byte
}

// Open returns the kept bytes for the memorised file.
func (m memoFS) Open(name string) (io.ReadCloser, error) {
	if name == m.name {
		return memoFile{bytes.NewReader(m.data)}, nil
	}
	return m.FS.Open(name)
}

// memoFile reads kept bytes; Len lets Options.ReadFile size its buffer.
type memoFile struct{ *bytes.Reader }

func (memoFile) Close() error { return nil }

// readWhole reads the file at path through opts.FS when the whole of it
// comes without error and within memoLimit; ok is false otherwise, and the
// caller goes the ordinary way (detect, then the checker reads the file).
func readWhole(path string, opts validate.Options) (data []byte, ok bool) {
	f, err := opts.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	var buf bytes.Buffer
	if fi, err := opts.Stat(path); err == nil && fi.Size() <= memoLimit {
		buf.Grow(int(fi.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(f, memoLimit+1)); err != nil || buf.Len() > memoLimit {
		return nil, false
	}
	return buf.Bytes(), true
}

// detectMemo is detect that, for an FS other than the operating system's
// (a downloaded zip shown as a folder, where every read decompresses), also
// returns options whose FS serves the model file from the bytes read here,
// so that its checker does not open and decompress it a second time. The
// checker reads the same bytes it would have read itself: the file is kept
// only when read in full without error.
func detectMemo(path string, opts validate.Options) (sniff, validate.Options, error) {
	if opts.FS == nil {
		s, err := detect(path, opts)
		return s, opts, err
	}
	data, ok := readWhole(path, opts)
	if !ok {
		s, err := detect(path, opts)
		return s, opts, err
	}
	s := sniffBytes(data)
	if (s.kind == formats.KindURDF || s.kind == formats.KindMJCF) && !s.utf16 {
		opts.FS = memoFS{FS: opts.FS, name: path, data: data}
	}
	return s, opts, nil
}
