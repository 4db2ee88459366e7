package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"github.com/antimlabs/gizmo/internal/lockedfile"
)

// How the committer shares the index with other processes (see "Many
// processes" in the package comment).
const (
	// linger is how long the committer keeps the index open after its
	// last write, for the writes and reads that follow (a sync stores a
	// file every few milliseconds). Another process that asks for the
	// index gets it at once instead.
	linger = 20 * time.Millisecond
	// holdMax bounds how long the committer keeps the index without a
	// break, for programs that wait on index.lock without announcing
	// themselves in index.want; the break lasts holdGap, longer than
	// lockedfile's longest poll interval.
	holdMax = 250 * time.Millisecond
	holdGap = 25 * time.Millisecond
	// yieldMax bounds how long the committer stands aside for processes
	// announced in index.want before it queues for the index again.
	yieldMax = 250 * time.Millisecond
	// probeEvery is how often a lingering committer checks index.want.
	probeEvery = 2 * time.Millisecond
)

// reopenWait bounds how long a read waits for a running committer without
// a handle (starting, back from a holdGap break, reopening after its
// linger) before it opens the index read-only itself.
var reopenWait = 4 * holdGap // tests lengthen it

// indexes holds this process's indexDB of each index file.
var indexes sync.Map // db path → *indexDB

// indexDB is this process's access to one index file. It serialises the
// process's Cache values (flock would too, but with polling), and runs the
// group commit: writes are queued, and one committer goroutine opens the
// index read-write once, commits everything queued in one transaction,
// keeps going while writes keep coming, and closes it after linger idle
// time or as soon as another process wants the index. Reads run on the
// committer's open handle when there is one, wait for it while a running
// committer is without one (except while it yields to another process),
// and else run on a read-only open of their own.
type indexDB struct {
	path, lockPath, wantPath, root string

	// rw is held for writing by the committer while its handle is open,
	// and for reading by each read-only open.
	rw sync.RWMutex

	mu      sync.Mutex
	idle    *sync.Cond    // signalled when users drops to 0
	queue   []*writeReq   // writes waiting for the committer
	running bool          // a committer goroutine is running
	wake    chan struct{} // nudges a lingering committer
	db      *bolt.DB      // the committer's open handle, shared with reads; nil when none
	// reopen is non-nil while a committer runs without a handle, other
	// than yielding to another process (it has just started, or closed
	// its handle and will reopen or stop): closed when it has one or
	// stops. Reads wait for it (up to reopenWait) instead of opening the
	// index read-only: a sync of 3,000 files made 400 read-only opens
	// otherwise, and a read-only open delays the committer's reopening.
	reopen chan struct{}
	// closing asks the committer to commit what is queued and stop, rather
	// than linger or come back after a break (Cache.Close).
	closing bool
	dbFile  os.FileInfo // the file db has open, as it was opened
	users   int         // reads running on db

	// For tests: write transactions committed, read-write and read-only
	// opens, and read-only opens decided while a committer ran.
	commits, opens, roOpens, roRunning atomic.Int64
}

type writeReq struct {
	fn    func(tx *bolt.Tx) error
	batch bool // fn may share a transaction with others (and be run again)
	done  chan error
}

func (c *Cache) index() *indexDB {
	if x, ok := indexes.Load(c.dbPath()); ok {
		return x.(*indexDB)
	}
	x := &indexDB{
		path:     c.dbPath(),
		lockPath: filepath.Join(c.root, dbLockName),
		wantPath: filepath.Join(c.root, dbWantName),
		root:     c.root,
		wake:     make(chan struct{}, 1),
	}
	x.idle = sync.NewCond(&x.mu)
	v, _ := indexes.LoadOrStore(c.dbPath(), x)
	return v.(*indexDB)
}

// view runs fn in a read transaction.
func (c *Cache) view(fn func(tx *bolt.Tx) error) error { return c.index().view(fn) }

// update runs fn in a write transaction of its own. fn may have effects
// beyond the transaction (collecting what it deleted, say).
func (c *Cache) update(fn func(tx *bolt.Tx) error) error { return c.index().update(fn, false) }

// updateBatch runs fn in a write transaction that it may share with other
// writes of this process (group commit). fn must depend on nothing but tx
// and may be run more than once: when another write of the batch fails,
// the others are run again without it. fn's error is its own.
func (c *Cache) updateBatch(fn func(tx *bolt.Tx) error) error { return c.index().update(fn, true) }

func (x *indexDB) update(fn func(tx *bolt.Tx) error, batch bool) error {
	r := &writeReq{fn: fn, batch: batch, done: make(chan error, 1)}
	x.mu.Lock()
	x.queue = append(x.queue, r)
	if !x.running {
		x.running = true
		x.reopen = make(chan struct{})
		go x.commitLoop()
	}
	x.mu.Unlock()
	select {
	case x.wake <- struct{}{}:
	default:
	}
	return <-r.done
}

