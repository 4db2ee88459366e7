package check

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
)

// maxSniff bounds how far detection reads for the root element: as far as
// any checker would read a model (a longer prologue is no model gizmo
// reads). Detection needs no fixed-size head: a URDF behind a long licence
// comment is still a URDF.
const maxSniff = 256 << 20

// sniff is what detection learns from a file's first bytes.
type sniff struct {
	kind formats.Kind
	// utf16 is set for an XML document in UTF-16 (with or without a
	// byte-order mark); kind is then told from the decoded text.
	utf16 bool
	// root is the root element's name ("" when none was found), for the
	// note about an XML file that is no model.
	root string
}

// Detect tells the kind of the file at path from its content, as Path
// does: zip and USD magic, else the root element of an XML document however
// long the prologue before it (declaration, comments, DOCTYPE). A UTF-16
// document is told by its decoded root element; utf16 says so. The file is
// opened through opts.FS; a special file (FIFO, device) is refused with an
// error wrapping validate.ErrNotRegular, never read.
func Detect(path string, opts validate.Options) (kind formats.Kind, utf16 bool, err error) {
	s, err := detect(path, opts)
	return s.kind, s.utf16, err
}

// detect is Detect with everything it learns.
func detect(path string, opts validate.Options) (sniff, error) {
	f, err := opts.Open(path)
	if err != nil {
		return sniff{}, err
	}
	defer f.Close()
	return sniffReader(io.LimitReader(f, maxSniff))
}

// sniffBytes is detect for a file already in memory.
func sniffBytes(data []byte) sniff {
	s, _ := sniffReader(bytes.NewReader(data))
	return s
}

// sniffReader reads r up to its root element. Only a read error is an
// error; anything unrecognised is KindUnknown.
func sniffReader(r io.Reader) (sniff, error) {
	br := bufio.NewReaderSize(r, 4096)
	head, err := br.Peek(8)
	if err != nil && !errors.Is(err, io.EOF) {
		return sniff{}, err
	}
	if k := formats.Detect(head); k == formats.KindZip || k == formats.KindUSDC {
		return sniff{kind: k}, nil
	}
	var s sniff
	var in io.ByteReader = br
	if order, skip, ok := utf16Order(head); ok {
		if _, err := br.Discard(skip); err != nil {
			return sniff{}, err
		}
		s.utf16 = true
		in = &utf16Reader{r: br, order: order}
	}
	root, usda, err := prologue(in)
	if err != nil {
		return sniff{}, err
	}
	s.root = root
	switch {
	case usda && !s.utf16:
		s.kind = formats.KindUSDA
	case root == "robot":
		s.kind = formats.KindURDF
	case root == "mujoco":
		s.kind = formats.KindMJCF
	case root == "sdf" && !s.utf16:
		s.kind = formats.KindSDF
	default:
		s.kind = formats.KindUnknown
	}
	return s, nil
}

// utf16Order tells a UTF-16 text from its first bytes: a byte-order mark
// (skip is its length), or an ASCII '<' in one byte of the first code
// unit and zero in the other.
func utf16Order(head []byte) (order binary.ByteOrder, skip int, ok bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		return binary.LittleEndian, 2, true
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return binary.BigEndian, 2, true
	case bytes.HasPrefix(head, []byte{'<', 0}):
		return binary.LittleEndian, 0, true
	case bytes.HasPrefix(head, []byte{0, '<'}):
		return binary.BigEndian, 0, true
	}
	return nil, 0, false
}

// utf16Reader turns UTF-16 code units into UTF-8 bytes, one rune at a
// time (an unpaired surrogate becomes U+FFFD): enough to read element
// names.
type utf16Reader struct {
	r       *bufio.Reader
	order   binary.ByteOrder
	pending []byte
}

func (u *utf16Reader) ReadByte() (byte, error) {
	if len(u.pending) == 0 {
		var b [2]byte
		if _, err := io.ReadFull(u.r, b[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			return 0, err
		}
		u.pending = utf8.AppendRune(u.pending[:0], rune(u.order.Uint16(b[:])))
	}
	c := u.pending[0]
	u.pending = u.pending[1:]
	return c, nil
}

// prologue reads past a byte-order mark, the XML declaration, processing
// instructions, comments and a DOCTYPE to the first element, and returns
// its local name ("" when the input ends first or holds no element), as
// formats.Detect does for a head. usda is set when the text (after a
// byte-order mark and white space) starts with "#usda".
func prologue(in io.ByteReader) (root string, usda bool, err error) {
	p := &scan{in: in}
	// Byte-order marks (U+FEFF, whole) and white space may come before
	// "#usda", as formats.Detect trims them; a broken mark ends the run and
	// rules USD out.
	c, ok := p.next()
	usdaOK := true
lead:
	for ok {
		switch c {
		case ' ', '\t', '\r', '\n':
			c, ok = p.next()
		case 0xef:
			for _, want := range []byte{0xbb, 0xbf} {
				if c, ok = p.next(); !ok || c != want {
					usdaOK = false
					break lead
				}
			}
			c, ok = p.next()
		default:
			break lead
		}
	}
	// Match "#usda" byte by byte, so that c is the first byte that does
	// not match (a '<' must not be lost).
	for i := 0; usdaOK && ok && c == "#usda"[i]; i++ {
		if i == len("#usda")-1 {
			return "", true, nil
		}
		c, ok = p.next()
	}
	for ok {
		if c != '<' {
			c, ok = p.next()
			continue
		}
		if c, ok = p.next(); !ok {
			break
		}
		switch c {
		case '?':
			ok = p.skipPast("?>", "?")
		case '!':
			if c, ok = p.next(); !ok {
				break
			}
			if c == '-' {
				if c, ok = p.next(); !ok {
					break
				}
				if c == '-' {
					ok = p.skipPast("-->", "--")
					break
				}
			}
			// Any other declaration (a DOCTYPE) ends at the next '>', as
			// formats.Detect reads it.
			if c != '>' {
				ok = p.skipPast(">", "")
			}
		default:
			var name strings.Builder
			for ok && !strings.ContainsRune(" \t\r\n/>", rune(c)) {
				if name.Len() > 1024 {
					return "", false, nil // no model's root is named so
				}
				name.WriteByte(c)
				c, ok = p.next()
			}
			if !ok {
				return "", false, p.err
			}
			n := name.String()
			if k := strings.IndexByte(n, ':'); k >= 0 {
				n = n[k+1:]
			}
			return n, false, nil
		}
		if ok {
			c, ok = p.next()
		}
	}
	return "", false, p.err
}

// scan reads bytes and keeps the first read error other than io.EOF.
type scan struct {
	in  io.ByteReader
	err error
}

func (p *scan) next() (byte, bool) {
	c, err := p.in.ReadByte()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			p.err = err
		}
		return 0, false
	}
	return c, true
}

// skipPast reads up to and including the first occurrence of end, which
// may begin in seed, the bytes just read (as formats.Detect finds "-->"
// in "<!-->").
func (p *scan) skipPast(end, seed string) bool {
	var last [4]byte // the last bytes read; end is at most 3 long
	for _, c := range []byte(seed) {
		copy(last[:], last[1:])
		last[3] = c
	}
	n := len(seed)
	for {
		c, ok := p.next()
		if !ok {
			return false
		}
		copy(last[:], last[1:])
		last[3] = c
		n++
		if n >= len(end) && string(last[4-len(end):]) == end {
			return true
		}
	}
}
