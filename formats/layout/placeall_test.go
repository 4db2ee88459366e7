package layout

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/atomicfile"
)

// batchAssets returns n assets of different content for the layout.
func batchAssets(t *testing.T, l Layout, n int) []Asset {
	t.Helper()
	prompts := []string{"a 3-DOF arm", "a 5-DOF arm with a gripper", "a two finger gripper", "a wheeled base"}
	var as []Asset
	for i := range n {
		id := "ast_" + string(rune('a'+i))
		name := "Robot " + string(rune('A'+i))
		a := Asset{ID: id, Name: name, Slug: "robot-" + string(rune('a'+i))}
		for _, f := range l.Formats() {
			a.Sources = append(a.Sources, procgenSource(t, id, name, prompts[i%len(prompts)], f))
		}
		as = append(as, a)
	}
	return as
}

// withSyncFS swaps the flush PlaceAll calls for the test's.
func withSyncFS(t *testing.T, f func(dir string) error) {
	t.Helper()
	old := syncFS
	syncFS = f
	t.Cleanup(func() { syncFS = old })
}

// TestPlaceAllFlushesBeforeSwitching places a batch and checks, at the
// moment of the flush, that every new version folder is complete with its
// sidecar and that no asset's link points at it yet; then that the batch
// placed exactly what Place places one by one.
func TestPlaceAllFlushesBeforeSwitching(t *testing.T) {
	for _, l := range Layouts {
		t.Run(string(l), func(t *testing.T) {
			as := batchAssets(t, l, 4)
			tg := Target{Dir: t.TempDir(), Layout: l}
			flushes := 0
			withSyncFS(t, func(dir string) error {
				if dir != filepath.Join(tg.Dir, stateDir) {
					return atomicfile.SyncFS(dir) // the other target's
				}
				flushes++
				for _, a := range as {
					if _, err := os.Lstat(tg.Path(a.Slug)); err == nil {
						t.Errorf("%s is switched in before the flush", a.Slug)
					}
					vs := tg.versions(a.Slug)
					if len(vs) != 1 {
						t.Errorf("%s: versions %v before the flush, want one", a.Slug, vs)
						continue
					}
					if _, ok := intactVersion(filepath.Join(tg.Dir, stateDir), vs[0]); !ok {
						t.Errorf("%s: version %s is not complete at the flush", a.Slug, vs[0])
					}
				}
				return atomicfile.SyncFS(dir)
			})
			ps, err := tg.PlaceAll(context.Background(), as)
			if err != nil {
				t.Fatal(err)
			}
			if flushes != 1 {
				t.Errorf("%d flushes for a batch of %d, want 1", flushes, len(as))
			}
			one := Target{Dir: t.TempDir(), Layout: l}
			for i, a := range as {
				if problems := tg.Check(ps[i], true); len(problems) > 0 {
					t.Errorf("%s: %v", a.Slug, problems)
				}
				want, err := one.Place(a)
				if err != nil {
					t.Fatal(err)
				}
				if !sameFiles(fileMap(ps[i]), fileMap(want)) || ps[i].Key != want.Key || ps[i].ID != a.ID {
					t.Errorf("%s: the batch placed %v, Place places %v", a.Slug, fileMap(ps[i]), fileMap(want))
				}
			}
			// Placed again: every folder is reused and nothing is flushed.
			flushes = 0
			again, err := tg.PlaceAll(context.Background(), as)
			if err != nil {
				t.Fatal(err)
			}
			for i := range as {
				if again[i].Version != ps[i].Version {
					t.Errorf("%s: placed again as %s, want the intact %s", as[i].Slug, again[i].Version, ps[i].Version)
				}
			}
			if flushes != 0 {
				t.Errorf("%d flushes when nothing changed, want 0", flushes)
			}
		})
	}
}

// TestPlaceAllFlushFails: when the flush fails, nothing is switched: every
// asset keeps the version placed before, and the error says so.
func TestPlaceAllFlushFails(t *testing.T) {
	as := batchAssets(t, MuJoCo, 3)
	tg := Target{Dir: t.TempDir(), Layout: MuJoCo}
	before, err := tg.PlaceAll(context.Background(), as)
	if err != nil {
		t.Fatal(err)
	}
	withSyncFS(t, func(string) error { return errors.New("syncfs: input/output error") })
	changed := make([]Asset, len(as))
	for i, a := range as {
		changed[i] = withHash(a, 1)
	}
	_, err = tg.PlaceAll(context.Background(), changed)
	if err == nil || !strings.Contains(err.Error(), "input/output error") || !strings.Contains(err.Error(), "durable") {
		t.Fatalf("PlaceAll with a failing flush: %v", err)
	}
	for i, a := range as {
		if cur := tg.current(a.Slug); cur != before[i].Version {
			t.Errorf("%s points at %s after a failed flush, want the previous %s", a.Slug, cur, before[i].Version)
		}
		if problems := tg.Check(before[i], true); len(problems) > 0 {
			t.Errorf("%s: %v", a.Slug, problems)
		}
	}
}

// TestPlaceAllWithoutSyncFS: where there is no syncfs, every file and
// folder is fsynced instead and the batch is placed the same.
func TestPlaceAllWithoutSyncFS(t *testing.T) {
	as := batchAssets(t, Isaac, 2)
	tg := Target{Dir: t.TempDir(), Layout: Isaac}
	withSyncFS(t, func(string) error { return atomicfile.ErrNoSyncFS })
	ps, err := tg.PlaceAll(context.Background(), as)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range as {
		if problems := tg.Check(ps[i], true); len(problems) > 0 {
			t.Errorf("%s: %v", a.Slug, problems)
		}
	}
}

