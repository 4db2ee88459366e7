package cache

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a helper process: with GIZMO_CACHE_HELPER set,
// TestMain runs the helper instead of the tests (the classic helper-process
// pattern), so the tests can run real gizmo cache code in other processes.
func TestMain(m *testing.M) {
	switch os.Getenv("GIZMO_CACHE_HELPER") {
	case "":
		os.Exit(m.Run())
	case "store":
		os.Exit(helperStore())
	case "reader":
		os.Exit(helperReader())
	case "urlwriter":
		os.Exit(helperURLWriter())
	case "verify":
		os.Exit(helperVerify())
	default:
		fmt.Fprintln(os.Stderr, "unknown GIZMO_CACHE_HELPER")
		os.Exit(2)
	}
}

// helperStore stores every key of GIZMO_KEYS (id|format|url, comma-separated)
// into GIZMO_CACHE_DIR, downloading from url, and records asset metadata.
func helperStore() int {
	c, err := Open(os.Getenv("GIZMO_CACHE_DIR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	store := func(k string) error {
		parts := strings.SplitN(k, "|", 3)
		id, format, url := parts[0], parts[1], parts[2]
		if err := c.RecordAssets([]AssetMeta{{ID: id, Name: "n-" + id, Status: "ready"}}, false); err != nil {
			return err
		}
		if _, err := c.Store(context.Background(), id, format, httpFetch(url)); err != nil {
			return err
		}
		return c.RecordURL(id, format, url, time.Now().Add(time.Hour))
	}
	keys := strings.Split(os.Getenv("GIZMO_KEYS"), ",")
	if os.Getenv("GIZMO_PARALLEL") == "" {
		for _, k := range keys {
			if err := store(k); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return 0
	}
	// Every key at once, as a sync stores them.
	errs := make(chan error, len(keys))
	for _, k := range keys {
		go func() { errs <- store(k) }()
	}
	code := 0
	for range keys {
		if err := <-errs; err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	return code
}

// helperReader reads the index in a loop until GIZMO_STOP_FILE exists and
// prints the slowest read, in microseconds.
func helperReader() int {
	c, err := Open(os.Getenv("GIZMO_CACHE_DIR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var worst time.Duration
	n := 0
	for {
		if _, err := os.Stat(os.Getenv("GIZMO_STOP_FILE")); err == nil && n > 0 {
			break
		}
		t0 := time.Now()
		es, err := c.Entries()
		if err == nil {
			_, err = c.Assets()
		}
		if err == nil {
			for _, e := range es {
				c.Have(e.AssetID, e.Format)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		worst = max(worst, time.Since(t0))
		n++
	}
	fmt.Printf("%d %d\n", n, worst.Microseconds())
	return 0
}

// helperURLWriter records URLs from 8 goroutines without a pause until
// GIZMO_STOP_FILE exists, keeping its committer busy, and prints the number
// of writes.
func helperURLWriter() int {
	c, err := Open(os.Getenv("GIZMO_CACHE_DIR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	n, failed := 0, false
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if _, err := os.Stat(os.Getenv("GIZMO_STOP_FILE")); err == nil {
					return
				}
				if err := c.RecordURL(fmt.Sprintf("ast_%d_%d", g, i%50), "mujoco_mjcf", "https://dl.example/x", time.Now().Add(time.Hour)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					mu.Lock()
					failed = true
					mu.Unlock()
					return
				}
				mu.Lock()
				n++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed {
		return 1
	}
	fmt.Println(n)
	return 0
}

func httpFetch(url string) FetchFunc {
	return func(ctx context.Context, w Writer) (string, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return "", err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("GET: %s", resp.Status)
		}
		n, err := io.Copy(w, resp.Body)
		if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
			err = fmt.Errorf("download cut short: %d of %d bytes", n, resp.ContentLength)
		}
		return resp.Header.Get("ETag"), err
	}
}

// payloadZip is a deterministic zip of a URDF and files meshes of size
// bytes each (incompressible, so the zip is about files*size bytes).
func payloadZip(seed int64, files, size int) []byte {
	r := rand.New(rand.NewSource(seed))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("robot.urdf")
	fmt.Fprintf(w, "<robot name=\"r%d\"><link name=\"base\"/></robot>\n", seed)
	chunk := make([]byte, size)
	for i := 0; i < files; i++ {
		w, _ := zw.Create(fmt.Sprintf("meshes/part%03d.stl", i))
		r.Read(chunk)
		w.Write(chunk)
	}
	zw.Close()
	return buf.Bytes()
}

// slowServer serves payloads[name] at /name in chunks with a pause between
// them, and counts downloads per name.
type slowServer struct {
	*httptest.Server
	mu       sync.Mutex
	payloads map[string][]byte
	hits     map[string]int
	started  chan string // a request's name as it arrives (dropped when full)
	finished chan string // a request's name once its whole body is sent
}

func newSlowServer(t *testing.T, chunk int, pause time.Duration) *slowServer {
	s := &slowServer{payloads: map[string][]byte{}, hits: map[string]int{}, started: make(chan string, 16), finished: make(chan string, 16)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		s.mu.Lock()
		b, ok := s.payloads[name]
		s.hits[name]++
		s.mu.Unlock()
		select {
		case s.started <- name:
		default:
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Header().Set("ETag", `"`+sha(b)[:16]+`"`)
		for len(b) > 0 {
			n := min(chunk, len(b))
			if _, err := w.Write(b[:n]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			b = b[n:]
			time.Sleep(pause)
		}
		select {
		case s.finished <- name:
		default:
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// checkDownloadedOnce fails t for every payload downloaded other than once.
func (s *slowServer) checkDownloadedOnce(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, n := range s.hits {
		if n != 1 {
			t.Errorf("%s downloaded %d times, want 1", name, n)
		}
	}
}

func (s *slowServer) add(name string, b []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payloads[name] = b
	return s.URL + "/" + name
}

// startHelper starts a helper process, its output (stdout and stderr) kept.
func startHelper(t *testing.T, mode, dir string, env ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := helperCmd(mode, dir, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

func helperCmd(mode, dir string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GIZMO_CACHE_HELPER="+mode, "GIZMO_CACHE_DIR="+dir)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// TestManyProcesses runs real processes side by side on one cache: three
// writers storing the same two keys and one key each, with asset records and
// URL records, and one reader looping over the index. None may fail; each
// key is downloaded exactly once; verify is clean afterwards.
func TestManyProcesses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	srv := newSlowServer(t, 32<<10, time.Millisecond)
	shared := []string{
		"ast_s1|isaac_sim_urdf|" + srv.add("s1", payloadZip(1, 20, 16<<10)),
		"ast_s2|isaac_sim_urdf|" + srv.add("s2", payloadZip(2, 20, 16<<10)),
	}
	const writers = 3
	stop := filepath.Join(t.TempDir(), "stop")
	reader := helperCmd("reader", dir, "GIZMO_STOP_FILE="+stop)
	var readerOut, readerErr bytes.Buffer
	reader.Stdout, reader.Stderr = &readerOut, &readerErr
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for i := 0; i < writers; i++ {
		own := fmt.Sprintf("ast_own%d|mujoco_mjcf|%s", i, srv.add(fmt.Sprint("own", i), payloadZip(int64(10+i), 10, 16<<10)))
		keys := append([]string{own}, shared...)
		if i%2 == 1 { // different orders, so that processes meet on each key
			keys = []string{shared[1], own, shared[0]}
		}
		cmd, out := startHelper(t, "store", dir, "GIZMO_KEYS="+strings.Join(keys, ","))
		cmds = append(cmds, cmd)
		outs = append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer %d: %v: %s", i, err, outs[i])
		}
	}
	os.WriteFile(stop, nil, 0o644)
	if err := reader.Wait(); err != nil {
		t.Errorf("reader: %v: %s", err, readerErr.String())
	}
	var reads, worstUS int
	fmt.Sscan(readerOut.String(), &reads, &worstUS)
	t.Logf("reader: %d passes over the index, slowest %v", reads, time.Duration(worstUS)*time.Microsecond)
	srv.checkDownloadedOnce(t)
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, c)
	es, err := c.Entries()
	if err != nil || len(es) != 2+writers {
		t.Fatalf("entries = %d, %v", len(es), err)
	}
	if as, _ := c.Assets(); len(as) != 2+writers {
		t.Errorf("assets = %d", len(as))
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify: %v %v", ps, err)
	}
}

// TestProcessesShareStripes: two real processes each store the same keys
// all at once, keys chosen so that several share each lock file (the
// stripes each process holds once for all its stores). Nothing deadlocks,
// each key is downloaded exactly once, and the cache is consistent.
func TestProcessesShareStripes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := newSlowServer(t, 16<<10, time.Millisecond)
	// Three stripes, four keys in each.
	stripes := map[string][]string{}
	var keys []string
	for i := 0; len(keys) < 12; i++ {
		id := fmt.Sprintf("ast_p%d", i)
		st := c.keyLockPath(keyHash(id, "mujoco_mjcf"))
		if len(stripes[st]) == 4 || len(stripes) == 3 && stripes[st] == nil {
			continue
		}
		stripes[st] = append(stripes[st], id)
		keys = append(keys, id+"|mujoco_mjcf|"+srv.add(id, payloadZip(int64(100+i), 4, 16<<10)))
	}
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range 2 {
		cmd, out := startHelper(t, "store", dir, "GIZMO_KEYS="+strings.Join(keys, ","), "GIZMO_PARALLEL=1")
		cmds = append(cmds, cmd)
		outs = append(outs, out)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			for _, cmd := range cmds {
				cmd.Process.Kill()
			}
		}
	}()
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v: %s", i, err, outs[i])
		}
	}
	close(done)
	if len(stripes) != 3 {
		t.Fatalf("keys in %d stripes, want 3", len(stripes))
	}
	srv.checkDownloadedOnce(t)
	checkConsistent(t, c)
	if es, err := c.Entries(); err != nil || len(es) != len(keys) {
		t.Fatalf("entries = %d, %v; want %d", len(es), err, len(keys))
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify: %v %v", ps, err)
	}
}

// TestCrashConsistency kills a real process storing into the cache with
// SIGKILL at random instants during download, extraction and publishing.
// After each kill, verify finds nothing missing or corrupt (only leftovers
// of the interrupted store), and a rerun finishes with a clean cache.
// Trials: 3 with -short, 5 by default, 50 with GIZMO_LONG=1.
func TestCrashConsistency(t *testing.T) {
	trials := 5
	switch {
	case testing.Short():
		trials = 3
	case os.Getenv("GIZMO_LONG") != "":
		trials = 50
	}
	dir := filepath.Join(t.TempDir(), "cache")
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	srv := newSlowServer(t, 64<<10, 10*time.Millisecond)
	// A few contents, shared by several keys, so that kills also land while
	// another key's files are reused.
	urls := []string{
		srv.add("a", payloadZip(100, 60, 8<<10)),
		srv.add("b", payloadZip(101, 20, 32<<10)),
		srv.add("c", payloadZip(102, 120, 2<<10)),
	}
	// Measure an undisturbed run: the time to the download's request
	// (start-up, open, index writes), the download, and from the body's end
	// to the process's (extraction, publishing), to aim the kills at each.
	drain := func() {
		for len(srv.started) > 0 {
			<-srv.started
		}
		for len(srv.finished) > 0 {
			<-srv.finished
		}
	}
	wait := func(ch chan string) bool {
		select {
		case <-ch:
			return true
		case <-time.After(time.Minute):
			return false
		}
	}
	warm := helperCmd("store", dir, "GIZMO_KEYS=ast_warm|isaac_sim_urdf|"+urls[0])
	var warmOut bytes.Buffer
	warm.Stdout, warm.Stderr = &warmOut, &warmOut
	t0 := time.Now()
	if err := warm.Start(); err != nil {
		t.Fatal(err)
	}
	if !wait(srv.started) {
		t.Fatalf("warm-up run never downloaded: %s", warmOut.String())
	}
	head := time.Since(t0)
	t1 := time.Now()
	wait(srv.finished)
	body := time.Since(t1)
	t2 := time.Now()
	if err := warm.Wait(); err != nil {
		t.Fatalf("warm-up run: %v: %s", err, warmOut.String())
	}
	tail := time.Since(t2)
	span := head + body + tail
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	c, _ := Open(dir)
	phases := map[string]int{}
	for i := 0; i < trials; i++ {
		key := fmt.Sprintf("ast_%d|isaac_sim_urdf|%s", i, urls[i%len(urls)])
		cmd := helperCmd("store", dir, "GIZMO_KEYS="+key)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A kill in five lands before the download, two during it, two
		// after its last byte (extraction, publishing, indexing).
		drain()
		var delay time.Duration
		switch r := rng.Intn(5); {
		case r == 0:
			delay = time.Duration(rng.Int63n(int64(head)))
			time.Sleep(delay)
		case r <= 2:
			if !wait(srv.started) {
				cmd.Process.Kill()
				t.Fatalf("trial %d: the helper never downloaded", i)
			}
			delay = time.Duration(rng.Int63n(int64(body)))
			time.Sleep(delay)
			delay += head
		default:
			if !wait(srv.finished) {
				cmd.Process.Kill()
				t.Fatalf("trial %d: the helper never finished downloading", i)
			}
			delay = time.Duration(rng.Int63n(int64(tail)))
			time.Sleep(delay)
			delay += head + body
		}
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var ee *exec.ExitError
		killed := errors.As(err, &ee) && !ee.Exited()
		if err != nil && !killed {
			t.Fatalf("trial %d: helper failed on its own: %v: %s", i, err, out.String())
		}
		ps, err := c.Verify(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Kind != ProblemPartial && p.Kind != ProblemExtra {
				t.Errorf("trial %d (killed after %v): %v", i, delay, p)
			}
		}
		if testing.Verbose() {
			t.Logf("trial %d: killed=%v after %v", i, killed, delay)
		}
		switch id := fmt.Sprintf("ast_%d", i); {
		case !killed || c.Have(id, "isaac_sim_urdf"):
			phases["after the index commit"]++
		case countKind(ps, ProblemPartial) > 0:
			phases["mid-download or mid-extraction"]++
		case countKind(ps, ProblemExtra) > 0:
			phases["between publishing and indexing"]++
		default:
			phases["before the download began"]++
		}
		if out, err := helperCmd("store", dir, "GIZMO_KEYS="+key).CombinedOutput(); err != nil {
			t.Fatalf("trial %d: rerun failed: %v: %s", i, err, out)
		}
		id := fmt.Sprintf("ast_%d", i)
		if !c.Have(id, "isaac_sim_urdf") {
			t.Fatalf("trial %d: rerun did not store %s", i, id)
		}
		// After the rerun only harmless leftovers may remain: the key's own
		// temp files are gone, and no entry is bad.
		ps, err = c.Verify(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Kind != ProblemExtra {
				t.Errorf("trial %d after rerun: %v", i, p)
			}
		}
	}
	res, err := c.GC(context.Background(), GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify after gc: %v %v", ps, err)
	}
	checkConsistent(t, c)
	t.Logf("%d trials over a %v store (%v to the download, %v downloading, %v after); killed %v; gc removed %d leftovers", trials, span, head, body, tail, phases, len(res.Removed))
}
