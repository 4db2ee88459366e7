package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/lockedfile"
)

// stripeMates returns two different keys that share a lock file.
func stripeMates(t *testing.T, c *Cache) (string, string) {
	t.Helper()
	a := keyHash("ast_0", "mujoco_mjcf")
	for i := 1; i < 10000; i++ {
		if b := keyHash(fmt.Sprintf("ast_%d", i), "mujoco_mjcf"); c.keyLockPath(b) == c.keyLockPath(a) {
			return a, b
		}
	}
	t.Fatal("no two keys share a lock file")
	return "", ""
}

func TestLockKeyInProcess(t *testing.T) {
	c := openTest(t)
	a, b := stripeMates(t, c)
	ctx := context.Background()
	unlockA, err := c.lockKey(ctx, a)
	if err != nil {
		t.Fatal(err)
	}

	// Another key of the stripe, in this process: no wait.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	unlockB, err := c.lockKey(short, b)
	if err != nil {
		t.Fatalf("a key sharing a lock file with a held key waited: %v", err)
	}

	// Another process (here another open file description) cannot take
	// the stripe while either key is held.
	if lk, err := lockedfile.TryAcquire(c.keyLockPath(a), true); !errors.Is(err, lockedfile.ErrLocked) {
		lk.Unlock()
		t.Fatalf("stripe taken by another holder while two keys hold it: %v", err)
	}
	unlockA()
	if lk, err := lockedfile.TryAcquire(c.keyLockPath(a), true); !errors.Is(err, lockedfile.ErrLocked) {
		lk.Unlock()
		t.Fatalf("stripe taken by another holder while one key holds it: %v", err)
	}

	// The same key waits for its holder.
	got := make(chan error, 1)
	go func() {
		unlock, err := c.lockKey(ctx, b)
		if err == nil {
			unlock()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a second holder of the same key did not wait (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	unlockB()
	unlockB() // a second call does nothing
	if err := <-got; err != nil {
		t.Fatal(err)
	}

	// Everything released: another holder gets the stripe.
	lk, err := lockedfile.TryAcquire(c.keyLockPath(a), true)
	if err != nil {
		t.Fatalf("stripe still held after every key was released: %v", err)
	}
	lk.Unlock()
}

func TestLockKeyWaitsForOtherProcess(t *testing.T) {
	c := openTest(t)
	kh := keyHash("ast_1", "mujoco_mjcf")
	other, err := lockedfile.Acquire(context.Background(), c.keyLockPath(kh), true)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := c.lockKey(short, kh); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lockKey while another process holds the stripe: %v, want the context's deadline", err)
	}
	// The failed wait left nothing held: the key is free in the process
	// once the other holder lets go.
	other.Unlock()
	unlock, err := c.lockKey(context.Background(), kh)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

func TestLockKeyCanceledWhileKeyHeld(t *testing.T) {
	c := openTest(t)
	kh := keyHash("ast_1", "mujoco_mjcf")
	unlock, err := c.lockKey(context.Background(), kh)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := c.lockKey(short, kh); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder of a held key: %v, want the context's deadline", err)
	}
	unlock()
	unlock2, err := c.lockKey(context.Background(), kh)
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

func TestShareGC(t *testing.T) {
	c := openTest(t)
	path := c.root + "/" + locksDir + "/" + gcLockName
	u1, err := c.shareGC(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u2, err := c.shareGC(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// GC takes it exclusive: not while a store shares it.
	if lk, err := lockedfile.TryAcquire(path, true); !errors.Is(err, lockedfile.ErrLocked) {
		lk.Unlock()
		t.Fatalf("gc.lock taken exclusive while shared: %v", err)
	}
	// Another process's store shares it too.
	lk, err := lockedfile.TryAcquire(path, false)
	if err != nil {
		t.Fatalf("gc.lock not shared with another holder: %v", err)
	}
	lk.Unlock()
	u1()
	if lk, err := lockedfile.TryAcquire(path, true); !errors.Is(err, lockedfile.ErrLocked) {
		lk.Unlock()
		t.Fatalf("gc.lock taken exclusive while one holder remains: %v", err)
	}
	u2()
	lk, err = lockedfile.TryAcquire(path, true)
	if err != nil {
		t.Fatalf("gc.lock still held after both holders released: %v", err)
	}
	lk.Unlock()
}

// TestStoreAnnouncesLockWait: a store about to wait for its key's lock
// calls its WithLockWait function (the sync engine gives its download
// slot back there), once; a store that does not wait never calls it.
func TestStoreAnnouncesLockWait(t *testing.T) {
	c := openTest(t)
	ctx := context.Background()
	var calls atomic.Int32
	count := WithLockWait(ctx, func() { calls.Add(1) })
	if _, err := c.Store(count, "ast_free", "mujoco_mjcf", bytesFetch([]byte(mjcfDoc), "")); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("a store that waited for nothing announced %d waits", n)
	}
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := c.Store(ctx, "ast_1", "mujoco_mjcf", func(ctx context.Context, w Writer) (string, error) {
			close(started)
			<-release
			_, err := w.Write([]byte(mjcfDoc))
			return "", err
		})
		first <- err
	}()
	<-started
	announced := make(chan struct{})
	second := make(chan error, 1)
	go func() {
		ctx := WithLockWait(ctx, func() { calls.Add(1); close(announced) })
		_, err := c.Store(ctx, "ast_1", "mujoco_mjcf", bytesFetch([]byte(mjcfDoc), ""))
		second <- err
	}()
	select {
	case <-announced:
	case <-time.After(10 * time.Second):
		t.Fatal("the second store of a key being stored never announced its wait")
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d announcements, want 1", n)
	}
}

// A process whose stores keep gc.lock shared without a break (overlapping
// publishes) lets GC in: GC announces its wait on gc.want and the holder
// lets go once its current holders are done, instead of GC waiting for the
// whole sync.
func TestShareGCLetsGCIn(t *testing.T) {
	c := openTest(t)
	var stopOnce sync.Once
	stopped := make(chan struct{})
	stop := func() { stopOnce.Do(func() { close(stopped) }) }
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 10 * time.Millisecond)
			for {
				select {
				case <-stopped:
					return
				default:
				}
				unlock, err := c.shareGC(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(40 * time.Millisecond) // publishing, validating
				unlock()
			}
		}()
	}
	defer wg.Wait()
	defer stop()
	// The stores keep coming for 20 s unless GC gets in first.
	deadline := time.AfterFunc(20*time.Second, stop)
	defer deadline.Stop()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	lk, err := c.lockGCAlone(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	select {
	case <-stopped:
		t.Errorf("GC got gc.lock only after the stores stopped (%v)", took)
	default:
		t.Logf("GC got gc.lock after %v while stores kept sharing it", took.Round(time.Millisecond))
	}
	lk.Unlock()
	// The stores go on after GC.
	u, err := c.shareGC(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u()
}
