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
//	  index.want              a process waiting for index.lock holds it shared,
//	                          telling a lingering committer to let go
//	  index.writer            a process waiting to write the index holds it
//	                          shared; a new reader lets it go first (100 ms at most)
//	  blobs/<h[:2]>/<h>       every download, stored once by its SHA-256 <h>; read-only
//	  trees/<h>/...           the download unpacked, on first use (Unpack): a zip's
//	                          files, or the single model file under the server's name
//	                          for it (arm_1.usda; model.urdf|.xml|.usda|.usdc without
//	                          one, and in trees stored before); renamed into place
//	                          complete, then never changed (read-only)
//	  tmp/<k>-*.part|.tree    downloads and extractions in progress for key <k>
//	  locks/key-<k[:3]>.lock  per-(asset, format) lock, shared by the keys whose
//	                          <k> starts alike (4,096 files); <k> = first 16 bytes
//	                          of SHA-256(id NUL format), hex: ids never become paths
//	  locks/key.want          a process waiting for a key stripe holds it shared,
//	                          telling a process that has held it long to let go
//	  locks/gc.lock           Store holds it shared while publishing; GC, Remove
//	                          and verify --repair hold it alone
//	  locks/gc.want           a process waiting to hold gc.lock alone holds it
//	                          shared, telling a process whose stores have shared
//	                          gc.lock long to let go
//
// A process locks each of these lock files once for all its goroutines
// that may share it (proclock.go): the stores of a sync that share gc.lock,
// or whose keys share a key-lock file. Other processes wait as for one
// holder; within the process only equal keys wait for each other.
//
// # The index (index.db)
//
//	meta/
//	  "schema"            → uint64, big-endian: the schema version (see migrations)
//	assets/
//	  <id>                → JSON AssetMeta: the asset as last listed (for a
//	                        scene, its revision: a new one drops its entries)
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
// The first Store of a Cache removes the stale temp files of every key
// whose lock is free (their writers are gone). Store then takes the
// per-key lock, checks the index (one read) in case another goroutine or
// process has stored the key meanwhile, streams the download into a temp
// file while hashing it (keeping a copy in memory only up to 256 KiB, so
// that checking need not read the file back), checks its size, and detects
// its kind from its bytes. A zip is checked in full with the
// hostile-archive rules of package archive (names, types, sizes, ratios,
// CRCs: archive.OpenVerified, which writes nothing) and its model file found
// among its entries; it is not unpacked. Then the temp file is made
// durable, renamed into place as the blob (holding gc.lock shared), the
// rename made durable, and the index record committed last (group commit,
// below); Store returns once it is committed.
//
// Trees are made on first use: Unpack (called by gizmo cache path, export,
// prepare) follows the same protocol under the key's lock: a temp tree
// tmp/<k>-*.tree, unpacked with archive's rules (a single model file is
// hard-linked instead), made read-only and durable, renamed into
// trees/<h>, the rename made durable. A mirror of a whole account so writes
// one file per download, and unpacks only what someone uses; a validator
// reads a download where its tree will be without unpacking it (Files, an
// archive.Overlay).
//
// A crash leaves at worst temp files, which the next process's first
// Store, the next Unpack of that key, GC or verify --repair removes, or published files no record
// references, which GC removes. Correctness does not depend on the locks:
// two writers of one key produce the same content-addressed files and only
// cost bandwidth.
//
// Durability is grouped too (durable.go). Each "made durable" above waits
// for a flush that starts after the store's own writes, and one flush
// serves every store waiting for it: on Linux one syncfs(2) of the cache's
// file system, elsewhere an fsync of each file and directory the waiting
// stores wrote. A store waits for two flushes (its file, then its rename)
// and shares each with the stores waiting at that moment: strace of a
// 900-file sync counts 1,191 syncfs calls where there were 7,353
// fsyncs. The price: syncfs also writes other programs' dirty data on that
// file system.
//
// # Damage
//
// bbolt trusts its pages: a page that is not what its parent says makes it
// panic, and one past the end of a file cut short makes it fault. Every
// open first checks the meta pages and that the file holds every page they
// count, and every transaction runs with faults turned into panics and
// bbolt's panics recovered (indexdamage.go): a damaged index is an error
// wrapping ErrIndexDamaged, never a crash, never "held by another
// program". Verify reads every key of every bucket. RepairIndex
// (repair_index.go) rebuilds the index from each leaf page of the damaged
// file read on its own, keeping records that decode and entries whose
// download is in place. Verify reports a file it cannot read (permission,
// I/O) as unreadable, never as corrupt, and repairs nothing while one is
// reported; GC removes nothing while a folder cannot be listed.
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
// bbolt holds an flock on its file while open, so the index is never held
// open across I/O or a download, and only briefly across operations.
// Readers open it read-only under a shared index.lock; writers open it
// read-write under an exclusive one; every transaction is short.
//
// Writes are group-committed. In each process, one committer goroutine per
// index opens it read-write, commits everything queued in one transaction
// (Store's record, SetValidation and RecordURL share one; a write that
// fails is dropped from the batch and the rest committed without it; other
// writes get a transaction of their own), and keeps going while writes keep
// coming. Each caller returns once its own write is committed. Reads of the
// process run on the committer's handle while it is open, and wait for it
// while the committer is starting, reopening or coming back from a pause
// (below); not while it stands aside for another process. The committer
// closes the index after 20 ms without writes, and at once when another
// process waits: a process that finds index.lock taken holds index.want
// shared while it waits, and the committer, which checks index.want after
// every batch and every 2 ms while idle, lets go and stands aside until the
// waiter is in. For programs that wait without announcing themselves, it
// also pauses for 25 ms after 250 ms of continuous hold, and then comes
// back even with nothing queued (lingering as usual). So a command waits
// for another process about as long as one commit takes (milliseconds,
// a few hundred on a saturated disk), and never fails because one is
// running.
package cache
