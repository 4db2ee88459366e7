package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// ErrNotAPI matches an answer that cannot be the Gizmo API's: an HTML page
// or other non-JSON body, JSON of the wrong shape or types, a page that
// contradicts itself, or a 404 for a route the API does not have (an API
// URL with a path too many or too few). The server at the API URL is
// something else, or misbehaves; it is not retried.
var ErrNotAPI = errors.New("not an answer of the Gizmo API")

// notAPIHint ends every ErrNotAPI message: what the user can check.
const notAPIHint = "check --api-url (GIZMO_API_URL)"

// decodeAnswer decodes a 2xx answer into out (or drains it when out is
// nil). base names the server in errors: the API URL, which holds no secret.
func decodeAnswer(resp *http.Response, out any, base string) error {
	defer resp.Body.Close()
	if resp.ContentLength > maxJSONBody {
		return fmt.Errorf("%w: the server at %s announced a %d-byte answer, more than the %d bytes an API answer may have; %s", ErrNotAPI, base, resp.ContentLength, maxJSONBody, notAPIHint)
	}
	body := io.LimitReader(resp.Body, maxJSONBody+1)
	if out == nil {
		_, err := io.Copy(io.Discard, body)
		return err
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
			return fmt.Errorf("%w: the server at %s answered HTTP %d with an HTML page, not JSON; %s", ErrNotAPI, base, resp.StatusCode, notAPIHint)
		}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if len(b) > maxJSONBody {
		return fmt.Errorf("%w: the server at %s sent an answer of more than %d bytes; %s", ErrNotAPI, base, maxJSONBody, notAPIHint)
	}
	if t := strings.TrimSpace(string(b[:min(len(b), 512)])); strings.HasPrefix(t, "<") {
		return fmt.Errorf("%w: the server at %s answered HTTP %d with HTML or XML (%q), not JSON; %s", ErrNotAPI, base, resp.StatusCode, snippet(t, 40), notAPIHint)
	}
	if err := json.Unmarshal(b, out); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return fmt.Errorf("%w: the server at %s sent %q as a JSON %s, where the API sends %s; %s", ErrNotAPI, base, te.Field, te.Value, jsonKind(te.Type.Kind().String()), notAPIHint)
		case errors.As(err, &te):
			return fmt.Errorf("%w: the server at %s answered with a JSON %s, where the API sends an object; %s", ErrNotAPI, base, te.Value, notAPIHint)
		case len(b) == 0:
			return fmt.Errorf("%w: the server at %s answered HTTP %d with an empty body; %s", ErrNotAPI, base, resp.StatusCode, notAPIHint)
		}
		return fmt.Errorf("%w: the server at %s answered HTTP %d with a body that is not the API's JSON (%v); %s", ErrNotAPI, base, resp.StatusCode, err, notAPIHint)
	}
	return nil
}

// jsonKind names a Go kind as JSON does, with its article.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "slice", k == "array":
		return "an array"
	case k == "struct", k == "map":
		return "an object"
	case k == "bool":
		return "a boolean"
	}
	return "a " + k
}

// checkPage refuses a page that contradicts itself or the request.
func checkPage(p *Page, limit, offset int, base string) error {
	switch {
	case p.Total < 0:
		return fmt.Errorf("%w: the server at %s says the account has %d assets; %s", ErrNotAPI, base, p.Total, notAPIHint)
	case limit > 0 && len(p.Assets) > limit:
		return fmt.Errorf("%w: the server at %s sent %d assets for a page of at most %d; %s", ErrNotAPI, base, len(p.Assets), limit, notAPIHint)
	case len(p.Assets) > 0 && p.Total < offset+len(p.Assets):
		return fmt.Errorf("%w: the server at %s says the account has %d assets but sent assets %d to %d; %s", ErrNotAPI, base, p.Total, offset+1, offset+len(p.Assets), notAPIHint)
	case limit > 0 && len(p.Assets) < limit && offset+len(p.Assets) < p.Total:
		// A page shorter than asked for is the last one: its total lies.
		return fmt.Errorf("%w: the server at %s says the account has %d assets but sent %d at offset %d, where a page of %d was asked for; %s", ErrNotAPI, base, p.Total, len(p.Assets), offset, limit, notAPIHint)
	}
	return nil
}
