package emulator

import (
	"bytes"
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
	"sync/atomic"
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
	mux.HandleFunc("POST /_emulator/assets", s.handleAdminAdd)
	mux.HandleFunc("DELETE /_emulator/assets/{id}", s.handleAdminDelete)
	mux.Handle("/", s.counted(routeOther, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "route_not_found", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})))
	return mux
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	count  *atomic.Int64 // the route's byte counter
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
	// Counted before the write: a client may have read the bytes, and asked
	// for the stats, before Write returns.
	if w.count != nil {
		w.count.Add(int64(len(p)))
	}
	n, err := w.ResponseWriter.Write(p)
	if w.count != nil && n < len(p) {
		w.count.Add(int64(n - len(p)))
	}
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// counted counts a route's requests and its non-2xx answers.
func (s *Server) counted(rt route, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.stats.requests[rt].Add(1)
		sw := &statusWriter{ResponseWriter: w, count: &s.stats.bytes[rt]}
		defer func() {
			if sw.status/100 != 2 {
				s.stats.errors[rt].Add(1)
			}
		}()
		if !s.delay(r) {
			return
		}
		if !s.perAssetGate(sw, r, rt) { // routes with an {id}: an asset, a job, a scene
			return
		}
		h.ServeHTTP(sw, r)
	})
}

// api wraps an API handler: counting, the rate limit, injected 5xx, then
// authentication (write: the read-only key is refused).
func (s *Server) api(rt route, write bool, h http.HandlerFunc) http.Handler {
	return s.counted(rt, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limited, fail := s.gate()
		if limited {
			w.Header().Set("Retry-After", "1")
			apiError(w, http.StatusTooManyRequests, "rate_limited", "rate_limit_exceeded", "too many requests; retry after the Retry-After delay")
			return
		}
		if fail {
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
	writeJSONBytes(w, status, append(b, '\n'))
}

// jsonContentType is the Content-Type of JSON answers, shared: net/http
// copies a handler's header values before writing them.
var jsonContentType = []string{"application/json"}

// writeJSONBytes answers with b, a JSON value and its final newline.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	w.Write(b)
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
	now := s.now()
	recs, total := s.page(limit, offset)
	if b, ok := pageJSON(recs, now, total, limit, offset); ok {
		writeJSONBytes(w, http.StatusOK, b)
		return
	}
	assets := []api.Asset{}
	for _, rec := range recs {
		assets = append(assets, rec.asset(now, false))
	}
	writeJSON(w, http.StatusOK, api.Page{Assets: assets, Total: total, Limit: limit, Offset: offset})
}

// pageJSON is json.Marshal of the api.Page of recs and its final newline,
// made of the records' cached JSON; false when one cannot be encoded.
func pageJSON(recs []*record, now time.Time, total, limit, offset int) ([]byte, bool) {
	parts := make([][]byte, len(recs))
	n := 64
	for i, rec := range recs {
		b, err := rec.json(now, false)
		if err != nil {
			return nil, false
		}
		parts[i] = b[:len(b)-1] // without its newline
		n += len(b)
	}
	out := make([]byte, 0, n)
	out = append(out, `{"assets":[`...)
	for i, b := range parts {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	out = append(out, `],"total":`...)
	out = strconv.AppendInt(out, int64(total), 10)
	out = append(out, `,"limit":`...)
	out = strconv.AppendInt(out, int64(limit), 10)
	out = append(out, `,"offset":`...)
	out = strconv.AppendInt(out, int64(offset), 10)
	return append(out, "}\n"...), true
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.record(r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", "asset_not_found", fmt.Sprintf("no asset %q", r.PathValue("id")))
		return
	}
	now := s.now()
	b, err := rec.json(now, true)
	if err != nil {
		writeJSON(w, http.StatusOK, rec.asset(now, true)) // answers the error
		return
	}
	writeJSONBytes(w, http.StatusOK, b)
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
	if msg := checkContentType(r); msg != "" {
		return msg
	}
	return decodeJSON(io.LimitReader(r.Body, maxBody), v)
}

// checkContentType returns what is wrong with a body's Content-Type, or "".
func checkContentType(r *http.Request) string {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return fmt.Sprintf("Content-Type %q: send application/json", ct)
		}
	}
	return ""
}

