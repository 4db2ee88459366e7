package prepare

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/check"
)

// env is a project, a cache and an emulator for one test.
type env struct {
	t       *testing.T
	srv     *emulator.Server
	url     string
	project string
	cache   string
	opened  atomic.Int64 // cache opens
}

func newEnv(t *testing.T, assets int) *env {
	srv, url := emulatortest.StartTest(t, emulator.Config{Assets: assets, Seed: 7})
	return &env{t: t, srv: srv, url: url, project: t.TempDir(), cache: t.TempDir()}
}

func (e *env) options() Options {
	return Options{
		Dir: e.project,
		OpenCache: func() (Cache, error) {
			e.opened.Add(1)
			return cache.Open(e.cache)
		},
		Remote: func() (Remote, error) {
			return api.New(api.Options{BaseURL: e.url, APIKey: emulator.DefaultAPIKey})
		},
		Validate: checkModel,
	}
}

func (e *env) requests() int64 {
	s := e.srv.Stats()
	return s.List.Requests + s.Get.Requests + s.Export.Requests + s.Download.Requests + s.Create.Requests
}

func (e *env) manifest(text string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.project, project.ManifestFile), []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// readyIDs lists the emulator's ready assets.
func (e *env) readyIDs() []api.Asset {
	e.t.Helper()
	c, err := api.New(api.Options{BaseURL: e.url, APIKey: emulator.DefaultAPIKey})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []api.Asset
	listing, err := gsync.List(context.Background(), c)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range listing.Assets {
		if a.Status == api.StatusReady {
			out = append(out, a)
		}
	}
	if len(out) < 2 {
		e.t.Fatalf("emulator has %d ready assets", len(out))
	}
	return out
}

func manifestFor(ids []string, targets string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return fmt.Sprintf("[assets]\nids = [%s]\n\n%s", strings.Join(q, ", "), targets)
}

const bothTargets = `[[target]]
layout = "mujoco"
dir = "sim/mujoco"

[[target]]
layout = "isaac"
dir = "sim/isaac"
`

