// Package prepare makes a simulation project match its manifest: it resolves
// gizmo.toml's selection to assets, fetches into the cache only what the
// cache lacks (through the sync engine's gsync.Fetch: recorded URLs reused,
// ETags checked, cut-short downloads restarted), validates (through the
// sync engine's Validator, which the command wires in), places into each
// target's layout, repairs placed files that were deleted or modified, and
// keeps gizmo.lock. It lists, merges and filters assets through the sync
// package's exported functions, asks the cache whether an export is stored,
// and asks the layout where a model goes.
//
// When the lock was written for the current manifest and every placed file
// still has the size and mtime it was placed with, Run reads gizmo.toml,
// gizmo.lock and each target's state file, stats the placed files, and
// returns: it opens no cache and sends no request. That is the cost of a
// prepare before every simulation run.
//
// The files follow a run's phases: prepare.go holds the API (Options, Run,
// Resolve, Result), noop.go the no-op check, run.go the slow run's state and
// its phases in order, resolve.go the selection (manifest to asset ids and
// the formats each target needs), fetch.go what the cache lacks and
// unpacking, validate.go the models' check, plan.go what each target gets
// and the lock that says so, place.go building, switching and removing,
// lock.go the targets' prepare.lock, errors.go the errors callers branch
// on.
//
// Only switching placed versions in and writing the targets' state and
// gizmo.lock hold the targets' prepare.lock: resolving, fetching,
// unpacking, validating and building version folders do not, so that a
// second prepare of the project does not wait for this one's downloads.
// One that finds gizmo.lock rewritten meanwhile by another resolves again,
// holding the lock (run.go).
//
// It is orchestration: it imports the cache, the API client's interface and
// the placement packages, and is used by the gizmo prepare and gizmo place
// commands.
package prepare
