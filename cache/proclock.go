package cache

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/antimlabs/gizmo/cache/lockedfile"
)

// A lock file is taken once per process for all the process's holders
// that may share it: the stores of a sync take gc.lock shared, and the
// key's lock file, one of 256 that many keys share (keyLockPath). Without
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
// waits until none is (as it waited for a single holder before).

// procLocks holds this process's procLock of each lock file.
var procLocks sync.Map // path → *procLock

// procLock is this process's hold on one lock file.
type procLock struct {
	turn chan struct{} // one slot: held while n or lk change
	n    int           // holders
	lk   *lockedfile.Lock

	mu   sync.Mutex
	keys map[string]chan struct{} // keys held in the process → closed on release
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
	if key != "" {
		if err := p.claim(ctx, key); err != nil {
			return nil, err
		}
	}
	unclaim := func() {
		if key != "" {
			p.unclaim(key)
		}
	}
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		unclaim()
		return nil, ctx.Err()
	}
	if p.n == 0 {
		lk, err := lockedfile.Acquire(ctx, path, exclusive)
		if err != nil {
			<-p.turn
			unclaim()
			return nil, err
		}
		p.lk = lk
	}
	p.n++
	<-p.turn
	var once sync.Once
	return func() {
		once.Do(func() {
			p.turn <- struct{}{}
			if p.n--; p.n == 0 {
				p.lk.Unlock()
				p.lk = nil
			}
			<-p.turn
			unclaim()
		})
	}, nil
}

// claim waits until no other holder of the process holds key, and takes it.
func (p *procLock) claim(ctx context.Context, key string) error {
	for {
		p.mu.Lock()
		busy, ok := p.keys[key]
		if !ok {
			p.keys[key] = make(chan struct{})
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
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
