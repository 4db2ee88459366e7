package lockedfile

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestExclusiveExcludes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lock")
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				l, err := Acquire(context.Background(), p, true)
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				inside.Add(-1)
				l.Unlock()
			}
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d holders at once", most.Load())
	}
}

func TestSharedAndTry(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lock")
	r1, err := Acquire(context.Background(), p, false)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := TryAcquire(p, false)
	if err != nil {
		t.Fatalf("a second shared lock was refused: %v", err)
	}
	if _, err := TryAcquire(p, true); !errors.Is(err, ErrLocked) {
		t.Fatalf("exclusive while shared held: %v", err)
	}
	// Waiting honours the context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, p, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire under a held lock: %v", err)
	}
	r1.Unlock()
	r2.Unlock()
	r2.Unlock() // twice is fine
	w, err := TryAcquire(p, true)
	if err != nil {
		t.Fatalf("exclusive after release: %v", err)
	}
	w.Unlock()
	var nilLock *Lock
	if err := nilLock.Unlock(); err != nil {
		t.Fatal(err)
	}
}
