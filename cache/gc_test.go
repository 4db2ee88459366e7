package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGCPrune(t *testing.T) {
	c := openTest(t)
	if err := c.RecordAssets([]AssetMeta{{ID: "ast_1", Name: "a"}, {ID: "ast_2", Name: "b"}}, true); err != nil {
		t.Fatal(err)
	}
	es := storeSome(t, c)
	for _, e := range es {
		unpack(t, c, e)
	}
	c.RecordURL("ast_2", "mujoco_mjcf", "https://x", time.Time{})
	if err := c.RecordAssets([]AssetMeta{{ID: "ast_1", Name: "a"}}, true); err != nil { // ast_2 vanished
		t.Fatal(err)
	}
	// Without --prune a vanished asset stays.
	if res, err := c.GC(context.Background(), GCOptions{}); err != nil || len(res.Removed) != 0 {
		t.Fatalf("gc = %+v %v", res, err)
	}
	res, err := c.GC(context.Background(), GCOptions{Prune: true, DryRun: true})
	if err != nil || len(res.Pruned) != 1 || len(res.Removed) != 2 || !c.Have("ast_2", "mujoco_mjcf") {
		t.Fatalf("dry-run prune = %+v %v", res, err)
	}
	res, err = c.GC(context.Background(), GCOptions{Prune: true})
	if err != nil || strings.Join(res.Pruned, ",") != "ast_2" || len(res.Removed) != 2 {
		t.Fatalf("prune = %+v %v", res, err)
	}
	if _, err := c.Asset("ast_2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("pruned asset still known: %v", err)
	}
	if _, _, ok := c.URL("ast_2", "mujoco_mjcf"); ok {
		t.Error("pruned asset's URL kept")
	}
	if !c.Have("ast_1", "isaac_sim_urdf") || !c.Have("ast_1", "mujoco_mjcf") {
		t.Error("prune removed a live asset")
	}
	for _, e := range es[:2] {
		if _, err := os.Stat(c.ModelPath(e)); err != nil {
			t.Errorf("prune removed the tree of %s/%s: %v", e.AssetID, e.Format, err)
		}
	}
	for _, p := range []string{c.blobPath(es[2].Hash), c.TreePath(es[2])} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("prune left %s (%v)", p, err)
		}
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify: %v %v", ps, err)
	}
}

// TestGCAndVerifyDuringStores: GC, verify and removals running while stores
// publish and trees are unpacked never take a live entry's files, and never
// report a store or an unpack in progress as a problem.
func TestGCAndVerifyDuringStores(t *testing.T) {
	c := openTest(t)
	stop := make(chan struct{})
	var bg sync.WaitGroup
	var gcErr, verifyErr error
	bg.Add(2)
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := c.GC(context.Background(), GCOptions{}); err != nil {
				gcErr = err
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			ps, err := c.Verify(context.Background(), false)
			if err != nil {
				verifyErr = err
				return
			}
			for _, p := range ps {
				if p.Kind != ProblemExtra { // a removal's files may be mid-deletion
					verifyErr = fmt.Errorf("verify during stores: %v", p)
					return
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	n := 16
	if testing.Short() {
		n = 8
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Pairs of keys share content, so dedup and removal interleave.
			data := makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"m.stl", strings.Repeat(fmt.Sprint(i/2), 50000)})
			id := fmt.Sprintf("ast_%d", i)
			e, err := c.Store(context.Background(), id, "isaac_sim_urdf", bytesFetch(data, ""))
			if err != nil {
				errs <- err
				return
			}
			// Used at once, so that unpacking (of one content by two keys)
			// races with GC and verify too.
			if _, err := c.Unpack(context.Background(), e); err != nil {
				errs <- err
				return
			}
			if i%3 == 0 {
				if err := c.Remove(context.Background(), id); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if gcErr != nil || verifyErr != nil {
		t.Fatalf("gc: %v; verify: %v", gcErr, verifyErr)
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("ast_%d", i)
		if have := c.Have(id, "isaac_sim_urdf"); have != (i%3 != 0) {
			t.Errorf("ast_%d: Have = %v", i, have)
		}
		if e, err := c.Entry(id, "isaac_sim_urdf"); err == nil {
			if _, err := os.Stat(c.ModelPath(e)); err != nil {
				t.Errorf("ast_%d lost its tree: %v", i, err)
			}
		}
	}
	if _, err := c.GC(context.Background(), GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify at the end: %v %v", ps, err)
	}
}
