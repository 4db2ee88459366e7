package cache

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/internal/lockedfile"
	"github.com/antimlabs/gizmo/internal/testhook"
)

// A lock file is taken once per process for all the process's holders
// that may share it: the stores of a sync take gc.lock shared, and the
// key's lock file, one of 4,096 that many keys share (keyLockPath). Without
// this each store opened and locked both files itself (three system calls
// each), and two stores of the same process whose keys share a lock file
// waited for each other, polling, although only equal keys need to.
//
// Across processes nothing changes: the file is locked (exclusive for a
// key's stripe, shared for gc.lock) from the first holder's arrival to the
// last one's departure, and another process waits for it as before.
// Within the process, equal keys still exclude each other, without
// polling. A process holds a stripe for as long as any of its keys in
// that stripe is being stored; another process's store in the stripe
// waits until none is (as it waited for a single holder before). So that
// a busy process (a sync with a hundred stores in flight) cannot keep a
// stripe for ever, a process that finds a stripe taken announces its wait
// with a shared lock on locks/key.want while it waits; a process that has
// held a stripe for stripeHoldMax lets its new holders of the stripe wait
// while someone waits for it, lets go once its current holders are done,
// and takes it again after stripeGap, longer than lockedfile's longest
// poll, in which the waiter gets in.

// procLocks holds this process's procLock of each lock file.
var procLocks sync.Map // path → *procLock

// procLock is this process's hold on one lock file.
type procLock struct {
	turn chan struct{} // one slot: held while n or lk change
	n    int           // holders
	lk   *lockedfile.Lock

	mu   sync.Mutex
	keys map[string]chan struct{} // keys held in the process → closed on release

	// Guarded by turn: when lk was taken; while the hold is being let go
	// for another process, a channel closed when it is; after that, when
	// the process may take it again.
	since  time.Time
	drain  chan struct{}
	resume time.Time
}

// How long a process keeps a key stripe that another process waits for
// before it lets go, and how long it then stays away.
const (
	stripeHoldMax = 250 * time.Millisecond
	stripeGap     = 25 * time.Millisecond
)

// keyWantName is the file a process waiting for a key stripe holds shared.
const keyWantName = "key.want"

// gcWantName is the file a process waiting to take gc.lock alone (GC,
// Remove, verify --repair, RepairIndex) holds shared. gc.lock is shared
// by every store of a process while it publishes, and a busy process (the
// agent's sync with eight downloads in flight, each publishing in turn)
// would otherwise hold it without a break: a process that holds it while
// someone waits for it lets new holders wait until the current ones are
// done, lets go, and stays away for stripeGap, as for a key stripe.
const gcWantName = "gc.want"

// sharedHoldMax is how long a process keeps the lock file path, shared among
// its holders, while another process waits for it: stripeHoldMax for a
// key stripe; none for gc.lock, which GC and its kin, rare and short,
// get as soon as the publishes under way are done.
func sharedHoldMax(path string) time.Duration {
	if filepath.Base(path) == gcLockName {
		return 0
	}
	return stripeHoldMax
}

// wantPath is the file whose shared lock announces a wait for the lock
// file path.
func wantPath(path string) string {
	if filepath.Base(path) == gcLockName {
		return filepath.Join(filepath.Dir(path), gcWantName)
	}
	return filepath.Join(filepath.Dir(path), keyWantName)
}

func procLockOf(path string) *procLock {
	if x, ok := procLocks.Load(path); ok {
		return x.(*procLock)
	}
	x, _ := procLocks.LoadOrStore(path, &procLock{turn: make(chan struct{}, 1), keys: make(map[string]chan struct{})})
	return x.(*procLock)
}

