package cache

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// Durability is group-committed like the index (see "Writing" in the
// package comment): a store writes its temp file and tree without syncing
// them, then waits for a flush that starts after its writes; one flush
// serves every store waiting at that moment. On Linux a flush is one
// syncfs(2) of the cache's file system; elsewhere, or when syncfs fails
// for want of support, it is an fsync of each path the waiting stores
// named (files, then directories).
//
// syncfs also writes other programs' dirty data on that file system; in
// exchange a store costs a share of two flushes instead of about ten
// fsyncs (each of which, on ext4, also writes the parents of a new file):
// 1,191 syncfs calls for a 900-file sync, against 7,353 fsyncs before.

// flushers holds this process's flushGroup of each cache root.
var flushers sync.Map // root → *flushGroup

// flushGroup runs the flushes of one cache root, at most maxFlushes at a
// time.
type flushGroup struct {
	root string

	mu      sync.Mutex
	cond    *sync.Cond
	started uint64           // flushes started (the last one's number)
	done    uint64           // the highest number of a finished flush
	running int              // flushes running
	pending []string         // paths named by the stores waiting for the next flush
	errs    map[uint64]error // the flushes that failed (rare; kept)
}

// maxFlushes is how many flushes may run at once. With more than one, a
// store that arrives while a flush runs starts the next at once instead of
// waiting for it to end (a flush only covers the writes finished before it
// started): less latency, but flushes then serve fewer stores each, and
// each costs system time. Measured with sync/bench/bench.sh (3,000 files),
// 1 and 2 gave the same wall time within the noise, and 1 the least system
// CPU (3.8-4.1 s against 4.4-5.4 s).
const maxFlushes = 1

// gather is how long a flush waits before it starts, for more stores to
// join it: the stores of a sync are spread out (downloads overlap them),
// so without it most flushes served one store. Measured with
// sync/bench/bench.sh's workload (3,000 files), alternated runs: medians
// 3.39 s at 0, 2.94 s at 1 ms (five runs each; 2 ms no better), and
// syncfs calls 3,432 -> 2,015. A store waits for two flushes, so it costs
// each store about 2 ms, off the downloads' path.
var gather = time.Millisecond // tests lengthen it

func (c *Cache) flusher() *flushGroup {
	if x, ok := flushers.Load(c.root); ok {
		return x.(*flushGroup)
	}
	g := &flushGroup{root: c.root, errs: map[uint64]error{}}
	g.cond = sync.NewCond(&g.mu)
	v, _ := flushers.LoadOrStore(c.root, g)
	return v.(*flushGroup)
}

// durable returns once everything this goroutine wrote under the cache
// root before the call is on stable storage. paths lists what it wrote
// (files and directories, directories after their contents), for systems
// without syncfs.
func (c *Cache) durable(paths ...string) error {
	return c.flusher().wait(paths)
}

func (g *flushGroup) wait(paths []string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending = append(g.pending, paths...)
	// A flush already running may have started before our writes
	// finished: only one started from now on is sure to cover them, and
	// any such flush will do (flush n covers all that flush m < n covers).
	target := g.started + 1
	for g.done < target {
		if g.started >= target || g.running >= maxFlushes {
			g.cond.Wait()
			continue
		}
		g.running++
		// Not started yet: stores arriving meanwhile join this flush
		// (their target is started+1, this flush's number).
		g.mu.Unlock()
		time.Sleep(gather)
		g.mu.Lock()
		g.started++
		n := g.started
		ps := g.pending
		g.pending = nil
		g.mu.Unlock()
		err := flushFS(g.root, ps)
		g.mu.Lock()
		g.running--
		g.done = max(g.done, n)
		if err != nil {
			g.errs[n] = err
		}
		g.cond.Broadcast()
	}
	for n := target; n <= g.done; n++ {
		if err := g.errs[n]; err != nil {
			return fmt.Errorf("make the cache's files durable: %w (check free space and the disk)", err)
		}
	}
	return nil
}

// flushFS makes the writes under root durable: syncfs where there is one,
// else an fsync of each path. Tests swap it.
var flushFS = func(root string, paths []string) error {
	err := atomicfile.SyncFS(root)
	if errors.Is(err, atomicfile.ErrNoSyncFS) {
		return atomicfile.SyncEach(paths)
	}
	return err
}
