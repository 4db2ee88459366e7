// Package cache is gizmo's local cache: a bbolt index over content-addressed,
// immutable files. Simulators read models straight from it, so it never shows
// a partial or corrupt file at a final path, survives kill -9 and power loss
// at any instant, and serves any number of gizmo processes at once.
//
// # Layout on disk
//
//	<root>/
//	  CACHEDIR.TAG            marks the directory as a cache (backup tools skip it)
//	  index.db                the bbolt index (below)
//	  index.lock              readers share it, writers hold it alone (flock)
//	  blobs/<h[:2]>/<h>       every download, stored once by its SHA-256 <h>; read-only
//	  trees/<h>/...           the download unpacked: a zip's files, or the single
//	                          model file as model.urdf|model.xml|model.usda|model.usdc;
//	                          renamed into place complete, then never changed (read-only)
//	  tmp/<k>-*.part|.tree    downloads and extractions in progress for key <k>
//	  locks/<k>.lock          per-(asset, format) lock; <k> = first 16 bytes of
//	                          SHA-256(id NUL format), hex: ids never become paths
//	  locks/gc.lock           Store holds it shared while publishing; GC, Remove
//	                          and verify --repair hold it alone
//
// # The index (index.db)
//
//	meta/
//	  "schema"            → uint64, big-endian: the schema version (see migrations)
//	assets/
//	  <id>                → JSON AssetMeta: the asset as last listed
//	names/                  (schema 2)
//	  <name> NUL <id>     → empty: finds assets by name without a scan
//	entries/
//	  <id> NUL <format>   → JSON Entry: hash, size, kind, files, model, ETag,
//	                        fetch time, validation
//	urls/
//	  <id> NUL <format>   → JSON {url, expires}: the last export URL, reused
//	                        until it expires. It is pre-signed (not the API key)
//	                        and is never printed.
//
// # Writing: the Go module cache's protocol
//
// Store takes the per-key lock, checks again whether another goroutine or
// process has stored the key meanwhile, removes the key's stale temp files
// (safe only under the lock), streams the download into a temp file while
// hashing it (never the whole file in memory), fsyncs it and checks its size,
// detects its kind from its bytes, unpacks a zip into a temp tree with the
// hostile-archive rules of package archive (a single model file is
// hard-linked into its tree instead), finds the model file, makes the tree
// read-only and durable (one syncfs(2)), then — holding gc.lock shared —
// renames the blob and the tree into place, fsyncs their directories and
// commits the index record last. A crash leaves at worst temp files, which the
// next Store of that key, GC or verify --repair removes, or published files
// no record references, which GC removes. Correctness does not depend on the
// locks: two writers of one key produce the same content-addressed files and
// only cost bandwidth.
//
// # Schema
//
// meta/schema holds the version; migrations (schema.go) are applied in
// order, each in one write transaction, each with its own test. An index with
// a newer schema than this gizmo knows is refused (ErrSchemaTooNew) and left
// untouched.
//
// # Many processes
//
// bbolt holds an flock on its file while open, so the index is opened per
// operation and closed right after, never across I/O or a download. Readers
// open it read-only under a shared index.lock; writers open it read-write
// under an exclusive one; every transaction is short, so a command waits
// milliseconds for another process, never fails because one is running.
package cache