// holdLock takes path's lock file for one holder of this process:
// exclusive or shared across processes. A non-empty key is also held
// alone within the process: a second holder of the same key waits for the
// first to release. The returned function releases the hold, once. All
// the holders of one path must ask for the same mode (the first one's is
// the one taken).
func holdLock(ctx context.Context, path, key string, exclusive bool) (release func(), err error) {
	p := procLockOf(path)
	waiting := lockWaitOf(ctx)
	if key != "" && testhook.LoggingLocks() {
		ctx = testhook.WithLockKey(ctx, key)
	}
	if key != "" {
		if err := p.claim(ctx, key, waiting); err != nil {
			return nil, err
		}
	}
	unclaim := func() {
		if key != "" {
			p.unclaim(key)
		}
	}
	takeTurn := func() error {
		select {
		case p.turn <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := takeTurn(); err != nil {
		unclaim()
		return nil, err
	}
	for {
		var wait <-chan struct{}
		var gap time.Duration
		switch {
		case p.n > 0 && (p.drain != nil || time.Since(p.since) >= sharedHoldMax(path) && lockWanted(path)):
			// Another process waits for this lock file (a key stripe, or
			// gc.lock alone): let it go once the holders are done.
			if p.drain == nil {
				p.drain = make(chan struct{})
			}
			wait = p.drain
		case p.n == 0 && time.Now().Before(p.resume):
			// Let go for another process: stay away for the gap, in which
			// the waiter gets in (a holder that has just released does
			// not take it straight back).
			gap = time.Until(p.resume)
		}
		if wait == nil && gap <= 0 {
			break
		}
		<-p.turn
		waiting()
		err := func() error {
			if wait != nil {
				select {
				case <-wait:
					return takeTurn()
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			t := time.NewTimer(gap)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
			return takeTurn()
		}()
		if err != nil {
			unclaim()
			return nil, err
		}
	}
	if p.n == 0 {
		lk, err := acquireAnnounced(ctx, path, exclusive, waiting)
		if err != nil {
			<-p.turn
			unclaim()
			return nil, err
		}
		p.lk, p.since = lk, time.Now()
	}
	p.n++
	<-p.turn
	var since time.Time // of the key's hold, when holds are logged
	if key != "" && testhook.LoggingHolds() {
		since = time.Now()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if !since.IsZero() {
				testhook.Held(path, "exclusive", key, since, time.Since(since))
			}
			p.turn <- struct{}{}
			if p.n--; p.n == 0 {
				p.lk.Unlock()
				p.lk = nil
				if p.drain != nil {
					close(p.drain)
					p.drain = nil
					p.resume = time.Now().Add(stripeGap)
				}
			}
			<-p.turn
			unclaim()
		})
	}, nil
}

// acquireAnnounced takes path's lock; when another process holds it
// against an exclusive wait (a key stripe, gc.lock for GC), it holds the
// lock's want file shared while it waits, so that the holder lets go. A
// shared wait is not announced: only GC and its kin take gc.lock alone,
// and a store's shared wait for them is short.
func acquireAnnounced(ctx context.Context, path string, exclusive bool, waiting func()) (*lockedfile.Lock, error) {
	lk, err := lockedfile.TryAcquire(path, exclusive)
	if !errors.Is(err, lockedfile.ErrLocked) {
		return lk, err
	}
	waiting()
	// A holder probing the want file holds it alone for an instant.
	for i := 0; exclusive && i < 3; i++ {
		if w, err := lockedfile.TryAcquire(wantPath(path), false); err == nil {
			defer w.Unlock()
			break
		}
	}
	return lockedfile.Acquire(ctx, path, exclusive)
}

// lockGCAlone takes gc.lock exclusive, as GC, Remove, verify --repair and
// RepairIndex do, announcing the wait (gc.want) so that a process whose
// stores keep it shared lets go.
func (c *Cache) lockGCAlone(ctx context.Context) (*lockedfile.Lock, error) {
	return acquireAnnounced(ctx, filepath.Join(c.root, locksDir, gcLockName), true, func() {})
}

// lockWanted tells whether a process waits for the lock file path: any key
// stripe of the cache (one file serves them all), or gc.lock.
func lockWanted(path string) bool {
	w, err := lockedfile.TryAcquire(wantPath(path), true)
	if err != nil {
		return errors.Is(err, lockedfile.ErrLocked)
	}
	w.Unlock()
	return false
}

type lockWaitKey struct{}

// WithLockWait returns a context for Store and StoreChecked that calls
// fn, in the caller's goroutine, before the store waits for its key's
// lock (held by another store of this process or another), at most once.
// The sync engine gives back its download slot there: it takes the slot
// before the key's lock, so that a store holds its key's lock only while
// it downloads, and never while it queues for the network.
func WithLockWait(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, lockWaitKey{}, fn)
}

// NotifyLockWait calls ctx's WithLockWait function, if any: for a store
// other than Cache's (a wrapper that waits on something of its own) to say
// it is about to wait before its download.
func NotifyLockWait(ctx context.Context) {
	if fn, _ := ctx.Value(lockWaitKey{}).(func()); fn != nil {
		fn()
	}
}

// lockWaitOf is the WithLockWait function of ctx, callable any number of
// times (it runs once), or a no-op.
func lockWaitOf(ctx context.Context) func() {
	fn, _ := ctx.Value(lockWaitKey{}).(func())
	if fn == nil {
		return func() {}
	}
	done := false
	return func() {
		if !done {
			done = true
			fn()
		}
	}
}

// claim waits until no other holder of the process holds key, and takes it.
func (p *procLock) claim(ctx context.Context, key string, waiting func()) error {
	for {
		p.mu.Lock()
		busy, ok := p.keys[key]
		if !ok {
			p.keys[key] = make(chan struct{})
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		waiting()
		select {
		case <-busy:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *procLock) unclaim(key string) {
	p.mu.Lock()
	close(p.keys[key])
	delete(p.keys, key)
	p.mu.Unlock()
}

// lockKey holds key kh's lock: its stripe's lock file, exclusive across
// processes, and kh alone within the process.
func (c *Cache) lockKey(ctx context.Context, kh string) (func(), error) {
	return holdLock(ctx, c.keyLockPath(kh), kh, true)
}

// shareGC holds gc.lock shared, as a store or an unpack does while it
// publishes: GC, which takes it exclusive, waits.
func (c *Cache) shareGC(ctx context.Context) (func(), error) {
	return holdLock(ctx, filepath.Join(c.root, locksDir, gcLockName), "", false)
}
