package emulator

import (
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// delay waits the configured latency (plus jitter) before a route answers,
// as a network between client and server would; false when the request
// was cancelled meanwhile.
func (s *Server) delay(r *http.Request) bool {
	d := s.cfg.Latency
	if s.cfg.Jitter > 0 {
		d += rand.N(s.cfg.Jitter)
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// serveExport answers a download (or the current generation's export) with
// the export's bytes: Range and If-Range with the ETag (net/http's
// ServeContent: 206 for a range whose validator still matches, the whole
// body otherwise), If-None-Match, and the faults: a body cut short at a
// random point (or Faults.TruncateAt) for a TruncateRate share of answers,
// and at most Faults.Slow bytes a second.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, e *exported) {
	h := w.Header()
	h["Etag"] = e.etagHeader
	h["Content-Type"] = e.contentType
	h["Content-Disposition"] = e.disposition
	h["Cache-Control"] = cacheControl
	faults := s.Faults()
	cw := &cutWriter{ResponseWriter: w, r: r, slow: faults.Slow, cut: -1}
	if e.size() > 0 && s.chance(faults.TruncateRate) {
		cw.cutShare = faults.TruncateAt
		if cw.cutShare <= 0 || cw.cutShare >= 1 {
			cw.cutShare = 0.05 + 0.9*s.randFloat()
		}
	}
	http.ServeContent(cw, r, "", time.Time{}, e.reader())
	if cw.cutDone {
		// Close the connection with the body short of its Content-Length.
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
}

// randFloat draws from the fault generator (seeded by Config.Seed).
func (s *Server) randFloat() float64 {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.frng.Float64()
}

// cutWriter writes a body at most slow bytes a second and, when cutShare is
// set, stops once that share of the announced length is written.
type cutWriter struct {
	http.ResponseWriter
	r        *http.Request
	slow     int64
	cutShare float64
	cut      int64 // bytes left before the cut; -1: no cut (yet)
	cutDone  bool
}

func (w *cutWriter) WriteHeader(code int) {
	if w.cutShare > 0 && code/100 == 2 {
		var n int64
		if cl := w.Header().Get("Content-Length"); cl != "" {
			for _, c := range cl {
				n = n*10 + int64(c-'0')
			}
		}
		w.cut = max(int64(float64(n)*w.cutShare), 1)
		if n <= 1 {
			w.cut = -1
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *cutWriter) Write(p []byte) (int, error) {
	if w.cutDone {
		return 0, io.ErrClosedPipe
	}
	total := 0
	for len(p) > 0 {
		chunk := p
		if w.slow > 0 {
			chunk = p[:min(len(p), max(int(w.slow/20), 1))]
		}
		if w.cut >= 0 && int64(len(chunk)) >= w.cut {
			chunk = chunk[:w.cut]
			w.cutDone = true
		}
		n, err := w.ResponseWriter.Write(chunk)
		total += n
		if w.cut >= 0 {
			w.cut -= int64(n)
		}
		if err != nil {
			return total, err
		}
		if w.cutDone {
			return total, io.ErrClosedPipe
		}
		p = p[len(chunk):]
		if w.slow > 0 {
			http.NewResponseController(w.ResponseWriter).Flush()
			t := time.NewTimer(50 * time.Millisecond)
			select {
			case <-t.C:
			case <-w.r.Context().Done():
				t.Stop()
				return total, w.r.Context().Err()
			}
		}
	}
	return total, nil
}

func (w *cutWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
