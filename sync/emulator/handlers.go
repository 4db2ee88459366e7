package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
)

// Limits of POST /assets.
const (
	maxBody      = 1 << 20
	maxPrompt    = 4000
	maxTags      = 32
	maxTagLength = 64
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /assets", s.api(routeList, false, s.handleList))
	mux.Handle("POST /assets", s.api(routeCreate, true, s.handleCreate))
	mux.Handle("GET /assets/{id}", s.api(routeGet, false, s.handleGet))
	mux.Handle("POST /assets/{id}/export", s.api(routeExport, true, s.handleExport))
	mux.Handle("GET /_download/{id}/{format}", s.counted(routeDownload, http.HandlerFunc(s.handleDownload)))
	mux.HandleFunc("GET /_emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.Handle("/", s.counted(routeOther, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "route_not_found", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})))
	return mux
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// counted counts a route's requests and its non-2xx answers.
func (s *Server) counted(rt route, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.stats.requests[rt].Add(1)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if sw.status/100 != 2 {
				s.stats.errors[rt].Add(1)
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// api wraps an API handler: counting, the rate limit, injected 5xx, then
// authentication (write: the read-only key is refused).
func (s *Server) api(rt route, write bool, h http.HandlerFunc) http.Handler {
	return s.counted(rt, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.admit() {
			w.Header().Set("Retry-After", "1")
			apiError(w, http.StatusTooManyRequests, "rate_limited", "rate_limit_exceeded", "too many requests; retry after the Retry-After delay")
			return
		}
		if s.chance(s.Faults().ErrorRate) {
			apiError(w, http.StatusServiceUnavailable, "server_error", "service_unavailable", "the service is temporarily unavailable (injected fault)")
			return
		}
		auth := r.Header.Get("Authorization")
		if auth == "" {
			apiError(w, http.StatusUnauthorized, "unauthorized", "missing_api_key", "send the API key as Authorization: Bearer <key>")
			return
		}
		key, ok := strings.CutPrefix(auth, "Bearer ")
		full := ok && subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.APIKey)) == 1
		readOnly := ok && s.cfg.ReadOnlyAPIKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.ReadOnlyAPIKey)) == 1
		switch {
		case !full && !readOnly:
			apiError(w, http.StatusUnauthorized, "unauthorized", "invalid_api_key", "the API key is invalid or expired")
			return
		case !full && write:
			apiError(w, http.StatusForbidden, "forbidden", "insufficient_scope", "this API key may only read: it cannot create or export assets")
			return
		}
		h(w, r)
	}))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func apiError(w http.ResponseWriter, status int, category, code, msg string) {
	writeJSON(w, status, map[string]string{"error": category, "code": code, "message": msg})
}

// xmlError answers like an object store does.
func xmlError(w http.ResponseWriter, status int, code, msg string) {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString("<Error><Code>")
	xml.EscapeText(&b, []byte(code))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(msg))
	b.WriteString("</Message></Error>\n")
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, offset := 20, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			apiError(w, http.StatusBadRequest, "invalid_request", "invalid_limit", fmt.Sprintf("limit %q: want an integer from 1 to 100", v))
			return
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "invalid_request", "invalid_offset", fmt.Sprintf("offset %q: want an integer of 0 or more", v))
			return
		}
		offset = n
	}
	assets, total := s.page(limit, offset)
	writeJSON(w, http.StatusOK, api.Page{Assets: assets, Total: total, Limit: limit, Offset: offset})
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	a, ok := s.Asset(r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", "asset_not_found", fmt.Sprintf("no asset %q", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Prompt *string  `json:"prompt"`
		Name   *string  `json:"name"`
		Tags   []string `json:"tags"`
	}
	if msg := decodeBody(r, &req); msg != "" {
		apiError(w, http.StatusBadRequest, "invalid_request", "invalid_json", msg)
		return
	}
	if req.Prompt == nil || strings.TrimSpace(*req.Prompt) == "" {
		apiError(w, http.StatusBadRequest, "invalid_request", "prompt_required", "prompt is required and must not be empty")
		return
	}
	prompt := strings.TrimSpace(*req.Prompt)
	if utf8.RuneCountInString(prompt) > maxPrompt {
		apiError(w, http.StatusBadRequest, "invalid_request", "prompt_too_long", fmt.Sprintf("prompt has more than %d characters", maxPrompt))
		return
	}
	if len(req.Tags) > maxTags {
		apiError(w, http.StatusBadRequest, "invalid_request", "too_many_tags", fmt.Sprintf("at most %d tags", maxTags))
		return
	}
	for _, t := range req.Tags {
		if strings.TrimSpace(t) == "" || utf8.RuneCountInString(t) > maxTagLength {
			apiError(w, http.StatusBadRequest, "invalid_request", "invalid_tag", fmt.Sprintf("tag %q: want 1 to %d characters", t, maxTagLength))
			return
		}
	}
	name := ""
	if req.Name != nil {
		name = *req.Name
	}
	a, err := s.create(prompt, name, req.Tags)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "server_error", "state_not_saved", err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// decodeBody reads a JSON object body; it returns what is wrong, or "".
