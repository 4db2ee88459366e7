package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGroupCommit: concurrent writes of one process share transactions;
// one that fails (SetValidation of a key never stored) gets its own error
// and costs the others nothing.
func TestGroupCommit(t *testing.T) {
	c := openTest(t)
	const n = 24
	for i := 0; i < n; i++ {
		if _, err := c.Store(context.Background(), fmt.Sprint("ast_", i), "mujoco_mjcf", bytesFetch([]byte(mjcfDoc), "")); err != nil {
			t.Fatal(err)
		}
	}
	x := c.index()
	commits0 := x.commits.Load()
	var wg sync.WaitGroup
	errs := make([]error, 2*n)
	for i := 0; i < 2*n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("ast_", i) // ids n and up were never stored
			if i%2 == 0 {
				errs[i] = c.SetValidation(id, "mujoco_mjcf", Validation{Valid: true, Errors: i})
			} else {
				errs[i] = c.RecordURL(id, "mujoco_mjcf", fmt.Sprint("https://dl.example/", i), time.Now().Add(time.Hour))
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i%2 == 0 && i >= n:
			if !errors.Is(err, ErrNotCached) {
				t.Errorf("SetValidation of unstored ast_%d: %v, want ErrNotCached", i, err)
			}
		case err != nil:
			t.Errorf("write %d: %v", i, err)
		case i%2 == 0:
			e, err := c.Entry(fmt.Sprint("ast_", i), "mujoco_mjcf")
			if err != nil || e.Validation == nil || e.Validation.Errors != i {
				t.Errorf("ast_%d: validation not recorded: %+v %v", i, e.Validation, err)
			}
		default:
			if u, _, ok := c.URL(fmt.Sprint("ast_", i), "mujoco_mjcf"); !ok || u != fmt.Sprint("https://dl.example/", i) {
				t.Errorf("ast_%d: URL %q %v", i, u, ok)
			}
		}
	}
	t.Logf("%d writes in %d transactions", 2*n, x.commits.Load()-commits0)
}

// TestCommitFailureReachesEveryWriter: when the index cannot be opened,
// every queued write gets the error and nothing hangs.
func TestCommitFailureReachesEveryWriter(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	// Once Open's committer has let go of the index, a directory in its
	// place: opening it fails, even for root.
	time.Sleep(5 * linger)
	if err := os.Remove(c.dbPath()); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(c.dbPath(), 0o755); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.RecordURL(fmt.Sprint("ast_", i), "mujoco_mjcf", "u", time.Now()); err == nil {
				t.Errorf("write %d to a damaged index succeeded", i)
			}
		}()
	}
	wg.Wait()
}

// TestBusyCommitterLetsOthersIn: while another process keeps its committer
// busy (8 goroutines writing without a pause), this process still reads
// and writes the index, and its writes land beside the other's. How long
// each one waits is a figure of BenchmarkBusyCommitter, not a threshold
// here; a process that never gets in fails the test after two minutes.
func TestBusyCommitterLetsOthersIn(t *testing.T) {
	worstRead, worstWrite, writes := busyCommitter(t, 40)
	t.Logf("writer: %s writes; here the slowest read took %v, the slowest write %v", writes, worstRead, worstWrite)
}

