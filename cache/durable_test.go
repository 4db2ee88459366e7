package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFlushGroupShares: stores waiting at the same time share flushes, at
// most two run at once, and each store returns only after a flush that
// started after it asked.
func TestFlushGroupShares(t *testing.T) {
	var mu sync.Mutex
	var flushed [][]string
	started := make(chan chan struct{}, 100) // each flush's release
	g := &flushGroup{root: t.TempDir(), errs: map[uint64]error{}}
	g.cond = sync.NewCond(&g.mu)
	old := flushFS
	flushFS = func(root string, paths []string) error {
		release := make(chan struct{})
		started <- release
		<-release
		mu.Lock()
		flushed = append(flushed, append([]string(nil), paths...))
		mu.Unlock()
		return nil
	}
	t.Cleanup(func() { flushFS = old })
	done := make(chan string, 20)
	waiter := func(p string) { go func() { g.wait([]string{p}); done <- p }() }
	none := func(when string) {
		t.Helper()
		select {
		case p := <-done:
			t.Fatalf("%s: %s returned before a flush that started after it asked had ended", when, p)
		case <-time.After(20 * time.Millisecond):
		}
	}

	waiter("a")
	flush1 := <-started // a's flush
	waiter("b")
	flush2 := <-started // b does not wait for flush 1 to end: a second flush starts
	// Ten more arrive while two flushes run: they wait, none covered by those.
	for i := 0; i < 10; i++ {
		waiter(string(rune('c' + i)))
	}
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.pending) == 10 })
	none("two flushes running")
	close(flush1)
	if got := <-done; got != "a" {
		t.Fatalf("%s returned when flush 1 ended, want a", got)
	}
	flush3 := <-started // one of the ten starts the flush for all ten
	none("flush 1 ended")
	close(flush2)
	if got := <-done; got != "b" {
		t.Fatalf("%s returned when flush 2 ended, want b", got)
	}
	none("flush 2 ended")
	close(flush3)
	for i := 0; i < 10; i++ {
		<-done
	}
	mu.Lock()
	defer mu.Unlock()
	if len(flushed) != 3 || len(flushed[2]) != 10 {
		t.Fatalf("flushes %v, want [a], [b], then the ten others in one", flushed)
	}
}

// TestFlushErrorReachesWaiters: a failed flush fails every store it served,
// and the next flush starts clean.
func TestFlushErrorReachesWaiters(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	old := flushFS
	t.Cleanup(func() { flushFS = old })
	flushFS = func(string, []string) error { return errors.New("EIO") }
	if err := c.durable("x"); err == nil || !strings.Contains(err.Error(), "EIO") {
		t.Fatalf("durable: %v, want the flush's error", err)
	}
	flushFS = func(string, []string) error { return nil }
	if err := c.durable("x"); err != nil {
		t.Fatalf("durable after a good flush: %v", err)
	}
}

// TestFsyncEachFallback: without syncfs, a store's files and directories
// are fsynced one by one, and a missing one is an error naming it.
func TestFsyncEachFallback(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fsyncEach([]string{f, dir, f}); err != nil {
		t.Fatal(err)
	}
	if err := fsyncEach([]string{filepath.Join(dir, "gone")}); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("fsyncEach of a missing file: %v", err)
	}
	// A whole Store through the fallback.
	old := flushFS
	t.Cleanup(func() { flushFS = old })
	var n int
	flushFS = func(root string, paths []string) error { n += len(paths); return fsyncEach(paths) }
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	z := makeZip(t, zfile{"m.xml", "<mujoco><worldbody/></mujoco>"}, zfile{"meshes/a.stl", "solid a"})
	e, err := c.Store(context.Background(), "a1", "mujoco_mjcf", bytesFetch(z, ""))
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 { // the download, then the directory of its new name
		t.Fatalf("the fallback fsynced %d paths for the store", n)
	}
	stored := n
	// And an Unpack through it.
	mp, err := c.Unpack(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mp); err != nil {
		t.Fatal(err)
	}
	if n-stored < 5 { // two files, two directories, then trees/ for the rename
		t.Fatalf("the fallback fsynced %d paths for the unpack", n-stored)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}
