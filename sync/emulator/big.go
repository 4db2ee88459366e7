package emulator

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
)

// A big export is an asset's usual export with one more, large file in its
// zip (textures/payload.bin, Config.BigSize bytes, stored uncompressed), as
// Gizmo's USD exports with textures are. Its bytes are computed on demand
// from their offset, never held in memory: the payload is a ChaCha8 stream
// seeded by the asset, block by block, so any range can be served. Its CRC
// and the export's SHA-256 (the ETag) take one pass each, once per export.

// bigBlock is the payload's unit of generation: the size of io.Copy's
// reads, so that serving generates each block once.
const bigBlock = 32 << 10

var blockBufs = sync.Pool{New: func() any { b := make([]byte, bigBlock); return &b }}

// bigPayloadName is the payload's name in the zip.
const bigPayloadName = "textures/payload.bin"

// bigExport is a zip laid out as segments: literal bytes (the small files,
// headers, central directory) and the generated payload.
type bigExport struct {
	segs []segment
	size int64
}

type segment struct {
	off, n  int64
	lit     []byte // nil: the payload
	payload *payload
}

// payload is the generated file: block i is ChaCha8(seed, i).
type payload struct {
	seed [32]byte
	size int64
}

func (p *payload) block(i int64, dst []byte) {
	var seed [32]byte
	copy(seed[:], p.seed[:])
	binary.LittleEndian.PutUint64(seed[24:], uint64(i))
	r := rand.NewChaCha8(seed)
	r.Read(dst)
}

// ReadAt fills b from the payload at off.
func (p *payload) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	n := 0
	bp := blockBufs.Get().(*[]byte)
	defer blockBufs.Put(bp)
	buf := *bp
	for n < len(b) && off < p.size {
		i := off / bigBlock
		in := off - i*bigBlock
		blockLen := min(int64(bigBlock), p.size-i*bigBlock)
		var c int
		if in == 0 && int64(len(b)-n) >= blockLen {
			p.block(i, b[n:n+int(blockLen)]) // straight into the caller's buffer
			c = int(blockLen)
		} else {
			p.block(i, buf[:blockLen])
			c = copy(b[n:], buf[in:blockLen])
		}
		n += c
		off += int64(c)
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// newBigExport lays out the zip: the small export's files (from its zip),
// then the payload.
func newBigExport(small []byte, id string, size int64) (*bigExport, error) {
	zr, err := zip.NewReader(bytes.NewReader(small), int64(len(small)))
	if err != nil {
		return nil, fmt.Errorf("big export of %s: the export is not a zip: %w", id, err)
	}
	p := &payload{size: size}
	p.seed = sha256.Sum256([]byte("gizmo emulator payload " + id))
	crc := crc32.NewIEEE()
	if _, err := io.Copy(crc, io.NewSectionReader(p, 0, size)); err != nil {
		return nil, err
	}
	b := &bigExport{}
	sw := &segWriter{b: b}
	zw := zip.NewWriter(sw)
	files := append([]*zip.File(nil), zr.File...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		h := f.FileHeader
		w, err := zw.CreateRaw(&h)
		if err != nil {
			return nil, err
		}
		rc, err := f.OpenRaw()
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(w, rc); err != nil {
			return nil, err
		}
	}
	h := &zip.FileHeader{Name: bigPayloadName, Method: zip.Store, CRC32: crc.Sum32(), CompressedSize64: uint64(size), UncompressedSize64: uint64(size), Modified: files[0].Modified}
	w, err := zw.CreateRaw(h)
	if err != nil {
		return nil, err
	}
	// zip.Writer buffers: flush around the payload so that the segments
	// split exactly where it starts and ends.
	if err := zw.Flush(); err != nil {
		return nil, err
	}
	sw.payload = p
	if _, err := io.Copy(w, io.NewSectionReader(p, 0, size)); err != nil {
		return nil, err
	}
	if err := zw.Flush(); err != nil {
		return nil, err
	}
	sw.payload = nil
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sw.flush()
	return b, nil
}

// segWriter records what zip.Writer writes as segments; while payload is
// set, the bytes written are the payload's and only counted.
type segWriter struct {
	b       *bigExport
	lit     bytes.Buffer
	payload *payload
	cur     *payload
	pn      int64
}

func (w *segWriter) endPayload() {
	if w.pn > 0 {
		w.b.segs = append(w.b.segs, segment{off: w.b.size, n: w.pn, payload: w.cur})
		w.b.size += w.pn
		w.pn = 0
	}
}

func (w *segWriter) flushLit() {
	if w.lit.Len() > 0 {
		lit := bytes.Clone(w.lit.Bytes())
		w.b.segs = append(w.b.segs, segment{off: w.b.size, n: int64(len(lit)), lit: lit})
		w.b.size += int64(len(lit))
		w.lit.Reset()
	}
}

func (w *segWriter) flush() {
	w.endPayload()
	w.flushLit()
}

func (w *segWriter) Write(p []byte) (int, error) {
	if w.payload == nil {
		w.endPayload()
		return w.lit.Write(p)
	}
	if w.pn == 0 {
		w.flushLit()
		w.cur = w.payload
	}
	w.pn += int64(len(p))
	return len(p), nil
}

// ReadAt reads the zip's bytes at off.
func (b *bigExport) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	i := sort.Search(len(b.segs), func(i int) bool { return b.segs[i].off+b.segs[i].n > off })
	for ; i < len(b.segs) && n < len(p); i++ {
		s := b.segs[i]
		in := off + int64(n) - s.off
		want := min(int64(len(p)-n), s.n-in)
		if s.lit != nil {
			copy(p[n:], s.lit[in:in+want])
		} else if _, err := s.payload.ReadAt(p[n:n+int(want)], in); err != nil && err != io.EOF {
			return n, err
		}
		n += int(want)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// etag is the quoted hex SHA-256 prefix of the whole zip, as for any export.
func (b *bigExport) etag() (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(b, 0, b.size)); err != nil {
		return "", err
	}
	sum := h.Sum(nil)
	return `"` + hex.EncodeToString(sum[:16]) + `"`, nil
}