func decodeBody(r *http.Request, v any) string {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return fmt.Sprintf("Content-Type %q: send application/json", ct)
		}
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		return "the body is not a valid JSON object: " + err.Error()
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "the body has data after its JSON object"
	}
	return ""
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req struct {
		Format *string `json:"format"`
	}
	if msg := decodeBody(r, &req); msg != "" {
		apiError(w, http.StatusBadRequest, "invalid_request", "invalid_json", msg)
		return
	}
	if req.Format == nil {
		apiError(w, http.StatusBadRequest, "invalid_request", "format_required", "format is required: isaac_sim_usd, isaac_sim_urdf or mujoco_mjcf")
		return
	}
	f := formats.Format(*req.Format)
	if !f.Known() {
		apiError(w, http.StatusBadRequest, "invalid_request", "unknown_format", fmt.Sprintf("unknown format %q: want isaac_sim_usd, isaac_sim_urdf or mujoco_mjcf", *req.Format))
		return
	}
	rec, ok := s.record(id)
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", "asset_not_found", fmt.Sprintf("no asset %q", id))
		return
	}
	if st := rec.status(s.now()); st != api.StatusReady {
		apiError(w, http.StatusConflict, "not_ready", "asset_not_ready", fmt.Sprintf("asset %s is %s; export it once it is ready", id, st))
		return
	}
	base := s.cfg.DownloadBaseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	exp := s.now().Add(s.cfg.URLTTL).Truncate(time.Second)
	q := url.Values{"expires": {strconv.FormatInt(exp.Unix(), 10)}, "sig": {s.sign(id, f, exp.Unix())}}
	writeJSON(w, http.StatusOK, api.Export{
		URL:       base + "/_download/" + url.PathEscape(id) + "/" + url.PathEscape(string(f)) + "?" + q.Encode(),
		ExpiresAt: exp.UTC(),
	})
}

func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.stats.downloadAuth.Add(1)
		xmlError(w, http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; a pre-signed URL must be fetched without an Authorization header")
		return
	}
	id, f := r.PathValue("id"), formats.Format(r.PathValue("format"))
	q := r.URL.Query()
	if code, msg := s.verify(id, f, q.Get("expires"), q.Get("sig")); code != "" {
		xmlError(w, http.StatusForbidden, code, msg)
		return
	}
	if s.chance(s.Faults().ErrorRate) {
		xmlError(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate (injected fault)")
		return
	}
	rec, ok := s.record(id)
	if !ok {
		xmlError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist")
		return
	}
	e, err := s.export(rec, f)
	if err != nil {
		xmlError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	h := w.Header()
	h.Set("ETag", e.etag)
	if r.Header.Get("If-None-Match") == e.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", e.contentType)
	h.Set("Content-Length", strconv.Itoa(len(e.body)))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": e.filename}))
	h.Set("Cache-Control", "private, max-age=0")
	w.WriteHeader(http.StatusOK)
	body := e.body
	faults := s.Faults()
	truncate := len(body) > 0 && s.chance(faults.TruncateRate)
	if truncate {
		body = body[:len(body)/2]
	}
	if err := s.writeBody(w, r, body, faults.Slow); err != nil {
		return
	}
	if truncate {
		// Close the connection with the body short of its Content-Length.
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
}

// writeBody writes body, at most slow bytes per second when slow > 0.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, body []byte, slow int64) error {
	if slow <= 0 {
		_, err := w.Write(body)
		return err
	}
	const tick = 50 * time.Millisecond
	chunk := max(int(slow/20), 1)
	rc := http.NewResponseController(w)
	t := time.NewTicker(tick)
	defer t.Stop()
	for len(body) > 0 {
		n := min(chunk, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return err
		}
		rc.Flush()
		body = body[n:]
		if len(body) == 0 {
			break
		}
		select {
		case <-t.C:
		case <-r.Context().Done():
			return r.Context().Err()
		}
	}
	return nil
}