func TestPrepareEndToEnd(t *testing.T) {
	e := newEnv(t, 6)
	ready := e.readyIDs()
	ids := []string{ready[0].ID, ready[1].ID}
	e.manifest(manifestFor(ids, bothTargets))
	ctx := context.Background()

	res, err := Run(ctx, e.options())
	if err != nil {
		t.Fatal(err)
	}
	if res.NoOp || res.Fetched != 6 || res.Placed != 4 {
		t.Fatalf("first prepare: %+v", res)
	}
	if len(res.Items) != 6 { // 2 assets × (mjcf + usd + urdf)
		t.Fatalf("items: %+v", res.Items)
	}
	for _, it := range res.Items {
		p := filepath.Join(e.project, it.Path)
		if _, err := os.Stat(p); err != nil {
			t.Errorf("placed model %s: %v", it.Path, err)
		}
		switch {
		case it.Scene != "":
			if ok, out, ran := reftest.MuJoCo222(t, filepath.Join(e.project, it.Scene)); ran && !ok {
				t.Errorf("%s does not compile: %s", it.Scene, out)
			}
		case strings.HasSuffix(it.Path, ".urdf"):
			if ok, out, ran := reftest.CheckURDF(t, p); ran && !ok {
				t.Errorf("check_urdf %s: %s", it.Path, out)
			}
		}
	}
	lock, err := project.ReadLock(e.project)
	if err != nil {
		t.Fatal(err)
	}
	if len(lock.Entries) != 6 {
		t.Fatalf("lock: %+v", lock)
	}

	// Nothing changed: no request, no cache.
	before, opens := e.requests(), e.opened.Load()
	res, err = Run(ctx, e.options())
	if err != nil {
		t.Fatal(err)
	}
	if !res.NoOp || len(res.Items) != 6 {
		t.Errorf("second prepare is not a no-op: %+v", res)
	}
	if n := e.requests() - before; n != 0 {
		t.Errorf("no-op prepare sent %d requests", n)
	}
	if e.opened.Load() != opens {
		t.Error("no-op prepare opened the cache")
	}

	// A deleted mesh is restored, from the cache alone.
	var mesh string
	for _, it := range res.Items {
		if it.Scene != "" {
			assets := filepath.Join(e.project, filepath.Dir(it.Path), "assets")
			ents, _ := os.ReadDir(assets)
			for _, en := range ents {
				if strings.HasSuffix(en.Name(), ".stl") {
					mesh = filepath.Join(assets, en.Name())
					break
				}
			}
			break
		}
	}
	if mesh == "" {
		t.Fatal("no mesh placed")
	}
	if err := os.Remove(mesh); err != nil {
		t.Fatal(err)
	}
	res, err = Run(ctx, e.options())
	if err != nil {
		t.Fatal(err)
	}
	if res.NoOp || res.Repaired != 1 || res.Fetched != 0 {
		t.Errorf("repair: %+v", res)
	}
	if _, err := os.Stat(mesh); err != nil {
		t.Errorf("the deleted mesh was not restored: %v", err)
	}
	if n := e.requests() - before; n != 0 {
		t.Errorf("repair sent %d requests; the cache had everything", n)
	}
	// --verify sees a change that keeps size and mtime.
	if res, err := Run(ctx, withVerify(e.options())); err != nil || !res.NoOp {
		t.Errorf("verify of an intact project: %+v %v", res, err)
	}

	// --locked passes as is, and fails naming the asset when the lock differs.
	o := e.options()
	o.Locked = true
	if _, err := Run(ctx, o); err != nil {
		t.Errorf("--locked on a matching lock: %v", err)
	}
	lock.Entries[0].Hash = strings.Repeat("0", 64)
	lock.Manifest = "changed"
	if err := lock.Write(e.project); err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, o)
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), lock.Entries[0].ID) {
		t.Fatalf("--locked with a tampered lock: %v", err)
	}
	after, _ := project.ReadLock(e.project)
	if after.Entries[0].Hash != lock.Entries[0].Hash {
		t.Error("--locked rewrote the lock")
	}
	// A new asset in the manifest is named too.
	e.manifest(manifestFor([]string{ids[0], ids[1], ready[2].ID}, bothTargets))
	if _, err := Run(ctx, e.options()); err != nil { // rewrite the lock for two...
		t.Fatal(err)
	}
	e.manifest(manifestFor(ids, bothTargets))
	_, err = Run(ctx, o)
	if !errors.As(err, &le) || !strings.Contains(err.Error(), ready[2].ID) {
		t.Fatalf("--locked after dropping an asset: %v", err)
	}
	// Without --locked the project follows the manifest, removing the third.
	res, err = Run(ctx, e.options())
	if err != nil || res.Removed != 2 {
		t.Fatalf("dropping an asset: %+v %v", res, err)
	}
}

func withVerify(o Options) Options { o.Verify = true; return o }

// TestOffline: an offline prepare sends no request; on a cold cache it
// fails naming what is missing; on a warm one it places.
func TestOffline(t *testing.T) {
	e := newEnv(t, 4)
	ready := e.readyIDs()
	e.manifest(manifestFor([]string{ready[0].ID}, bothTargets))
	before := e.requests()
	o := e.options()
	o.Offline = true
	_, err := Run(context.Background(), o)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), ready[0].ID) {
		t.Fatalf("offline on a cold cache: %v", err)
	}
	if n := e.requests() - before; n != 0 {
		t.Errorf("offline prepare sent %d requests", n)
	}
	// Warm the metadata only: the files are still missing.
	c, _ := cache.Open(e.cache)
	c.RecordAssets([]cache.AssetMeta{{ID: ready[0].ID, Name: ready[0].Name, Status: "ready", Formats: []string{"mujoco_mjcf", "isaac_sim_usd", "isaac_sim_urdf"}}}, false)
	_, err = Run(context.Background(), o)
	var me *MissingError
	if !errors.As(err, &me) || len(me.Missing) != 3 || !strings.Contains(err.Error(), ready[0].ID) {
		t.Fatalf("offline with metadata only: %v", err)
	}
	if n := e.requests() - before; n != 0 {
		t.Errorf("offline prepare sent %d requests", n)
	}
	if _, err := Run(context.Background(), e.options()); err != nil {
		t.Fatal(err)
	}
	mid := e.requests()
	os.Remove(filepath.Join(e.project, project.LockFile)) // force the slow path
	res, err := Run(context.Background(), o)
	if err != nil || len(res.Items) != 3 {
		t.Fatalf("offline on a warm cache: %+v %v", res, err)
	}
	if n := e.requests() - mid; n != 0 {
		t.Errorf("offline prepare sent %d requests", n)
	}
}