// TestPlaceAllRefuses: a batch naming one slug twice, or an asset with no
// source, is refused before anything is written.
func TestPlaceAllRefuses(t *testing.T) {
	as := batchAssets(t, MuJoCo, 2)
	for _, tc := range []struct {
		name string
		as   []Asset
		want string
	}{
		{"same slug twice", []Asset{as[0], {ID: "ast_z", Name: "Z", Slug: as[0].Slug, Sources: as[1].Sources}}, "given to two assets"},
		{"no source", []Asset{as[0], {ID: "ast_z", Name: "Z", Slug: "z"}}, "nothing to place"},
		{"not a slug", []Asset{{ID: "ast_z", Name: "Z", Slug: "../z", Sources: as[1].Sources}}, "not a slug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := Target{Dir: t.TempDir(), Layout: MuJoCo}
			_, err := tg.PlaceAll(context.Background(), tc.as)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(tg.Dir); len(ents) > 0 {
				t.Errorf("wrote %v", ents)
			}
		})
	}
}

// TestPlaceAllCanceled: a canceled context stops the batch before any
// switch; the assets placed before stay placed.
func TestPlaceAllCanceled(t *testing.T) {
	as := batchAssets(t, MuJoCo, 2)
	tg := Target{Dir: t.TempDir(), Layout: MuJoCo}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tg.PlaceAll(ctx, as); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled PlaceAll: %v", err)
	}
	for _, a := range as {
		if _, err := os.Lstat(tg.Path(a.Slug)); err == nil {
			t.Errorf("%s switched in by a canceled batch", a.Slug)
		}
	}
}

// TestPlaceAllSweepsStale: what interrupted runs left in <dir>/.gizmo (a
// temp version folder, a temp sidecar, a temp link) is removed by the next
// placing once older than an hour, of any slug; the same left by a run
// going on beside it (recent) is kept.
func TestPlaceAllSweepsStale(t *testing.T) {
	as := batchAssets(t, MuJoCo, 1)
	tg := Target{Dir: t.TempDir(), Layout: MuJoCo}
	state := filepath.Join(tg.Dir, stateDir)
	if err := os.MkdirAll(filepath.Join(state, "tmp-gone-0123456789ab", "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A temp link is a symlink; a file stands for it (no portable lutimes).
	for _, name := range []string{"tmp-gone-0123456789ab.json", "link-gone-0123456789ab", "tmp-robot-a-recent0000000", "tmp-robot-a-recent0000000.json"} {
		if err := os.WriteFile(filepath.Join(state, name), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{"tmp-gone-0123456789ab", "tmp-gone-0123456789ab.json", "link-gone-0123456789ab"} {
		if err := os.Chtimes(filepath.Join(state, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tg.PlaceAll(context.Background(), as); err != nil {
		t.Fatal(err)
	}
	for name, kept := range map[string]bool{
		"tmp-gone-0123456789ab":          false,
		"tmp-gone-0123456789ab.json":     false,
		"link-gone-0123456789ab":         false,
		"tmp-robot-a-recent0000000":      true,
		"tmp-robot-a-recent0000000.json": true,
	} {
		_, err := os.Lstat(filepath.Join(state, name))
		if there := err == nil; there != kept {
			t.Errorf("%s: there %v after placing, want %v", name, there, kept)
		}
	}
}

// TestPlaceAllAfterStage: the folders Stage made durable are not flushed
// again by the PlaceAll that switches them in (under the project's lock, a
// syncfs would wait for other programs' writes), but a folder this process
// did not flush (staged by another run) is.
func TestPlaceAllAfterStage(t *testing.T) {
	as := batchAssets(t, MuJoCo, 2)
	tg := Target{Dir: t.TempDir(), Layout: MuJoCo}
	state := filepath.Join(tg.Dir, stateDir)
	flushes := 0
	withSyncFS(t, func(dir string) error {
		if dir == state {
			flushes++
		}
		return atomicfile.SyncFS(dir)
	})
	ctx := context.Background()
	if err := tg.Stage(ctx, as); err != nil {
		t.Fatal(err)
	}
	if flushes != 1 {
		t.Fatalf("Stage flushed %d times, want 1", flushes)
	}
	if _, err := tg.PlaceAll(ctx, as[:1]); err != nil {
		t.Fatal(err)
	}
	if flushes != 1 {
		t.Errorf("PlaceAll flushed the folder Stage had made durable (%d flushes, want 1)", flushes)
	}
	// As if another run had staged the second folder: not known as durable.
	vs := tg.versions(as[1].Slug)
	if len(vs) != 1 {
		t.Fatalf("versions of %s: %v", as[1].Slug, vs)
	}
	flushed.Delete(flushKey(state, vs[0]))
	ps, err := tg.PlaceAll(ctx, as[1:])
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Version != vs[0] {
		t.Errorf("placed %s, want the staged %s", ps[0].Version, vs[0])
	}
	if flushes != 2 {
		t.Errorf("a folder another run staged was switched in with %d flushes in all, want 2 (it is flushed first)", flushes)
	}
}
