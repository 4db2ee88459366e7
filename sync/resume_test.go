package sync_test

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/emulator"
)

// bigEnv is an emulator whose every asset's zip exports carry size bytes
// more, with one ready asset.
func bigEnv(t *testing.T, size int64, cfg emulator.Config) (*env, string, int64) {
	t.Helper()
	cfg.BigEvery, cfg.BigSize = 1, size
	e := newEnv(t, cfg)
	id := e.addReady(t, 1)[0]
	n, err := e.srv.ExportSize(id, formats.MuJoCo)
	if err != nil {
		t.Fatal(err)
	}
	if n < size {
		t.Fatalf("the big export is %d bytes, want more than %d", n, size)
	}
	e.srv.ResetStats()
	return e, id, n
}

// TestResumeCutAt90: a download cut at 90 % is completed with a Range
// request for the rest: the server sends the file about once.
func TestResumeCutAt90(t *testing.T) {
	e, id, size := bigEnv(t, 8<<20, emulator.Config{Seed: 3})
	if err := e.srv.SetFaults(emulator.Faults{TruncateRate: 1, TruncateAt: 0.9}); err != nil {
		t.Fatal(err)
	}
	var once stdsync.Once
	sum, err := gsync.Run(context.Background(), e.client, e.cache, gsync.Options{
		Formats: []formats.Format{formats.MuJoCo},
		OnEvent: func(ev gsync.Event) {
			if ev.Type == gsync.EventRetry {
				once.Do(func() { e.srv.SetFaults(emulator.Faults{}) })
			}
		}})
	if err != nil || !sum.OK() {
		t.Fatalf("sync: %v, failures %v", err, sum.Failures)
	}
	e.checkCached(t, []string{id}, []formats.Format{formats.MuJoCo})
	st := e.srv.Stats()
	if st.Download.Requests != 2 {
		t.Errorf("%d download requests, want 2 (the cut one and the rest)", st.Download.Requests)
	}
	if limit := size + size*12/100; st.Download.Bytes > limit {
		t.Errorf("the server sent %d bytes for a %d-byte file cut at 90%%: more than 112%% (%d)", st.Download.Bytes, size, limit)
	}
	if st.Download.Bytes < size {
		t.Errorf("the server sent %d bytes of a %d-byte file", st.Download.Bytes, size)
	}
}

// TestResumeAcrossExpiredURL: the download is cut, its URL expires before
// the retry, and the rest comes with a Range request on a fresh URL: the
// part the cache kept is resumed, not fetched again.
func TestResumeAcrossExpiredURL(t *testing.T) {
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	e, id, size := bigEnv(t, 4<<20, emulator.Config{Seed: 5, URLTTL: time.Minute, Now: now})
	if err := e.srv.SetFaults(emulator.Faults{TruncateRate: 1, TruncateAt: 0.5}); err != nil {
		t.Fatal(err)
	}
	var once stdsync.Once
	sum, err := gsync.Run(context.Background(), e.client, e.cache, gsync.Options{
		Formats: []formats.Format{formats.MuJoCo}, Now: now,
		OnEvent: func(ev gsync.Event) {
			if ev.Type == gsync.EventRetry {
				once.Do(func() {
					skew.Store(int64(time.Hour))
					e.srv.SetFaults(emulator.Faults{})
				})
			}
		}})
	if err != nil || !sum.OK() {
		t.Fatalf("sync: %v, failures %v", err, sum.Failures)
	}
	e.checkCached(t, []string{id}, []formats.Format{formats.MuJoCo})
	st := e.srv.Stats()
	if st.Export.Requests < 2 {
		t.Errorf("%d export requests: want a fresh URL after the first expired", st.Export.Requests)
	}
	if limit := size + size*12/100; st.Download.Bytes > limit {
		t.Errorf("the server sent %d bytes for a %d-byte file: the part was not resumed (limit %d)", st.Download.Bytes, size, limit)
	}
}

// TestMemoryFlatBigDownload fails when a download is held in memory whole:
// the heap stays far below the size of a 96 MiB export while it syncs.
func TestMemoryFlatBigDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("a 96 MiB download: not with -short")
	}
	e, id, size := bigEnv(t, 96<<20, emulator.Config{Seed: 9})
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	sum, err := gsync.Run(context.Background(), e.client, e.cache, gsync.Options{Formats: []formats.Format{formats.MuJoCo}})
	close(stop)
	<-done
	if err != nil || !sum.OK() {
		t.Fatalf("sync: %v, failures %v", err, sum.Failures)
	}
	ent, err := e.cache.Entry(id, string(formats.MuJoCo))
	if err != nil || ent.Size != size {
		t.Fatalf("entry %+v, %v: want %d bytes", ent, err, size)
	}
	if p := peak.Load(); p > uint64(size/3) {
		t.Errorf("the heap peaked at %d MiB while syncing a %d MiB export: the download is buffered", p>>20, size>>20)
	} else {
		t.Logf("heap peak %d MiB for a %d MiB export", p>>20, size>>20)
	}
}

// BenchmarkResumeCut90: a 300 MB export (GIZMO_BENCH_RESUME_SIZE) cut at
// 90 % once, completed within one sync; reports the bytes the server sent
// over the export's size (goal <= 1.12) and the requests it took.
func BenchmarkResumeCut90(b *testing.B) {
	size := int64(300 << 20)
	if s := os.Getenv("GIZMO_BENCH_RESUME_SIZE"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	for range b.N {
		b.StopTimer()
		e := newEnv(b, emulator.Config{Seed: 3, BigEvery: 1, BigSize: size})
		id := e.addReady(b, 1)[0]
		n, err := e.srv.ExportSize(id, formats.MuJoCo)
		if err != nil {
			b.Fatal(err)
		}
		e.srv.ResetStats()
		e.srv.SetFaults(emulator.Faults{TruncateRate: 1, TruncateAt: 0.9})
		var once stdsync.Once
		b.StartTimer()
		sum, err := gsync.Run(context.Background(), e.client, e.cache, gsync.Options{
			Formats: []formats.Format{formats.MuJoCo},
			OnEvent: func(ev gsync.Event) {
				if ev.Type == gsync.EventRetry {
					once.Do(func() { e.srv.SetFaults(emulator.Faults{}) })
				}
			}})
		b.StopTimer()
		if err != nil || !sum.OK() {
			b.Fatalf("sync: %v %v", err, sum.Failures)
		}
		st := e.srv.Stats()
		b.ReportMetric(float64(st.Download.Bytes)/float64(n), "sent/size")
		b.ReportMetric(float64(st.Download.Requests), "downloads")
	}
}
