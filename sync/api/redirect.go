package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// maxRedirects is how many redirects one request may follow.
const maxRedirects = 5

// ErrRedirect matches a redirect the client refused to follow: to another
// host on an API request (the key would go with it), to a scheme other than
// http and https (file://, say), from https to http, in a loop, or more than
// maxRedirects times. It is not retried.
var ErrRedirect = errors.New("redirect refused")

// apiRequest marks the context of an API request (one that carries the key).
type apiRequest struct{}

// checkRedirect is the http.Client's redirect policy. The API key is sent
// only to the API's own scheme and host: an API request is never followed
// elsewhere. A download URL (which carries no key) may be redirected to
// another host, as object stores and CDNs do, but only over http(s), never
// from https down to http, and at most maxRedirects times without a loop.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	from := RedactURL(first.String())
	to := RedactURL(req.URL.String())
	switch {
	case req.URL.Scheme != "http" && req.URL.Scheme != "https":
		return fmt.Errorf("%w: %s redirects to %s, and gizmo follows only http and https URLs", ErrRedirect, from, to)
	case first.Scheme == "https" && req.URL.Scheme == "http":
		return fmt.Errorf("%w: %s redirects from https to plain http (%s)", ErrRedirect, from, to)
	case req.Context().Value(apiRequest{}) != nil && (req.URL.Scheme != first.Scheme || req.URL.Host != first.Host):
		return fmt.Errorf("%w: the API at %s redirects to another host (%s), and gizmo sends the API key to no other host: set --api-url to the API's own URL", ErrRedirect, from, to)
	case slices.ContainsFunc(via, func(r *http.Request) bool { return r.URL.String() == req.URL.String() }):
		return fmt.Errorf("%w: %s redirects in a loop (back to %s)", ErrRedirect, from, to)
	case len(via) >= maxRedirects:
		return fmt.Errorf("%w: %s redirects more than %d times", ErrRedirect, from, maxRedirects)
	}
	// Go drops the Authorization header on its own when the host changes;
	// the check above makes sure an API request never gets that far.
	return nil
}

// withAPIMark marks ctx as an API request's for checkRedirect.
func withAPIMark(ctx context.Context) context.Context {
	return context.WithValue(ctx, apiRequest{}, true)
}
