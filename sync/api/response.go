package api

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxErrorBody bounds how much of an error body the client reads.
const maxErrorBody = 64 << 10

// readError turns a non-2xx response into an *Error. It reads whichever of the
// body's error, code and message fields are present (the body may be JSON of
// any shape, an object store's XML error document, or plain text) and always
// keeps the status. download selects the meaning of 403: an expired or refused
// signed URL rather than a missing permission.
func readError(op string, resp *http.Response, download bool) *Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{Op: op, StatusCode: resp.StatusCode}
	fromAPI := parseErrorBody(e, body)
	switch s := resp.StatusCode; {
	case s == http.StatusNotFound && !download && (e.Code == "route_not_found" || !fromAPI):
		// Not "no such asset": the server has no such route, or is no
		// Gizmo API at all (a web server's 404 page).
		e.kind = ErrNotAPI
	case s == http.StatusUnauthorized:
		e.kind = ErrUnauthorized
	case s == http.StatusForbidden && download:
		e.kind = ErrURLExpired
	case s == http.StatusForbidden:
		e.kind = ErrForbidden
	case s == http.StatusNotFound:
		e.kind = ErrNotFound
	case s == http.StatusConflict:
		e.kind = ErrNotReady
	case s == http.StatusTooManyRequests:
		e.kind = ErrRateLimited
	case s >= 500:
		e.kind = ErrServer
	default:
		e.kind = ErrBadRequest
	}
	return e
}

// parseErrorBody fills e's Category, Code and Message from an error body.
// It reports whether the body is a JSON error object as an API sends.
func parseErrorBody(e *Error, body []byte) (fromAPI bool) {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) == nil {
		e.Category = jsonString(m["error"])
		e.Code = jsonString(m["code"])
		e.Message = jsonString(m["message"])
		// Some APIs nest: {"error": {"code": ..., "message": ...}}.
		var nested map[string]json.RawMessage
		if e.Category == "" && json.Unmarshal(m["error"], &nested) == nil {
			e.Category = jsonString(nested["type"])
			if e.Code == "" {
				e.Code = jsonString(nested["code"])
			}
			if e.Message == "" {
				e.Message = jsonString(nested["message"])
			}
		}
		if e.Category == "" && e.Code == "" && e.Message == "" {
			// The web framework's validation shape: {"detail": [{"loc", "msg"}]}
			// or {"detail": "..."} (detail.go).
			e.Code, e.Message = validationDetail(m["detail"])
		}
		if e.Category != "" || e.Code != "" || e.Message != "" {
			e.Category, e.Code = snippet(e.Category, 100), snippet(e.Code, 100)
			e.Message = snippet(e.Message, 300)
			return true
		}
	}
	if strings.HasPrefix(trimmed, "<") {
		var x struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		if xml.Unmarshal(body, &x) == nil && (x.Code != "" || x.Message != "") {
			e.Code, e.Message = snippet(x.Code, 100), snippet(x.Message, 300)
			return false
		}
	}
	e.Message = snippet(trimmed, 200)
	return false
}

// jsonString returns raw as a string when it is a JSON string or number.
func jsonString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// snippet collapses whitespace and control characters and cuts s to n runes.
func snippet(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}

// RedactURL returns u without its query string, fragment and user info, so a
// pre-signed URL's signature never reaches a log line or an error.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "<unparsable URL>"
	}
	p.User = nil
	p.Fragment, p.RawFragment = "", ""
	if p.RawQuery != "" || p.ForceQuery {
		p.RawQuery = ""
		p.ForceQuery = false
		return p.String() + "?<redacted>"
	}
	return p.String()
}

// redactErr rewrites the URL inside a *url.Error so the error text carries no
// signature.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if errors.Is(ue.Err, ErrRedirect) {
			return ue.Err // it names both URLs, redacted
		}
		return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
	}
	return err
}

// SafeFilename turns an untrusted filename hint (a Content-Disposition
// filename, an asset name) into one plain file name: the last path element
// only, no separators, no control characters, no leading dots, at most 128
// bytes. It returns fallback when nothing usable is left.
func SafeFilename(hint, fallback string) string {
	hint = strings.ReplaceAll(hint, `\`, "/")
	hint = path.Base(hint)
	var b strings.Builder
	for _, r := range hint {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), r == '/', r == ':', r == '*', r == '?', r == '"', r == '<', r == '>', r == '|':
			b.WriteRune('_')
		case unicode.IsSpace(r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	for len(s) > 128 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	if s == "" || s == "_" {
		return fallback
	}
	return s
}