func (x *indexDB) view(fn func(tx *bolt.Tx) error) error {
	x.mu.Lock()
	var timeout <-chan time.Time
	for x.db == nil && x.reopen != nil {
		if timeout == nil {
			t := time.NewTimer(reopenWait)
			defer t.Stop()
			timeout = t.C
		}
		ch := x.reopen
		x.mu.Unlock()
		select {
		case <-ch:
			x.mu.Lock()
			continue
		case <-timeout:
		}
		x.mu.Lock()
		break
	}
	if db := x.db; db != nil && x.current() {
		x.users++
		x.mu.Unlock()
		err := guardIndex(x.path, func() error { return db.View(fn) })
		x.mu.Lock()
		if x.users--; x.users == 0 {
			x.idle.Broadcast()
		}
		x.mu.Unlock()
		return err
	}
	if x.running {
		x.roRunning.Add(1)
	}
	x.mu.Unlock()
	x.rw.RLock()
	defer x.rw.RUnlock()
	lk, db, err := x.open(false)
	if err != nil {
		return err
	}
	x.roOpens.Add(1)
	defer lk.Unlock()
	err = guardIndex(x.path, func() error { return db.View(fn) })
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close cache index %s: %w", x.path, cerr)
	}
	return err
}

// current reports whether the committer's handle is still on the file at
// the index's path. Callers hold mu.
func (x *indexDB) current() bool {
	st, err := os.Stat(x.path)
	return err == nil && x.dbFile != nil && os.SameFile(st, x.dbFile)
}

// open takes index.lock (shared for a read-only open) and opens the index.
func (x *indexDB) open(write bool) (*lockedfile.Lock, *bolt.DB, error) {
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	lk, err := x.acquire(ctx, write)
	if err != nil {
		return nil, nil, fmt.Errorf("cache index %s is held by another process for over %v: %w", x.path, lockTimeout, err)
	}
	// A file cut short or garbled is refused before bbolt maps it: bbolt
	// trusts its pages, and reading one past the end of the file faults.
	if _, _, _, err := readBoltMeta(x.path); errors.Is(err, ErrIndexDamaged) {
		lk.Unlock()
		return nil, nil, err
	}
	var db *bolt.DB
	err = guardIndex(x.path, func() (err error) {
		db, err = bolt.Open(x.path, 0o644, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: !write})
		return err
	})
	if err != nil {
		lk.Unlock()
		if errors.Is(err, ErrIndexDamaged) {
			return nil, nil, err
		}
		return nil, nil, openError(x.path, x.root, err)
	}
	return lk, db, nil
}

// acquire takes index.lock. When another process holds it, the wait is
// announced with a shared lock on index.want, which tells a lingering
// committer in that process to let go.
//
// Readers share index.lock, and the reads of many processes overlap: a
// writer waiting for it alone would wait until they happen not to. So a
// waiting writer also holds index.writer shared, and a new reader that
// finds it held lets the writer go first (for up to readerDefer).
func (x *indexDB) acquire(ctx context.Context, exclusive bool) (*lockedfile.Lock, error) {
	if !exclusive {
		x.deferToWriter(ctx)
	}
	lk, err := lockedfile.TryAcquire(x.lockPath, exclusive)
	if err == nil || !errors.Is(err, lockedfile.ErrLocked) {
		return lk, err
	}
	// A committer probing index.want holds it alone for an instant.
	for i := 0; i < 3; i++ {
		if w, err := lockedfile.TryAcquire(x.wantPath, false); err == nil {
			defer w.Unlock()
			break
		}
	}
	if exclusive {
		if w, err := lockedfile.TryAcquire(filepath.Join(x.root, dbWriterName), false); err == nil {
			defer w.Unlock()
		}
	}
	return lockedfile.Acquire(ctx, x.lockPath, exclusive)
}

// readerDefer bounds how long a new reader lets waiting writers go first.
const readerDefer = 100 * time.Millisecond

// deferToWriter waits while another process waits to write the index
// (holds index.writer), for up to readerDefer.
func (x *indexDB) deferToWriter(ctx context.Context) {
	// Opened without creating it: readers create no file (a writer
	// waiting creates it).
	f, err := os.Open(filepath.Join(x.root, dbWriterName))
	if err != nil {
		return
	}
	defer f.Close()
	for t0 := time.Now(); time.Since(t0) < readerDefer && ctx.Err() == nil; time.Sleep(time.Millisecond) {
		if !wanted(f) {
			return
		}
	}
}

