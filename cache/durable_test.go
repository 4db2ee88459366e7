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

	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// TestFlushGroupShares: stores waiting at the same time share flushes, and
// each one returns only after a flush that started after it asked.
func TestFlushGroupShares(t *testing.T) {
	var mu sync.Mutex
	var flushed [][]string
	started := make(chan struct{}, 100)
	release := make(chan struct{})
	g := &flushGroup{root: t.TempDir(), errs: map[uint64]error{}}
	g.cond = sync.NewCond(&g.mu)
	old := flushFS
	flushFS = func(root string, paths []string) error {
		started <- struct{}{}
		<-release
		mu.Lock()
		flushed = append(flushed, paths)
		mu.Unlock()
		return nil
	}
	t.Cleanup(func() { flushFS = old })

	// The first waiter starts flush 1 and blocks in it.
	done := make(chan string, 20)
	go func() { g.wait([]string{"a"}); done <- "a" }()
	<-started
	// Ten more arrive while flush 1 runs: none is covered by it.
	for i := 0; i < 10; i++ {
		p := string(rune('b' + i))
		go func() { g.wait([]string{p}); done <- p }()
	}
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.pending) == 10 })
	release <- struct{}{} // flush 1 ends
	if got := <-done; got != "a" {
		t.Fatalf("%s returned first, want a", got)
	}
	select {
	case p := <-done:
		t.Fatalf("%s returned after a flush that started before it asked", p)
	case <-started: // flush 2, for all ten
	}
	release <- struct{}{}
	for i := 0; i < 10; i++ {
		<-done
	}
	if len(flushed) != 2 || len(flushed[1]) != 10 {
		t.Fatalf("flushes %v, want [a] then the ten others in one", flushed)
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
	if err := atomicfile.SyncEach([]string{f, dir, f}); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.SyncEach([]string{filepath.Join(dir, "gone")}); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("SyncEach of a missing file: %v", err)
	}
	// A whole Store through the fallback.
	old := flushFS
	t.Cleanup(func() { flushFS = old })
	var n int
	flushFS = func(root string, paths []string) error { n += len(paths); return atomicfile.SyncEach(paths) }
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

// TestFlushGathers: a store that asks while a flush is gathering (waiting
// to start) is served by that flush, not the next one.
func TestFlushGathers(t *testing.T) {
	var mu sync.Mutex
	var flushed [][]string
	g := &flushGroup{root: t.TempDir(), errs: map[uint64]error{}}
	g.cond = sync.NewCond(&g.mu)
	oldFlush, oldGather := flushFS, gather
	flushFS = func(root string, paths []string) error {
		mu.Lock()
		flushed = append(flushed, paths)
		mu.Unlock()
		return nil
	}
	gather = 300 * time.Millisecond
	t.Cleanup(func() { flushFS, gather = oldFlush, oldGather })

	done := make(chan string, 2)
	go func() { g.wait([]string{"a"}); done <- "a" }()
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.running == 1 })
	go func() { g.wait([]string{"b"}); done <- "b" }()
	<-done
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(flushed) != 1 || len(flushed[0]) != 2 {
		t.Fatalf("flushes %v, want one serving a and b", flushed)
	}
}
