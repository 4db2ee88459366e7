package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// damageIndex damages the index file of the cache at dir.
type damageIndex func(t *testing.T, path string)

func zeroAt(off, n int64) damageIndex {
	return func(t *testing.T, path string) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(make([]byte, n), off); err != nil {
			t.Fatal(err)
		}
	}
}

func garbleAt(off, n int64) damageIndex {
	return func(t *testing.T, path string) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*131 + 7)
		}
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
}

// garbleBranches garbles every branch page: the leaves, which hold the
// records, stay as they were, and nothing can reach them.
func garbleBranches(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for off := 2 * 4096; off+4096 <= len(data); off += 4096 {
		if binary.NativeEndian.Uint64(data[off:]) == uint64(off/4096) && binary.NativeEndian.Uint16(data[off+8:]) == boltBranchPage {
			garbleAt(int64(off), 4096)(t, path)
			n++
		}
	}
	if n == 0 {
		t.Fatal("the index has no branch page: store more")
	}
}

func truncateTo(size int64) damageIndex {
	return func(t *testing.T, path string) {
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
	}
}

// fillIndex stores n small downloads with asset metadata, so that the
// index spans several pages.
func fillIndex(t *testing.T, c *Cache, n int) []Entry {
	t.Helper()
	var es []Entry
	var metas []AssetMeta
	for i := range n {
		id := "ast_" + strings.Repeat("x", 40) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		metas = append(metas, AssetMeta{ID: id, Name: "robot " + id, Status: "ready", Prompt: strings.Repeat("a long prompt ", 20)})
		doc := urdfDoc + "<!-- " + id + " -->"
		e, err := c.Store(context.Background(), id, "isaac_sim_urdf", bytesFetch([]byte(doc), ""))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	if err := c.RecordAssets(metas, true); err != nil {
		t.Fatal(err)
	}
	return es
}

// TestIndexDamaged: an index cut short or garbled is reported as damaged
// (never as held by another program, never a crash), by Open or by
// Verify's full read; RepairIndex rebuilds it from what can be read, keeps
// the damaged copy, and the rebuilt index verifies clean.
func TestIndexDamaged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage damageIndex
		reason string
		// all: every entry is recovered (the damage hit no leaf page).
		all bool
	}{
		{"both meta pages zeroed", zeroAt(0, 8192), "neither meta page is valid", true},
		{"first meta page garbled", garbleAt(100, 200), "", true},
		{"cut short", truncateTo(12000), "cut short", false},
		{"branch pages garbled", garbleBranches, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			c, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			es := fillIndex(t, c, 60)
			path := c.dbPath()
			waitClosed(t, c)
			tc.damage(t, path)
			// Its own process would reuse the index's state: what matters
			// is what a new process sees, which a fresh Open approximates
			// (the committer is closed).
			c2, err := Open(dir)
			if err == nil {
				_, err = c2.Verify(context.Background(), false)
			}
			if tc.name == "first meta page garbled" {
				// bbolt uses the other meta page: not damage.
				if err != nil {
					t.Fatalf("one garbled meta page: %v", err)
				}
				return
			}
			var derr *IndexDamagedError
			if !errors.As(err, &derr) || !errors.Is(err, ErrIndexDamaged) {
				t.Fatalf("damaged index: got %v, want an IndexDamagedError", err)
			}
			if !strings.Contains(derr.Reason, tc.reason) || strings.Contains(err.Error(), "another program") {
				t.Errorf("message %q: want the reason %q, and no word of another program", err, tc.reason)
			}
			if !strings.Contains(err.Error(), "gizmo cache verify --repair") {
				t.Errorf("message %q does not say what to do", err)
			}

			res, err := RepairIndex(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %+v", tc.name, res)
			if !res.Rebuilt || res.SavedAs == "" {
				t.Fatalf("repair: %+v", res)
			}
			if _, err := os.Stat(res.SavedAs); err != nil {
				t.Errorf("the damaged copy: %v", err)
			}
			c3, err := Open(dir)
			if err != nil {
				t.Fatalf("open after repair: %v", err)
			}
			checkConsistent(t, c3)
			got, err := c3.Entries()
			if err != nil {
				t.Fatal(err)
			}
			if tc.all && (len(got) != len(es) || res.Assets != len(es)) {
				t.Errorf("recovered %d entries and %d assets of %d", len(got), res.Assets, len(es))
			}
			if len(got) == 0 && tc.name != "cut short" {
				t.Errorf("nothing recovered: %+v", res)
			}
			byKey := map[string]Entry{}
			for _, e := range es {
				byKey[e.AssetID] = e
			}
			for _, e := range got {
				if want := byKey[e.AssetID]; want.Hash != e.Hash || want.Size != e.Size {
					t.Errorf("recovered %s as %s/%d, stored as %s/%d", e.AssetID, e.Hash, e.Size, want.Hash, want.Size)
				}
			}
			ps, err := c3.Verify(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Kind != ProblemExtra { // downloads whose record was lost
					t.Errorf("after repair: %s", p)
				}
			}
			if n := countKind(ps, ProblemExtra); n != len(es)-len(got) {
				t.Errorf("%d extra files, want %d (the entries not recovered)", n, len(es)-len(got))
			}
			// A second repair finds it sound and leaves it.
			if res, err := RepairIndex(context.Background(), dir); err != nil || res.Rebuilt {
				t.Errorf("repair of a sound index: %+v, %v", res, err)
			}
		})
	}
}

// waitClosed waits until this process's committer has let the index go.
func waitClosed(t *testing.T, c *Cache) {
	t.Helper()
	x := c.index()
	for deadline := time.Now().Add(5 * time.Second); ; {
		x.mu.Lock()
		running := x.running
		x.mu.Unlock()
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the committer still runs after 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestVerifyInterruptedVerdict: a verdict recorded by a validation cut
// short (as earlier versions did on Ctrl-C) is reported, and repair clears
// it (the next sync validates the entry again); a real verdict is kept.
func TestVerifyInterruptedVerdict(t *testing.T) {
	c := openTest(t)
	es := storeSome(t, c)
	cut := Validation{Valid: false, Errors: 1, Summary: []string{"validate model.xml: context canceled"}}
	real := Validation{Valid: false, Errors: 2, Summary: []string{"robot.urdf:3: joint has no limit"}}
	if err := c.SetValidation(es[0].AssetID, es[0].Format, cut); err != nil {
		t.Fatal(err)
	}
	if err := c.SetValidation(es[1].AssetID, es[1].Format, real); err != nil {
		t.Fatal(err)
	}
	ps, err := c.Verify(context.Background(), false)
	if err != nil || len(ps) != 1 || ps[0].Kind != ProblemVerdict || ps[0].AssetID != es[0].AssetID || !ps[0].Unresolved() {
		t.Fatalf("verify: %v, %v; want one unresolved verdict problem for %s", ps, err, es[0].AssetID)
	}
	ps, err = c.Verify(context.Background(), true)
	if err != nil || len(ps) != 1 || !ps[0].Repaired {
		t.Fatalf("verify --repair: %v, %v", ps, err)
	}
	for i, want := range []*Validation{nil, &real} {
		e, err := c.Entry(es[i].AssetID, es[i].Format)
		if err != nil {
			t.Fatal(err)
		}
		if (want == nil) != (e.Validation == nil) || (want != nil && e.Validation.Errors != want.Errors) {
			t.Errorf("%s/%s: validation %+v after repair, want %+v", e.AssetID, e.Format, e.Validation, want)
		}
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("after repair: %v, %v", ps, err)
	}
}