// wanted reports whether another process waits for the index: whether
// index.want, open as w, is locked shared by anyone. The committer keeps w
// open so that probing creates no file (a test may be removing the
// directory meanwhile).
func wanted(w *os.File) bool {
	if w == nil {
		return false
	}
	err := unix.Flock(int(w.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	unix.Flock(int(w.Fd()), unix.LOCK_UN)
	return false
}

// commitLoop is the committer: it opens the index read-write, commits what
// is queued, and lingers for more, until the queue has been empty for
// linger or another process wants the index; then it closes the index and
// stops, or, with writes still queued, stands aside and starts over.
func (x *indexDB) commitLoop() {
	for {
		x.rw.Lock()
		lk, db, err := x.open(true)
		x.mu.Lock()
		if err != nil {
			q := x.queue
			x.queue, x.running = nil, false
			x.reopened()
			x.mu.Unlock()
			x.rw.Unlock()
			for _, r := range q {
				r.done <- err
			}
			return
		}
		x.db = db
		x.reopened()
		// The file opened, to notice it being removed or replaced (a cache
		// directory deleted and created again) while the handle is open.
		x.dbFile, _ = os.Stat(x.path)
		x.opens.Add(1)
		x.mu.Unlock()
		// Without index.want (no permission, say) the committer never
		// yields early: holdMax still bounds its hold.
		want, _ := os.OpenFile(x.wantPath, os.O_RDWR|os.O_CREATE, 0o666)

		start, last := time.Now(), time.Now()
		yield, gap := false, false
		for {
			x.mu.Lock()
			current := x.current()
			x.mu.Unlock()
			if !current {
				break // with writes queued, reopen at once
			}
			x.mu.Lock()
			q := x.queue
			x.queue = nil
			x.mu.Unlock()
			if len(q) > 0 {
				x.commitAll(db, q)
				last = time.Now()
			}
			if wanted(want) {
				yield = true
				break
			}
			if time.Since(start) >= holdMax {
				gap = true
				break
			}
			x.mu.Lock()
			empty, closing := len(x.queue) == 0, x.closing
			x.mu.Unlock()
			if empty && (closing || time.Since(last) >= linger) {
				break
			}
			if empty {
				t := time.NewTimer(min(probeEvery, linger-time.Since(last)))
				select {
				case <-x.wake:
				case <-t.C:
				}
				t.Stop()
			}
		}

		x.mu.Lock()
		x.db, x.dbFile = nil, nil
		if !yield {
			// The committer comes back (at once with writes queued, after
			// its break with or without) or stops: reads wait to see
			// which rather than open the index themselves. A yield lets
			// another process in, which reads could only delay.
			x.reopen = make(chan struct{})
		}
		for x.users > 0 {
			x.idle.Wait()
		}
		x.mu.Unlock()
		db.Close() // nothing to flush: every transaction is committed
		lk.Unlock()
		x.rw.Unlock()

		x.mu.Lock()
		_, statErr := os.Stat(x.path)
		if len(x.queue) == 0 && (!gap || x.closing || errors.Is(statErr, os.ErrNotExist)) {
			// (Nor after a break when the cache is being closed, or its
			// index is gone: a cache directory removed must not be made
			// again by a committer with nothing to write.)
			// (After a break the committer comes back even with nothing
			// queued, and lingers as usual: the writes of a busy process
			// keep coming.)
			x.running = false
			x.reopened()
			x.mu.Unlock()
			if want != nil {
				want.Close()
			}
			return
		}
		x.mu.Unlock()
		switch {
		case yield:
			// Let the processes announced in index.want take their turn.
			for t0 := time.Now(); time.Since(t0) < yieldMax && wanted(want); {
				time.Sleep(time.Millisecond)
			}
		case gap:
			time.Sleep(holdGap)
		}
		if want != nil {
			want.Close()
		}
	}
}

// reopened releases the reads waiting for the committer's handle: it has
// one, or has stopped. Callers hold mu.
func (x *indexDB) reopened() {
	if x.reopen != nil {
		close(x.reopen)
		x.reopen = nil
	}
}

// commitAll commits the queued writes in order: each run of batchable
// writes in one transaction, every other write in one of its own.
func (x *indexDB) commitAll(db *bolt.DB, q []*writeReq) {
	for len(q) > 0 {
		n := 1
		if q[0].batch {
			for n < len(q) && q[n].batch {
				n++
			}
		}
		x.commitGroup(db, q[:n])
		q = q[n:]
	}
}

// commitGroup commits the writes of group in one transaction. A write that
// fails gets its error and the others are run again without it, so one
// failure never costs the others their commit.
func (x *indexDB) commitGroup(db *bolt.DB, group []*writeReq) {
	for len(group) > 0 {
		failed := -1
		var ferr error
		x.commits.Add(1)
		// A damaged index makes bbolt panic: every write of the group
		// gets the error.
		err := guardIndex(x.path, func() error {
			return db.Update(func(tx *bolt.Tx) error {
				for i, r := range group {
					if err := r.fn(tx); err != nil {
						failed, ferr = i, err
						return err
					}
				}
				return nil
			})
		})
		if errors.Is(err, ErrIndexDamaged) {
			failed = -1
		}
		if failed < 0 {
			for _, r := range group {
				r.done <- err
			}
			return
		}
		group[failed].done <- ferr
		rest := make([]*writeReq, 0, len(group)-1)
		rest = append(rest, group[:failed]...)
		group = append(rest, group[failed+1:]...)
	}
}

// quiesce lets the committer commit what is queued and stop, and waits
// (at most a few seconds) until it has: nothing of the index is open or
// about to be opened by this process afterwards, unless new writes come.
func (x *indexDB) quiesce() {
	x.mu.Lock()
	x.closing = true
	x.mu.Unlock()
	select {
	case x.wake <- struct{}{}:
	default:
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		x.mu.Lock()
		running := x.running
		x.mu.Unlock()
		if !running {
			break
		}
	}
	x.mu.Lock()
	x.closing = false
	x.mu.Unlock()
}
