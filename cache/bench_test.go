package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/antimlabs/gizmo/formats"
)

// benchIndex fills a cache's index with n assets × 3 formats in one
// transaction (the files are not needed for look-ups).
func benchIndex(b *testing.B, n int) *Cache {
	b.Helper()
	c, err := Open(filepath.Join(b.TempDir(), "cache"))
	if err != nil {
		b.Fatal(err)
	}
	err = c.update(func(tx *bolt.Tx) error {
		assets, names, entries := tx.Bucket(bucketAssets), tx.Bucket(bucketNames), tx.Bucket(bucketEntries)
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("ast_%06d", i)
			a, _ := json.Marshal(AssetMeta{ID: id, Name: "robot " + strconv.Itoa(i), Status: "ready", Prompt: strings.Repeat("a robot arm ", 8),
				Tags: []string{"arm", "v2"}, Formats: []string{"isaac_sim_usd", "isaac_sim_urdf", "mujoco_mjcf"}})
			if err := assets.Put([]byte(id), a); err != nil {
				return err
			}
			if err := names.Put(nameKey("robot "+strconv.Itoa(i), id), nil); err != nil {
				return err
			}
			for _, f := range formats.All {
				e, _ := json.Marshal(Entry{AssetID: id, Format: string(f), Hash: fmt.Sprintf("%064x", i), Size: 123456, Kind: formats.KindZip,
					Files: []string{"robot.urdf", "meshes/base.stl", "meshes/link1.stl"}, Model: "robot.urdf", ModelKind: formats.KindURDF, FetchedAt: time.Now()})
				if err := entries.Put(entryKey(id, string(f)), e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

const benchAssets = 10000

// BenchmarkEntryLookup: one Entry look-up in an index of 10,000 assets × 3
// formats, including the per-operation open and close of the index.
func BenchmarkEntryLookup(b *testing.B) {
	c := benchIndex(b, benchAssets)
	rng := rand.New(rand.NewSource(1))
	b.ResetTimer()
	for b.Loop() {
		id := fmt.Sprintf("ast_%06d", rng.Intn(benchAssets))
		if _, err := c.Entry(id, string(formats.All[rng.Intn(3)])); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEntryLookupParallel: the same from several goroutines at once
// (readers share the index).
func BenchmarkEntryLookupParallel(b *testing.B) {
	c := benchIndex(b, benchAssets)
	var seed atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewSource(seed.Add(1)))
		for pb.Next() {
			id := fmt.Sprintf("ast_%06d", rng.Intn(benchAssets))
			if _, err := c.Entry(id, string(formats.All[rng.Intn(3)])); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAssetByName: a name look-up (names bucket) in the same index.
func BenchmarkAssetByName(b *testing.B) {
	c := benchIndex(b, benchAssets)
	rng := rand.New(rand.NewSource(1))
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Asset("robot " + strconv.Itoa(rng.Intn(benchAssets))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEntries: every entry (30,000) in one read of the index.
func BenchmarkEntries(b *testing.B) {
	c := benchIndex(b, benchAssets)
	b.ResetTimer()
	for b.Loop() {
		es, err := c.Entries()
		if err != nil || len(es) != 3*benchAssets {
			b.Fatal(len(es), err)
		}
	}
}

// BenchmarkIndexOpen: the fixed cost of one index operation (lock, open
// read-only, empty transaction, close) — what per-operation opening costs.
func BenchmarkIndexOpen(b *testing.B) {
	c := benchIndex(b, benchAssets)
	b.ResetTimer()
	for b.Loop() {
		if err := c.view(func(*bolt.Tx) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordURL: one small write transaction (exclusive lock, open
// read-write, commit with fsync, close).
func BenchmarkRecordURL(b *testing.B) {
	c := benchIndex(b, benchAssets)
	exp := time.Now().Add(time.Hour)
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		if err := c.RecordURL(fmt.Sprintf("ast_%06d", i%benchAssets), "mujoco_mjcf", "https://dl.example/x?sig=1", exp); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSize is the size of the large download: GIZMO_BENCH_SIZE bytes (with
// an optional k, m or g suffix), 256m by default; set 1g for the 1 GiB figure.
func benchSize(b *testing.B) int64 {
	s := strings.ToLower(os.Getenv("GIZMO_BENCH_SIZE"))
	if s == "" {
		s = "256m"
	}
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "g"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		b.Fatalf("GIZMO_BENCH_SIZE=%q: want a size like 256m or 1g", os.Getenv("GIZMO_BENCH_SIZE"))
	}
	return n * mult
}

// bigReader yields size bytes of a USD crate (a single-file download): the
// header, then a repeated 1 MiB block of random bytes. It never holds more
// than the block in memory.
type bigReader struct {
	block []byte
	off   int64
	size  int64
}

func newBigReader(size int64) *bigReader {
	block := make([]byte, 1<<20)
	rand.New(rand.NewSource(42)).Read(block)
	copy(block, "PXR-USDC")
	return &bigReader{block: block, size: size}
}

func (r *bigReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	i := r.off % int64(len(r.block))
	n := copy(p, r.block[i:])
	if rem := r.size - r.off; int64(n) > rem {
		n = int(rem)
	}
	if r.off > 0 && i == 0 {
		// Only the very first block starts with the header.
		copy(p[:min(n, 8)], "XXXXXXXX")
	}
	r.off += int64(n)
	return n, nil
}

// peakMem samples the Go heap and the process's resident set while fn runs.
func peakMem(fn func()) (heapMiB, rssMiB float64) {
	// Return memory freed by earlier benchmarks to the OS, so that the peak
	// RSS below is this store's, not what the heap kept from before.
	debug.FreeOSMemory()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	resetPeakRSS()
	done := make(chan struct{})
	var peak uint64
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	return float64(peak) / (1 << 20), float64(peakRSS()) / (1 << 20)
}

// resetPeakRSS resets the kernel's high-water mark of the resident set.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM from /proc/self/status, in bytes (0 when unknown).
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkStoreLarge stores one large download per iteration, streamed from
// a generator, and reports the peak Go heap and peak RSS while storing.
func BenchmarkStoreLarge(b *testing.B) {
	size := benchSize(b)
	c, err := Open(filepath.Join(b.TempDir(), "cache"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	var heap, rss float64
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("ast_%d", i)
		h, r := peakMem(func() {
			_, err = c.Store(context.Background(), id, "isaac_sim_usd", func(ctx context.Context, w Writer) (string, error) {
				_, err := io.Copy(w, newBigReader(size))
				return "", err
			})
		})
		if err != nil {
			b.Fatal(err)
		}
		heap, rss = max(heap, h), max(rss, r)
		b.StopTimer()
		if err := c.Remove(context.Background(), id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(heap, "peak-heap-MiB")
	b.ReportMetric(rss, "peak-rss-MiB")
}

// BenchmarkStoreVsCp compares, in the same run and on the same disk, Store
// of a file's bytes with cp of the same file (the physical limit) and with
// cp followed by an fsync (cp leaves the bytes in the page cache; Store makes
// them durable). ratio-cp is Store's time over cp's.
func BenchmarkStoreVsCp(b *testing.B) {
	size := benchSize(b)
	if _, err := exec.LookPath("cp"); err != nil {
		b.Skip("cp not found")
	}
	dir := b.TempDir()
	src := filepath.Join(dir, "src.usdc")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, newBigReader(size)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	c, err := Open(filepath.Join(dir, "cache"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	var tStore, tCp, tCpSync time.Duration
	i := 0
	for b.Loop() {
		i++
		b.StopTimer()
		dst := filepath.Join(dir, "dst.usdc")
		os.Remove(dst)
		t0 := time.Now()
		if out, err := exec.Command("cp", src, dst).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, out)
		}
		tCp += time.Since(t0)
		df, _ := os.Open(dst)
		df.Sync()
		df.Close()
		tCpSync += time.Since(t0)
		os.Remove(dst)
		b.StartTimer()
		t0 = time.Now()
		id := fmt.Sprintf("ast_%d", i)
		_, err := c.Store(context.Background(), id, "isaac_sim_usd", func(ctx context.Context, w Writer) (string, error) {
			in, err := os.Open(src)
			if err != nil {
				return "", err
			}
			defer in.Close()
			_, err = io.Copy(w, in)
			return "", err
		})
		tStore += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Remove(context.Background(), id)
		b.StartTimer()
	}
	mbps := func(d time.Duration) float64 { return float64(size) * float64(i) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(tStore), "store-MB/s")
	b.ReportMetric(mbps(tCp), "cp-MB/s")
	b.ReportMetric(mbps(tCpSync), "cp+fsync-MB/s")
	b.ReportMetric(tStore.Seconds()/tCp.Seconds(), "ratio-cp")
	b.ReportMetric(tStore.Seconds()/tCpSync.Seconds(), "ratio-cp+fsync")
}

// BenchmarkStoreSmallParallel: what a sync does per file, from 8 goroutines
// at once: Store of a small zip (a URDF and 5 meshes of 1 KiB, like the
// emulator's exports), then SetValidation. One op is one file.
func BenchmarkStoreSmallParallel(b *testing.B) {
	c, err := Open(filepath.Join(b.TempDir(), "cache"))
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(4) // 8 goroutines on 2 cores, as sync --concurrency 8
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := fmt.Sprintf("ast_%d", i)
			body := payloadZip(i, 5, 1<<10)
			if _, err := c.Store(context.Background(), id, "isaac_sim_urdf", func(ctx context.Context, w Writer) (string, error) {
				_, err := w.Write(body)
				return "", err
			}); err != nil {
				b.Fatal(err)
			}
			if err := c.SetValidation(id, "isaac_sim_urdf", Validation{Valid: true, Checked: time.Now()}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBusyCommitter measures how long this process waits to read and
// to write the index while another process keeps its committer busy (8
// goroutines writing without a pause): the slowest read and write of b.N
// rounds. Typically tens of milliseconds; a commit's fdatasyncs on a busy
// disk can take a few hundred. (Before the committer announced and yielded
// to waiters, waits of 1.6 to 2.7 s were seen.) Target: well under a
// second.
func BenchmarkBusyCommitter(b *testing.B) {
	rounds := max(b.N, 40)
	read, write, _ := busyCommitter(b, rounds)
	b.ReportMetric(float64(read.Microseconds())/1000, "worst-read-ms")
	b.ReportMetric(float64(write.Microseconds())/1000, "worst-write-ms")
}
