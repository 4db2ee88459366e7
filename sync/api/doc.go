// Package api is the Gizmo asset API client: every piece of HTTP knowledge the
// project has about Gizmo lives here.
//
// A Client makes typed calls for the four endpoints (Create, Get, List and the
// All iterator, Export), waits for generations (WaitReady) and streams
// downloads from pre-signed URLs (Download, and DownloadFrom, which resumes
// a body cut short; the sync engine restarts and resumes downloads).
//
// Retries: 429 (honouring Retry-After, capped), 5xx and connection errors are
// retried with capped exponential backoff and full jitter, bounded by
// Options.MaxAttempts and by the context. Other 4xx are not retried. POST
// /assets is retried only when the server certainly created nothing
// (connection refused, 429), so a retry never makes a duplicate asset. A 429
// on any call closes a gate shared by every goroutine using the Client until
// the Retry-After delay has passed, so one rate limit slows every worker.
//
// Deadlines: every API request attempt has Options.RequestTimeout to be
// answered completely (a timed-out attempt is retried once, then the call
// fails with ErrTimeout); a download fails when it receives nothing for
// Options.IdleTimeout, but has no total deadline; Options.MaxDownload bounds
// its size (ErrTooLarge). The client reads one list page at a time; the
// account's whole listing, bounded and tolerant of changes, is sync.List.
//
// Hostile servers: an answer that cannot be the API's (HTML, JSON of the
// wrong types, a page contradicting its total, a 404 route_not_found) is
// ErrNotAPI, named with the API URL and never retried; a redirect of an API
// request to another host, or of any request to a non-http scheme, in a loop
// or from https to http, is ErrRedirect. Package hostile serves such servers
// for tests.
//
// Secrets: the API key goes only into the Authorization header of API
// requests. It is never sent to a download URL's host, never logged, never put
// in an error. A signed download URL's query string (its signature) is
// redacted from every error and log line (RedactURL).
//
// Errors are *Error values carrying the HTTP status and the server's
// error/code/message; errors.Is matches them against the sentinels
// (ErrNotFound, ErrUnauthorized, ErrURLExpired, ...).
package api