// TestHostileNames: asset names from the API never place outside the target.
func TestHostileNames(t *testing.T) {
	e := newEnv(t, 0)
	names := []string{"../../etc", "a/b/../../../c", "Robot\x00\x1b[2J", strings.Repeat("long ", 60), "Gripper", "gripper", "GRIPPER", "..", ""}
	for _, n := range names {
		if _, err := e.srv.AddAsset("a two finger gripper", n, []string{"hostile"}, api.StatusReady); err != nil {
			t.Fatal(err)
		}
	}
	e.manifest("[assets]\ntags = [\"hostile\"]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"models\"\n")
	res, err := Run(context.Background(), e.options())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != len(names) {
		t.Fatalf("placed %d of %d", len(res.Items), len(names))
	}
	slugs := map[string]bool{}
	for _, it := range res.Items {
		if slugs[strings.ToLower(it.Slug)] {
			t.Errorf("slug %s used twice", it.Slug)
		}
		slugs[strings.ToLower(it.Slug)] = true
		if !strings.HasPrefix(it.Path, "models/"+it.Slug+"/") || strings.Contains(it.Path, "..") {
			t.Errorf("%q placed at %s", it.Name, it.Path)
		}
	}
	ents, _ := os.ReadDir(e.project)
	for _, en := range ents {
		if n := en.Name(); n != "models" && n != project.ManifestFile && n != project.LockFile {
			t.Errorf("unexpected %s in the project", n)
		}
	}
	// Stable across runs: a second resolution keeps every slug.
	os.Remove(filepath.Join(e.project, project.LockFile))
	again, err := Run(context.Background(), e.options())
	if err != nil {
		t.Fatal(err)
	}
	for i := range again.Items {
		if again.Items[i].Path != res.Items[i].Path {
			t.Errorf("path changed across runs: %s -> %s", res.Items[i].Path, again.Items[i].Path)
		}
	}
	if again.Placed != 0 {
		t.Errorf("second run re-placed %d assets", again.Placed)
	}
}

func TestManifestErrors(t *testing.T) {
	e := newEnv(t, 0)
	e.manifest("[assets]\nids = []\nidz = [\"x\"]\n")
	_, err := Run(context.Background(), e.options())
	var pe *project.Error
	if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(err.Error(), "idz") {
		t.Fatalf("unknown key: %v", err)
	}
	e.manifest("[assets]\nids = [\"ast_nope\"]\n[[target]]\nlayout = \"mujoco\"\ndir = \"m\"\n")
	_, err = Run(context.Background(), e.options())
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "ast_nope") {
		t.Fatalf("unknown asset: %v", err)
	}
}

// TestConcurrentPrepare: two prepares of one project at once (two
// processes' worth: each opens the cache itself) both succeed and leave
// every file as placed.
func TestConcurrentPrepare(t *testing.T) {
	e := newEnv(t, 4)
	ready := e.readyIDs()
	e.manifest(manifestFor([]string{ready[0].ID, ready[1].ID}, bothTargets))
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			_, err := Run(context.Background(), e.options())
			errs <- err
		}()
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	res, err := Run(context.Background(), withVerify(e.options()))
	if err != nil || !res.NoOp || len(res.Items) != 6 {
		t.Fatalf("after two concurrent prepares: %+v %v", res, err)
	}
}

