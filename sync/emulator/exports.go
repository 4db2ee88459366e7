package emulator

import (
	"container/list"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// exported is one export body with what its download headers need.
type exported struct {
	key         string
	body        []byte
	filename    string
	etag        string
	contentType string
}

// export returns the body of an asset's export, generating it on a cache miss.
func (s *Server) export(r record, f formats.Format) (*exported, error) {
	key := r.ID + "\x00" + string(f)
	if e := s.cache.get(key); e != nil {
		return e, nil
	}
	body, name, err := s.cfg.Generate(r.ID, r.Name, r.Prompt, f)
	if err != nil {
		return nil, fmt.Errorf("emulator: export %s/%s: %w", r.ID, f, err)
	}
	sum := sha256.Sum256(body)
	e := &exported{
		key:         key,
		body:        body,
		filename:    name,
		etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		contentType: contentType(formats.Detect(body)),
	}
	s.cache.put(e)
	return e, nil
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
	items map[string]*list.Element
}

func newLRU(max int64) *lru {
	return &lru{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

func (c *lru) get(key string) *exported {
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
		if el, ok := c.items[id+"\x00"+string(f)]; ok {
			c.order.Remove(el)
			delete(c.items, el.Value.(*exported).key)
			c.size -= int64(len(el.Value.(*exported).body))
		}
	}
}

// bytes is the memory the cache holds.
func (c *lru) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// sign is the hex HMAC-SHA256 of a download: asset, format and expiry.
func (s *Server) sign(id string, f formats.Format, expires int64) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(f))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// verify checks a download's signature and expiry; it returns the reason
// to refuse, or "" when the URL is good.
func (s *Server) verify(id string, f formats.Format, expires, sig string) (code, msg string) {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return "AccessDenied", "Query-string authentication requires the expires and sig parameters"
	}
	want := s.sign(id, f, exp)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided"
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return "AccessDenied", "Request has expired"
	}
	return "", ""
}
