package prepare

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

var prompts = []string{
	"A 6-DOF industrial robotic arm with a parallel jaw gripper",
	"A parallel jaw gripper with two fingers",
	"A four-legged quadruped robot",
	"A wheeled mobile base with a differential drive",
	"A humanoid robot with two arms and two legs",
}

// BenchmarkNoopPrepare is the pre-run cost: gizmo prepare on a project of
// 100 placed assets (MuJoCo and Isaac targets) where nothing changed,
// timed side by side with `find DIR -type f -exec stat {} +` over the same
// tree. It reports both, their ratio (goal: under 2) and the requests the
// no-op prepare sent (goal: 0). With bin/gizmo built (make bench) it also
// times the gizmo binary ($GIZMO), process start included, against find.
func BenchmarkNoopPrepare(b *testing.B) {
	srv, url := emulatortest.StartTest(b, emulator.Config{Assets: 0})
	n := 100
	for i := 0; i < n; i++ {
		if _, err := srv.AddAsset(prompts[i%len(prompts)], fmt.Sprintf("robot %d", i), []string{"bench"}, api.StatusReady); err != nil {
			b.Fatal(err)
		}
	}
	proj, cdir := b.TempDir(), b.TempDir()
	manifest := "[assets]\ntags = [\"bench\"]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim/mujoco\"\n\n[[target]]\nlayout = \"isaac\"\ndir = \"sim/isaac\"\nformats = [\"urdf\"]\n"
	if err := os.WriteFile(filepath.Join(proj, "gizmo.toml"), []byte(manifest), 0o644); err != nil {
		b.Fatal(err)
	}
	o := Options{
		Dir:       proj,
		OpenCache: func() (Cache, error) { return cache.Open(cdir) },
		Remote: func() (Remote, error) {
			return api.New(api.Options{BaseURL: url, APIKey: emulator.DefaultAPIKey})
		},
	}
	ctx := context.Background()
	res, err := Run(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Items) != 2*n {
		b.Fatalf("placed %d models, want %d", len(res.Items), 2*n)
	}
	files := 0
	filepath.WalkDir(proj, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return err
	})
	requests := func() int64 {
		s := srv.Stats()
		return s.List.Requests + s.Get.Requests + s.Export.Requests + s.Download.Requests
	}
	before := requests()
	find := func() {
		cmd := exec.Command("find", proj, "-type", "f", "-exec", "stat", "{}", "+")
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
	noop := func() {
		r, err := Run(ctx, o)
		if err != nil || !r.NoOp {
			b.Fatalf("not a no-op: %+v %v", r, err)
		}
	}
	bin := gizmoBinary()
	gizmo := func() {
		cmd := exec.Command(bin, "--quiet", "prepare", "--offline", "--project", proj)
		cmd.Env = append(os.Environ(), "GIZMO_CACHE_DIR="+cdir)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("gizmo prepare: %v\n%s", err, out)
		}
	}
	b.ResetTimer()
	var tPrep, tFind, tBin time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		noop()
		t1 := time.Now()
		find()
		t2 := time.Now()
		tPrep += t1.Sub(t0)
		tFind += t2.Sub(t1)
		if bin != "" {
			gizmo()
			tBin += time.Since(t2)
		}
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(tPrep)/1e6, "prepare-ms")
	b.ReportMetric(per(tFind)/1e6, "find-stat-ms")
	b.ReportMetric(per(tPrep)/per(tFind), "ratio")
	if bin != "" {
		b.ReportMetric(per(tBin)/1e6, "gizmo-bin-ms")
		b.ReportMetric(per(tBin)/per(tFind), "bin-ratio")
	}
	b.ReportMetric(float64(requests()-before), "requests")
	b.ReportMetric(float64(files), "files")
}

// gizmoBinary is $GIZMO, or bin/gizmo at the repository root when make
// has built it.
func gizmoBinary() string {
	if p := os.Getenv("GIZMO"); p != "" {
		return p
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "bin", "gizmo")
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// BenchmarkPrepareFromCache is the slow path without the network: a fresh
// project of 50 assets (MuJoCo and Isaac URDF targets) prepared --offline
// from a cache that holds, unpacked and validated, every export it needs.
// It times resolving from the cache, planning, building the version
// folders and switching them in.
func BenchmarkPrepareFromCache(b *testing.B) {
	srv, url := emulatortest.StartTest(b, emulator.Config{Assets: 0})
	n := 50
	for i := 0; i < n; i++ {
		if _, err := srv.AddAsset(prompts[i%len(prompts)], fmt.Sprintf("robot %d", i), []string{"bench"}, api.StatusReady); err != nil {
			b.Fatal(err)
		}
	}
	cdir := b.TempDir()
	manifest := "[assets]\ntags = [\"bench\"]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim/mujoco\"\n\n[[target]]\nlayout = \"isaac\"\ndir = \"sim/isaac\"\nformats = [\"urdf\"]\n"
	options := func(proj string, offline bool) Options {
		if err := os.WriteFile(filepath.Join(proj, "gizmo.toml"), []byte(manifest), 0o644); err != nil {
			b.Fatal(err)
		}
		return Options{
			Dir:       proj,
			Offline:   offline,
			OpenCache: func() (Cache, error) { return cache.Open(cdir) },
			Remote: func() (Remote, error) {
				return api.New(api.Options{BaseURL: url, APIKey: emulator.DefaultAPIKey})
			},
		}
	}
	ctx := context.Background()
	// Fill the cache (and the asset list) once.
	if res, err := Run(ctx, options(b.TempDir(), false)); err != nil || len(res.Items) != 2*n {
		b.Fatalf("first prepare: %v", err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		o := options(b.TempDir(), true)
		b.StartTimer()
		res, err := Run(ctx, o)
		if err != nil || len(res.Items) != 2*n || res.Placed != 2*n {
			b.Fatalf("prepare from the cache: %+v %v", res, err)
		}
	}
}