// TestInvalidModel: a model that fails validation stops the run with exit
// code material (InvalidError) naming file:line, and nothing is placed.
func TestInvalidModel(t *testing.T) {
	bad := []byte(`<?xml version="1.0"?>
<robot name="broken">
  <link name="base"/>
  <joint name="j1" type="revolute">
    <parent link="base"/>
    <child link="missing"/>
    <axis xyz="0 0 1"/>
    <limit lower="-1" upper="1" effort="1" velocity="1"/>
  </joint>
</robot>
`)
	srv, url := emulatortest.StartTest(t, emulator.Config{Generate: func(id, name, prompt string, f formats.Format) ([]byte, string, error) {
		return bad, "broken.urdf", nil
	}})
	a, err := srv.AddAsset("a broken arm", "Broken", nil, api.StatusReady)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, url: url, project: t.TempDir(), cache: t.TempDir()}
	e.manifest(manifestFor([]string{a.ID}, "[[target]]\nlayout = \"isaac\"\ndir = \"i\"\nformats = [\"urdf\"]\n"))
	_, err = Run(context.Background(), e.options())
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an InvalidError", err)
	}
	if !strings.Contains(err.Error(), a.ID) || !regexp.MustCompile(`/broken\.urdf:4:\d+: error: `).MatchString(err.Error()) {
		t.Errorf("the error does not name the asset and file:line: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.project, "i", "broken")); !os.IsNotExist(err) {
		t.Errorf("an invalid model was placed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.project, project.LockFile)); !os.IsNotExist(err) {
		t.Errorf("a failed prepare wrote gizmo.lock")
	}
}

// TestFetchThroughEngine: prepare fetches with the sync engine, so a URL
// recorded in the cache is reused (no export) and a body cut short is
// restarted on the same URL (one export, two downloads).
func TestFetchThroughEngine(t *testing.T) {
	const mujocoTarget = "[[target]]\nlayout = \"mujoco\"\ndir = \"sim\"\n"
	t.Run("recorded URL", func(t *testing.T) {
		e := newEnv(t, 4)
		id := e.readyIDs()[0].ID
		e.manifest(manifestFor([]string{id}, mujocoTarget))
		c, err := api.New(api.Options{BaseURL: e.url, APIKey: emulator.DefaultAPIKey})
		if err != nil {
			t.Fatal(err)
		}
		ex, err := c.Export(context.Background(), id, formats.MuJoCo)
		if err != nil {
			t.Fatal(err)
		}
		cc, err := cache.Open(e.cache)
		if err != nil {
			t.Fatal(err)
		}
		if err := cc.RecordURL(id, string(formats.MuJoCo), ex.URL, ex.ExpiresAt); err != nil {
			t.Fatal(err)
		}
		before := e.srv.Stats()
		res, err := Run(context.Background(), e.options())
		if err != nil {
			t.Fatal(err)
		}
		st := e.srv.Stats()
		if res.Fetched != 1 || st.Export.Requests != before.Export.Requests || st.Download.Requests != before.Download.Requests+1 {
			t.Errorf("result %+v, stats %+v → %+v: want the recorded URL reused (no export, 1 download)", res, before, st)
		}
	})
	t.Run("restart", func(t *testing.T) {
		e := newEnv(t, 4)
		id := e.readyIDs()[0].ID
		e.manifest(manifestFor([]string{id}, mujocoTarget))
		if err := e.srv.SetFaults(emulator.Faults{TruncateRate: 1}); err != nil {
			t.Fatal(err)
		}
		o := e.options()
		o.Log = func(format string, args ...any) {
			if strings.HasPrefix(format, "retrying") {
				e.srv.SetFaults(emulator.Faults{})
			}
		}
		before := e.srv.Stats()
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		st := e.srv.Stats()
		if res.Fetched != 1 || st.Export.Requests-before.Export.Requests != 1 || st.Download.Requests-before.Download.Requests != 2 {
			t.Errorf("result %+v, stats %+v → %+v: want 1 export and 2 downloads", res, before, st)
		}
	})
}

// checkModel is the validators behind prepare's Validator interface, as the
// command wires them: every error line kept.
func checkModel(ctx context.Context, p string, files gsync.Files) gsync.Validation {
	reps, err := check.Path(ctx, p, validate.Options{FS: files})
	if err != nil {
		return gsync.Validation{Errors: 1, Summary: []string{err.Error()}, Err: err}
	}
	v := gsync.Validation{Valid: true}
	for _, r := range reps {
		v.Valid = v.Valid && r.Valid
		v.Errors += len(r.Errors)
		v.Warnings += len(r.Warnings)
		for _, pr := range r.Errors {
			v.Summary = append(v.Summary, pr.String())
		}
	}
	return v
}
