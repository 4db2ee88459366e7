package emulator

import (
	"bytes"
	"container/list"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"mime"
	"strconv"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// exportKey names one export in the cache.
type exportKey struct {
	id string
	f  formats.Format
}

// exported is one export body with what its download headers need. It never
// changes once made: its header values are shared by every download of it
// (net/http copies a handler's header before it writes it).
type exported struct {
	key      exportKey
	body     []byte
	big      *bigExport // set instead of body for a big export (big.go)
	filename string
	etag     string

	// Values of the download's headers, made once.
	etagHeader, contentType, contentLength, disposition []string
}

// export returns the body of an asset's export, generating it on a cache miss.
func (s *Server) export(r record, f formats.Format) (*exported, error) {
	key := exportKey{r.ID, f}
	if e := s.cache.get(key); e != nil {
		return e, nil
	}
	var body []byte
	var name string
	var err error
	if r.offersExtra(f) {
		body, name = extraExport(r.ID, r.Name, f)
	} else {
		body, name, err = s.cfg.Generate(r.ID, r.Name, r.Prompt, f)
	}
	if err != nil {
		return nil, fmt.Errorf("emulator: export %s/%s: %w", r.ID, f, err)
	}
	if s.isBig(r.ID) && formats.Detect(body) == formats.KindZip {
		return s.bigExported(key, body, name)
	}
	e := newExported(key, body, name)
	s.cache.put(e)
	return e, nil
}

// isBig tells whether an asset's exports carry the big payload: every
// Config.BigEvery-th asset in creation order.
func (s *Server) isBig(id string) bool {
	if s.cfg.BigEvery <= 0 || s.cfg.BigSize <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.assets {
		if r.ID == id {
			return (i+1)%s.cfg.BigEvery == 0
		}
	}
	return false
}

// bigExported makes (once per export) the big variant of a zip export. Only
// its layout and ETag are kept: its bytes are computed as they are served.
func (s *Server) bigExported(key exportKey, small []byte, name string) (*exported, error) {
	s.bigMu.Lock()
	defer s.bigMu.Unlock()
	if e, ok := s.bigs[key]; ok {
		return e, nil
	}
	b, err := newBigExport(small, key.id, s.cfg.BigSize)
	if err != nil {
		return nil, err
	}
	etag, err := b.etag()
	if err != nil {
		return nil, err
	}
	e := &exported{
		key: key, big: b, filename: name, etag: etag,
		etagHeader:    []string{etag},
		contentType:   []string{contentType(formats.KindZip)},
		contentLength: []string{strconv.FormatInt(b.size, 10)},
		disposition:   []string{mime.FormatMediaType("attachment", map[string]string{"filename": name})},
	}
	if s.bigs == nil {
		s.bigs = map[exportKey]*exported{}
	}
	s.bigs[key] = e
	return e, nil
}

// size is the export's length in bytes.
func (e *exported) size() int64 {
	if e.big != nil {
		return e.big.size
	}
	return int64(len(e.body))
}

// reader reads the export from its start.
func (e *exported) reader() io.ReadSeeker {
	if e.big != nil {
		return io.NewSectionReader(e.big, 0, e.big.size)
	}
	return bytes.NewReader(e.body)
}

// newExported computes an export's ETag and download headers.
func newExported(key exportKey, body []byte, filename string) *exported {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return &exported{
		key:           key,
		body:          body,
		filename:      filename,
		etag:          etag,
		etagHeader:    []string{etag},
		contentType:   []string{contentType(formats.Detect(body))},
		contentLength: []string{strconv.Itoa(len(body))},
		disposition:   []string{mime.FormatMediaType("attachment", map[string]string{"filename": filename})},
	}
}

func contentType(k formats.Kind) string {
	switch k {
	case formats.KindZip:
		return "application/zip"
	case formats.KindURDF, formats.KindMJCF:
		return "application/xml"
	case formats.KindUSDA:
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// lru keeps export bodies, evicting the least recently used beyond max bytes.
type lru struct {
	mu    sync.Mutex
	max   int64
	size  int64
	order *list.List // front: most recent; values *exported
	items map[exportKey]*list.Element
}

func newLRU(max int64) *lru {
	return &lru{max: max, order: list.New(), items: make(map[exportKey]*list.Element)}
}

func (c *lru) get(key exportKey) *exported {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*exported)
}

func (c *lru) put(e *exported) {
	n := int64(len(e.body))
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.items[e.key] = c.order.PushFront(e)
	c.size += n
	for c.size > c.max {
		el := c.order.Back()
		old := el.Value.(*exported)
		c.order.Remove(el)
		delete(c.items, old.key)
		c.size -= int64(len(old.body))
	}
}

// dropAsset forgets every export of an asset.
func (c *lru) dropAsset(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range formats.All {
		if el, ok := c.items[exportKey{id, f}]; ok {
			c.order.Remove(el)
			delete(c.items, el.Value.(*exported).key)
			c.size -= int64(len(el.Value.(*exported).body))
		}
	}
}

// signer computes download signatures: an HMAC-SHA256 keyed with the
// server's secret, kept in a pool, because making one hashes the key.
type signer struct {
	pool sync.Pool // of *signState
}

type signState struct {
	mac      hash.Hash
	msg, sum []byte
}

func newSigner(secret []byte) *signer {
	key := append([]byte(nil), secret...)
	g := &signer{}
	g.pool.New = func() any { return &signState{mac: hmac.New(sha256.New, key)} }
	return g
}

// sum appends to dst the hex HMAC of id, format and expiry, each but the
// last followed by a zero byte.
func (g *signer) sum(dst []byte, id string, f formats.Format, expires int64) []byte {
	st := g.pool.Get().(*signState)
	b := append(st.msg[:0], id...)
	b = append(b, 0)
	b = append(b, f...)
	b = append(b, 0)
	b = strconv.AppendInt(b, expires, 10)
	st.mac.Reset()
	st.mac.Write(b)
	st.msg, st.sum = b, st.mac.Sum(st.sum[:0])
	dst = hex.AppendEncode(dst, st.sum)
	g.pool.Put(st)
	return dst
}

// verify checks a download's signature and expiry; it returns the reason
// to refuse, or "" when the URL is good.
func (s *Server) verify(id string, f formats.Format, expires, sig string) (code, msg string) {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return "AccessDenied", "Query-string authentication requires the expires and sig parameters"
	}
	var b [2 * sha256.Size]byte
	if !hmac.Equal(s.signer.sum(b[:0], id, f, exp), []byte(sig)) {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided"
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return "AccessDenied", "Request has expired"
	}
	return "", ""
}
