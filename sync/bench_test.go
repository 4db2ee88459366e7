package sync_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/emulator"
)

// BenchmarkSync measures the figures of the sync issue in process, against
// the emulator on loopback, with 300 ready assets × 3 formats
// (GIZMO_BENCH_ASSETS changes the count; sync/bench/bench.sh measures the
// issue's 1,000 × 3 with separate processes and peak memory), each iteration
// into a fresh cache:
//
//   - req/min: requests sent by the first sync divided by the minimum
//     (ListPages(N) list + N get + N·F export + N·F download); goal 1.00;
//   - first-s: wall time of the first sync;
//   - curl-s: wall time of curl --parallel (same concurrency) downloading
//     the same files into a directory, the physical-limit baseline;
//   - ratio: first-s / curl-s, goal ≤ 1.3;
//   - noop-s, noop-req: wall time and requests of a resync with nothing new.
func BenchmarkSync(b *testing.B) {
	n := 300
	if s := os.Getenv("GIZMO_BENCH_ASSETS"); s != "" {
		if _, err := fmt.Sscan(s, &n); err != nil {
			b.Fatalf("GIZMO_BENCH_ASSETS=%q: %v", s, err)
		}
	}
	const conc = gsync.DefaultConcurrency
	f := len(formats.All)
	e := newEnv(b, emulator.Config{Seed: 42})
	ids := e.addReady(b, n)
	// Warm the emulator's generator so that neither side pays for it.
	for _, id := range ids {
		for _, fm := range formats.All {
			if _, err := e.srv.ExportBytes(id, fm); err != nil {
				b.Fatal(err)
			}
		}
	}
	minReq := int64(gsync.ListPages(n) + n + 2*n*f)
	var first, noop time.Duration
	var sent, noopSent int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := cache.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		e.srv.ResetStats()
		start := time.Now()
		sum, err := gsync.Run(context.Background(), e.client, c, gsync.Options{Concurrency: conc})
		first += time.Since(start)
		if err != nil || !sum.OK() {
			b.Fatalf("first sync: %v %v", err, sum.Failures)
		}
		sent += total(e.srv.Stats())
		e.srv.ResetStats()
		start = time.Now()
		if _, err := gsync.Run(context.Background(), e.client, c, gsync.Options{Concurrency: conc}); err != nil {
			b.Fatal(err)
		}
		noop += time.Since(start)
		noopSent += total(e.srv.Stats())
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(float64(sent)/float64(b.N)/float64(minReq), "req/min")
	b.ReportMetric(per(first), "first-s")
	b.ReportMetric(per(noop), "noop-s")
	b.ReportMetric(float64(noopSent)/float64(b.N), "noop-req")

	if _, err := exec.LookPath("curl"); err != nil {
		b.Logf("curl is not installed: no baseline")
		return
	}
	dir := b.TempDir()
	var cfg strings.Builder
	cfg.WriteString("silent\nfail\n")
	for i, id := range ids {
		for _, fm := range formats.All {
			ex, err := e.client.Export(context.Background(), id, fm)
			if err != nil {
				b.Fatal(err)
			}
			fmt.Fprintf(&cfg, "url = %q\noutput = %q\n", ex.URL, filepath.Join(dir, fmt.Sprintf("%d-%s", i, fm)))
		}
	}
	cfgPath := filepath.Join(b.TempDir(), "curl.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	out, err := exec.Command("curl", "--parallel", "--parallel-max", fmt.Sprint(conc), "--config", cfgPath).CombinedOutput()
	curl := time.Since(start)
	if err != nil {
		b.Fatalf("curl: %v\n%s", err, out)
	}
	b.ReportMetric(curl.Seconds(), "curl-s")
	b.ReportMetric(per(first)/curl.Seconds(), "ratio")
}

func total(s emulator.Stats) int64 {
	return s.List.Requests + s.Get.Requests + s.Create.Requests + s.Export.Requests + s.Download.Requests
}
