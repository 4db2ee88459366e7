// Package sync mirrors a Gizmo account into the local cache: it lists every
// asset, records their metadata, and fetches each ready asset in each wanted
// format that the cache lacks (export, download, verify, store, validate),
// with bounded concurrency and the fewest requests.
//
// The package name shadows the standard library's; import it everywhere as
//
//	gsync "github.com/antimlabs/gizmo/sync"
//
// The engine knows the API and the cache only through two small interfaces,
// Remote (satisfied by *api.Client) and Store (satisfied by *cache.Cache), so
// that another API adapter can be added without touching it. Model
// validation is injected by the caller as a Validator; this package does not
// import the validators.
//
// Fetch is the engine's per-file fetch on its own, for callers that already
// know which (asset, format) files the cache lacks (gizmo prepare): it lists
// nothing, asks for no asset and marks nothing vanished, and needs only
// FileRemote and FileStore. Run fetches every file through the same code.
//
// FetchFile is the same fetch for one file, returning its entry or the
// error of its last try (gizmo export).
//
// The files: mirror.go plans a Run (merge with the index, resolve, plan,
// vanished); listing.go reads the account's list (List, also prepare's);
// fetch.go gets one file (export URL, download, ETag check, restarts) for
// Run, Fetch and FetchFile alike; verdict.go validates; tally.go adds up
// the Summary and sends the events; remote.go, store.go and validator.go
// are what the engine needs from the API, the cache (whose cache.Writer a
// download writes into) and the validators; record.go merges a listed
// asset with the cache's record.
//
// # Request economy
//
// A first sync of N ready assets in F formats sends ListPages(N) list
// requests, at most N get requests (only for assets the cache does not know
// as ready with their formats), N×F export requests and N×F downloads. A
// second sync with nothing new sends only the list requests. Export URLs
// recorded in the cache are reused until URLMargin before they expire, so a
// rerun after an interruption does not ask for them again.
//
// # Faults
//
// A download answered 403 (an expired or refused URL) gets a fresh export
// URL; a download cut short is restarted; neither is ever stored truncated
// (the cache verifies and renames only complete files). Retries of 5xx and
// 429 answers are the client's job, which shares one 429 gate between all
// workers, so a rate limit slows every worker.
//
// # Events
//
// Run reports what it does through Options.OnEvent, one Event at a time
// (never concurrently). The engine only emits them; the command's UI
// package renders them (a terminal progress display, one log line per
// finished item, or one JSON object per line).
package sync
