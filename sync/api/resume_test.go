package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/sync/api"
)

// object serves a body as an object store does (net/http's ServeContent:
// Range, If-Range), cutting the first answer short at cut bytes.
type object struct {
	body     atomic.Pointer[[]byte]
	cut      atomic.Int64 // >0: the next answer stops after this many body bytes
	ignore   bool         // answer 200 with the whole body, whatever Range says
	requests atomic.Int64
	sent     atomic.Int64
	ranges   atomic.Int64 // requests that carried Range
}

func (o *object) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	if r.Header.Get("Range") != "" {
		o.ranges.Add(1)
	}
	b := *o.body.Load()
	etag := fmt.Sprintf(`"v%d"`, len(b)) // changes when the object does
	w.Header().Set("ETag", etag)
	cw := &countingWriter{ResponseWriter: w, o: o, left: o.cut.Swap(0)}
	if o.ignore {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(200)
		cw.Write(b)
	} else {
		http.ServeContent(cw, r, "", time.Time{}, bytes.NewReader(b))
	}
	if cw.cutDone {
		panic(http.ErrAbortHandler)
	}
}

type countingWriter struct {
	http.ResponseWriter
	o       *object
	left    int64
	cutDone bool
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.left > 0 && int64(len(p)) >= w.left {
		p = p[:w.left]
		w.cutDone = true
	}
	if w.left > 0 {
		w.left -= int64(len(p))
	}
	// Counted before the write: the client may have read the bytes (and the
	// test the counter) before Write returns.
	w.o.sent.Add(int64(len(p)))
	n, err := w.ResponseWriter.Write(p)
	w.o.sent.Add(int64(n - len(p)))
	if w.cutDone {
		http.NewResponseController(w.ResponseWriter).Flush()
		return n, io.ErrClosedPipe
	}
	return n, err
}

// rewindable is an in-memory download target that can start over.
type rewindable struct{ bytes.Buffer }

func (r *rewindable) rewind() error { r.Reset(); return nil }

func body(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestDownloadFromResume(t *testing.T) {
	const size = 300 << 10
	for _, tc := range []struct {
		name        string
		cut         int64
		ignoreRange bool
		change      bool // the object changes between the cut and the resume
		wantSent    int64
		wantResumed bool
	}{
		{name: "cut early", cut: 1000, wantSent: size, wantResumed: true},
		{name: "cut midway", cut: size / 2, wantSent: size, wantResumed: true},
		{name: "cut at the last byte", cut: size - 1, wantSent: size, wantResumed: true},
		{name: "object changed: If-Range sends it whole", cut: size / 3, change: true, wantSent: size/3 + size + 1},
		{name: "server ignores Range", cut: size / 2, ignoreRange: true, wantSent: size/2 + size},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &object{ignore: tc.ignoreRange}
			b := body(size)
			o.body.Store(&b)
			srv := httptest.NewServer(o)
			defer srv.Close()
			c, err := api.New(api.Options{BaseURL: srv.URL, APIKey: "k", BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var dst rewindable
			o.cut.Store(tc.cut)
			d, err := c.Download(context.Background(), srv.URL+"/obj", &dst, nil)
			if !errors.Is(err, api.ErrTruncated) || d == nil || d.Size != tc.cut {
				t.Fatalf("first download: %v, %+v: want cut at %d", err, d, tc.cut)
			}
			want := b
			if tc.change {
				nb := body(size + 1)
				o.body.Store(&nb)
				want = nb
			}
			d, err = c.DownloadFrom(context.Background(), srv.URL+"/obj", &dst, api.Resume{Offset: d.Size, ETag: d.ETag, Rewind: dst.rewind}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dst.Bytes(), want) {
				t.Fatalf("the resumed download differs from the object (%d bytes, want %d)", dst.Len(), len(want))
			}
			if d.Size != int64(len(want)) || d.Resumed != tc.wantResumed {
				t.Errorf("Download %+v: want size %d, resumed %v", d, len(want), tc.wantResumed)
			}
			if got := o.sent.Load(); got != tc.wantSent {
				t.Errorf("the server sent %d bytes, want %d", got, tc.wantSent)
			}
			if o.ranges.Load() != 1 {
				t.Errorf("%d requests carried Range, want 1 (the resume)", o.ranges.Load())
			}
		})
	}
}

// TestDownloadFromWithoutETag: with no validator nothing is resumed: the
// writer is rewound and the body fetched whole, with no Range header.
func TestDownloadFromWithoutETag(t *testing.T) {
	o := &object{}
	b := body(10 << 10)
	o.body.Store(&b)
	srv := httptest.NewServer(o)
	defer srv.Close()
	c, err := api.New(api.Options{BaseURL: srv.URL, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	dst := rewindable{}
	dst.Write([]byte("stale"))
	if _, err := c.DownloadFrom(context.Background(), srv.URL+"/obj", &dst, api.Resume{Offset: 5, Rewind: dst.rewind}, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.Bytes(), b) || o.ranges.Load() != 0 {
		t.Errorf("got %d bytes, %d Range requests: want the whole body without Range", dst.Len(), o.ranges.Load())
	}
}

// TestDownloadFromWhole: a part that holds the whole object needs no body:
// with its length known nothing is asked; without it, the server's 416
// (nothing after the held bytes) with the same ETag says it is whole.
func TestDownloadFromWhole(t *testing.T) {
	o := &object{}
	b := body(4 << 10)
	o.body.Store(&b)
	srv := httptest.NewServer(o)
	defer srv.Close()
	c, err := api.New(api.Options{BaseURL: srv.URL, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	etag := fmt.Sprintf(`"v%d"`, len(b))
	var dst rewindable
	dst.Write(b)
	d, err := c.DownloadFrom(context.Background(), srv.URL+"/obj", &dst, api.Resume{Offset: int64(len(b)), ETag: etag, Total: int64(len(b)), Rewind: dst.rewind}, nil)
	if err != nil || d.Size != int64(len(b)) || o.requests.Load() != 0 {
		t.Fatalf("length known: %+v, %v, %d requests; want the whole object and no request", d, err, o.requests.Load())
	}
	d, err = c.DownloadFrom(context.Background(), srv.URL+"/obj", &dst, api.Resume{Offset: int64(len(b)), ETag: etag, Rewind: dst.rewind}, nil)
	if err != nil || d.Size != int64(len(b)) || !bytes.Equal(dst.Bytes(), b) || o.requests.Load() != 1 || o.sent.Load() >= 100 {
		t.Fatalf("length unknown: %+v, %v, %d requests, %d bytes sent; want one request and no body (a 416 with its short message)", d, err, o.requests.Load(), o.sent.Load())
	}
}