// decodeJSON reads one JSON object, then the end of rd; it returns what is
// wrong, or "".
func decodeJSON(rd io.Reader, v any) string {
	dec := json.NewDecoder(rd)
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
	format, msg := readFormat(r)
	if msg != "" {
		apiError(w, http.StatusBadRequest, "invalid_request", "invalid_json", msg)
		return
	}
	if format == nil {
		apiError(w, http.StatusBadRequest, "invalid_request", "format_required", "format is required: isaac_sim_usd, isaac_sim_urdf or mujoco_mjcf")
		return
	}
	f := formats.Format(*format)
	rec, ok := s.record(id)
	if !f.Known() && !(ok && rec.offersExtra(f)) {
		apiError(w, http.StatusBadRequest, "invalid_request", "unknown_format", fmt.Sprintf("unknown format %q: want isaac_sim_usd, isaac_sim_urdf or mujoco_mjcf", *format))
		return
	}
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
	// The query as url.Values{"expires", "sig"}.Encode() writes it: neither
	// digits nor hex need escaping.
	u := make([]byte, 0, len(base)+len(id)+len(f)+128)
	u = append(u, base...)
	u = append(u, "/_download/"...)
	u = append(u, url.PathEscape(id)...)
	u = append(u, '/')
	u = append(u, url.PathEscape(string(f))...)
	u = append(u, "?expires="...)
	u = strconv.AppendInt(u, exp.Unix(), 10)
	u = append(u, "&sig="...)
	u = s.signer.sum(u, id, f, exp.Unix())
	if b, ok := exportJSON(u, exp.UTC()); ok {
		writeJSONBytes(w, http.StatusOK, b)
		return
	}
	writeJSON(w, http.StatusOK, api.Export{URL: string(u), ExpiresAt: exp.UTC()})
}

// exportJSON is json.Marshal of an api.Export and its final newline, for a
// URL of printable ASCII and a year json can encode; false otherwise.
func exportJSON(u []byte, exp time.Time) ([]byte, bool) {
	if y := exp.Year(); y < 0 || y > 9999 {
		return nil, false
	}
	b := make([]byte, 0, len(u)+80)
	b = append(b, `{"download_url":"`...)
	b, ok := appendJSONASCII(b, u)
	if !ok {
		return nil, false
	}
	b = append(b, `","expires_at":"`...)
	b = exp.AppendFormat(b, time.RFC3339Nano)
	return append(b, "\"}\n"...), true
}

// appendJSONASCII appends s as encoding/json writes it inside a string, for
// printable ASCII without quotes, backslashes, < or > (& becomes \u0026);
// false for anything else.
func appendJSONASCII(dst, s []byte) ([]byte, bool) {
	for _, c := range s {
		switch {
		case c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>':
			return nil, false
		case c == '&':
			dst = append(dst, `\u0026`...)
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

// readFormat reads the body of POST /assets/{id}/export: its format, nil
// when it has none, or what is wrong with the body. The body a client
// sends, {"format":"name"}, is read without encoding/json; any other goes
// through decodeJSON, which answers as it always did.
func readFormat(r *http.Request) (format *string, msg string) {
	if msg := checkContentType(r); msg != "" {
		return nil, msg
	}
	buf := make([]byte, 128)
	n, err := readFull(r.Body, buf)
	if err == io.EOF {
		if f, ok := plainFormat(buf[:n]); ok {
			return &f, ""
		}
	}
	var rest io.Reader = io.LimitReader(r.Body, maxBody-int64(n))
	if err != nil {
		rest = errReader{err}
	}
	var req struct {
		Format *string `json:"format"`
	}
	if msg := decodeJSON(io.MultiReader(bytes.NewReader(buf[:n]), rest), &req); msg != "" {
		return nil, msg
	}
	return req.Format, ""
}

// readFull reads into buf until it is full or rd fails.
func readFull(rd io.Reader, buf []byte) (n int, err error) {
	for n < len(buf) && err == nil {
		var m int
		m, err = rd.Read(buf[n:])
		n += m
	}
	return n, err
}

// errReader fails with its error.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// plainFormat reads {"format":"name"}, then white space: name of lower-case
// letters, digits and underscores, which JSON reads as they are.
func plainFormat(b []byte) (string, bool) {
	const pre, post = `{"format":"`, `"}`
	rest, ok := bytes.CutPrefix(b, []byte(pre))
	if !ok {
		return "", false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 1 {
		return "", false
	}
	for _, c := range rest[:end] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return "", false
		}
	}
	tail, ok := bytes.CutPrefix(rest[end:], []byte(post))
	if !ok || len(bytes.Trim(tail, " \t\r\n")) != 0 {
		return "", false
	}
	return string(rest[:end]), true
}

func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.stats.downloadAuth.Add(1)
		xmlError(w, http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; a pre-signed URL must be fetched without an Authorization header")
		return
	}
	id, f := r.PathValue("id"), formats.Format(r.PathValue("format"))
	expires, sig := signedParams(r.URL)
	if code, msg := s.verify(id, f, expires, sig); code != "" {
		xmlError(w, http.StatusForbidden, code, msg)
		return
	}
	if s.injectError() {
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
	s.serveExport(w, r, e)
}

// cacheControl is the Cache-Control of downloads; net/http copies a
// handler's header values before writing them, so they can be shared.
var cacheControl = []string{"private, max-age=0"}

// signedParams returns the expires and sig parameters of a download URL as
// url.Values.Get does, without a map for the usual query that needs no
// unescaping.
func signedParams(u *url.URL) (expires, sig string) {
	raw := u.RawQuery
	if strings.ContainsAny(raw, "%+;") {
		q := u.Query()
		return q.Get("expires"), q.Get("sig")
	}
	var haveExp, haveSig bool
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "expires" && !haveExp:
			expires, haveExp = v, true
		case k == "sig" && !haveSig:
			sig, haveSig = v, true
		}
	}
	return expires, sig
}