// busyCommitter starts a process whose committer writes without pause into
// a new cache, then reads the index and writes to it rounds times from
// this process, and returns the slowest read and write and the other
// process's count of writes. It fails tb when an operation fails, or when
// the rounds do not finish within two minutes (the other process is then
// killed, so that the wait ends).
func busyCommitter(tb testing.TB, rounds int) (worstRead, worstWrite time.Duration, writes string) {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "cache")
	c, err := Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	stop := filepath.Join(tb.TempDir(), "stop")
	w := helperCmd("urlwriter", dir, "GIZMO_STOP_FILE="+stop)
	var out, errb bytes.Buffer
	w.Stdout, w.Stderr = &out, &errb
	if err := w.Start(); err != nil {
		tb.Fatal(err)
	}
	// Wait until the writer is writing.
	for t0 := time.Now(); ; {
		if _, _, ok := c.URL("ast_0_0", "mujoco_mjcf"); ok {
			break
		}
		if time.Since(t0) > 30*time.Second {
			w.Process.Kill()
			tb.Fatalf("the writer never wrote: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var starved atomic.Bool
	watchdog := time.AfterFunc(2*time.Minute, func() {
		starved.Store(true)
		w.Process.Kill()
	})
	for i := 0; i < rounds; i++ {
		t0 := time.Now()
		if _, err := c.Entries(); err != nil {
			tb.Fatal(err)
		}
		worstRead = max(worstRead, time.Since(t0))
		time.Sleep(5 * time.Millisecond)
		t0 = time.Now()
		if err := c.RecordURL("ast_mine", "mujoco_mjcf", fmt.Sprint("u", i), time.Now()); err != nil {
			tb.Fatal(err)
		}
		worstWrite = max(worstWrite, time.Since(t0))
		time.Sleep(5 * time.Millisecond)
	}
	watchdog.Stop()
	os.WriteFile(stop, nil, 0o644)
	werr := w.Wait()
	if starved.Load() {
		tb.Fatalf("%d reads and writes did not finish within two minutes while another process wrote", rounds)
	}
	if werr != nil {
		tb.Fatalf("writer: %v: %s", werr, errb.String())
	}
	if u, _, ok := c.URL("ast_mine", "mujoco_mjcf"); !ok || u != fmt.Sprint("u", rounds-1) {
		tb.Errorf("this process's last write is not in the index: %q %v", u, ok)
	}
	if _, _, ok := c.URL("ast_0_0", "mujoco_mjcf"); !ok {
		tb.Error("the other process's first write is not in the index")
	}
	return worstRead, worstWrite, string(bytes.TrimSpace(out.Bytes()))
}

// TestIndexReplacedWhileOpen: a cache directory removed and created again
// while the committer still holds the old index open gets a new index, not
// writes into the removed one.
func TestIndexReplacedWhileOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RecordURL("ast_1", "mujoco_mjcf", "u1", time.Now()); err != nil {
		t.Fatal(err)
	}
	// Within the committer's linger.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	c, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RecordURL("ast_2", "mujoco_mjcf", "u2", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, when := range []string{"while the committer lingers", "after it let go"} {
		if _, _, ok := c.URL("ast_1", "mujoco_mjcf"); ok {
			t.Errorf("%s: the new index holds a record of the removed one", when)
		}
		if u, _, ok := c.URL("ast_2", "mujoco_mjcf"); !ok || u != "u2" {
			t.Errorf("%s: the record written after the removal is not in the new index: %q %v", when, u, ok)
		}
		time.Sleep(5 * linger)
	}
}

// TestReadsWaitForCommitterHandle: while this process writes without
// pause, past the committer's holdMax breaks, its reads use the
// committer's handle: they wait for it at the start and across each
// break instead of opening the index read-only.
func TestReadsWaitForCommitterHandle(t *testing.T) {
	// A loaded machine may take a while to reopen: the reads wait as long
	// as it takes, so that only a read that did not wait opens the index.
	old := reopenWait
	reopenWait = time.Minute
	t.Cleanup(func() { reopenWait = old })
	c := openTest(t)
	x := c.index()
	// Eight writers without pauses. On a loaded machine they may still
	// leave the queue empty for the committer's linger, and it stops: a
	// read may then open the index itself. What is counted is the reads
	// that open it while a committer runs.
	stop := make(chan struct{})
	var writers sync.WaitGroup
	errs := make(chan error, 8)
	first := make(chan struct{}, 8)
	for w := range 8 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; ; i++ {
				err := c.RecordURL(fmt.Sprintf("ast_%d_%d", w, i%10), "mujoco_mjcf", fmt.Sprint("https://dl.example/", i), time.Now().Add(time.Hour))
				if i == 0 {
					first <- struct{}{}
				}
				if err != nil {
					errs <- err
					return
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	<-first
	ro0, opens0 := x.roRunning.Load(), x.opens.Load()
	deadline := time.Now().Add(3*holdMax + 3*holdGap)
	var wg sync.WaitGroup
	reads := make([]int, 4)
	for r := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := c.Entries(); err != nil {
					t.Error(err)
					return
				}
				reads[r]++
			}
		}()
	}
	wg.Wait()
	ro := x.roRunning.Load() - ro0
	breaks := x.opens.Load() - opens0
	close(stop)
	writers.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if breaks < 1 {
		t.Fatalf("the committer never reopened the index while writes kept coming for %v: want its holdMax breaks", 3*holdMax)
	}
	if ro != 0 {
		t.Errorf("%d read-only opens while the committer ran, during %d reads across %d committer breaks: want none, reads wait for the committer's handle", ro, reads, breaks)
	}
}
