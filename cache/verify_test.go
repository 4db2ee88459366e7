package cache

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// storeN stores a few entries of different kinds and returns them.
func storeSome(t *testing.T, c *Cache) []Entry {
	t.Helper()
	var es []Entry
	for _, s := range []struct {
		id, format string
		data       []byte
	}{
		{"ast_1", "isaac_sim_urdf", makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/base.stl", "solid base"})},
		{"ast_1", "mujoco_mjcf", []byte(mjcfDoc)},
		{"ast_2", "mujoco_mjcf", makeZip(t, zfile{"arm.xml", mjcfDoc}, zfile{"assets/l.stl", "mesh"})},
	} {
		e, err := c.Store(context.Background(), s.id, s.format, bytesFetch(s.data, ""))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

// overwrite replaces a (read-only) file's bytes in place.
func overwrite(t *testing.T, p string, data []byte) {
	t.Helper()
	os.Chmod(filepath.Dir(p), 0o755)
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFindsAndRepairs(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, c *Cache, es []Entry)
		kind    string
		badKeys string // asset/format pairs that repair drops, or whose tree it removes
		// treeOnly: the download is sound, only its unpacked tree is bad:
		// repair removes the tree and keeps the entry (Unpack remakes it).
		treeOnly bool
	}{
		{"corrupt blob", func(t *testing.T, c *Cache, es []Entry) {
			overwrite(t, c.blobPath(es[0].Hash), []byte("PK\x03\x04 flipped bits"))
		}, ProblemCorrupt, "ast_1/isaac_sim_urdf", false},
		{"missing blob", func(t *testing.T, c *Cache, es []Entry) {
			os.Remove(c.blobPath(es[2].Hash))
		}, ProblemMissing, "ast_2/mujoco_mjcf", false},
		{"corrupt blob of an unpacked entry", func(t *testing.T, c *Cache, es []Entry) {
			unpack(t, c, es[2])
			overwrite(t, c.blobPath(es[2].Hash), []byte("PK\x03\x04 flipped bits"))
		}, ProblemCorrupt, "ast_2/mujoco_mjcf", false},
		{"corrupt mesh in tree", func(t *testing.T, c *Cache, es []Entry) {
			unpack(t, c, es[0])
			overwrite(t, filepath.Join(c.TreePath(es[0]), "meshes", "base.stl"), []byte("solid BASE"))
		}, ProblemCorrupt, "ast_1/isaac_sim_urdf", true},
		{"truncated single model", func(t *testing.T, c *Cache, es []Entry) {
			// The tree's model is a hard link of the blob: truncating it
			// corrupts both.
			overwrite(t, unpack(t, c, es[1]), []byte("<mujoco"))
		}, ProblemCorrupt, "ast_1/mujoco_mjcf", false},
		{"missing tree file", func(t *testing.T, c *Cache, es []Entry) {
			unpack(t, c, es[2])
			p := filepath.Join(c.TreePath(es[2]), "assets", "l.stl")
			os.Chmod(filepath.Dir(p), 0o755)
			os.Remove(p)
		}, ProblemMissing, "ast_2/mujoco_mjcf", true},
		{"missing model file", func(t *testing.T, c *Cache, es []Entry) {
			p := unpack(t, c, es[2])
			os.Chmod(filepath.Dir(p), 0o755)
			os.Remove(p)
		}, ProblemMissing, "ast_2/mujoco_mjcf", true},
		{"extra file in tree", func(t *testing.T, c *Cache, es []Entry) {
			unpack(t, c, es[2])
			os.Chmod(c.TreePath(es[2]), 0o755)
			os.WriteFile(filepath.Join(c.TreePath(es[2]), "intruder.stl"), []byte("x"), 0o644)
		}, ProblemCorrupt, "ast_2/mujoco_mjcf", true},
		// A tree that is absent is fine (not unpacked yet, see
		// TestVerifyTreeNotUnpacked); one that is there but not a folder
		// is not.
		{"tree is a file", func(t *testing.T, c *Cache, es []Entry) {
			if err := os.WriteFile(c.TreePath(es[0]), []byte("not a tree"), 0o444); err != nil {
				t.Fatal(err)
			}
		}, ProblemCorrupt, "ast_1/isaac_sim_urdf", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			es := storeSome(t, c)
			tt.damage(t, c, es)
			ps, err := c.Verify(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == 0 || countKind(ps, tt.kind) == 0 {
				t.Fatalf("verify = %v, want a %s problem", ps, tt.kind)
			}
			for _, p := range ps {
				if p.AssetID+"/"+p.Format != tt.badKeys || p.Repaired {
					t.Errorf("unexpected problem %v", p)
				}
			}
			// Without --repair nothing changed.
			if _, err := c.Entry(splitKey(tt.badKeys)); err != nil {
				t.Fatalf("verify without repair dropped the entry: %v", err)
			}
			ps, err = c.Verify(context.Background(), true)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if !p.Repaired {
					t.Errorf("not repaired: %v", p)
				}
			}
			id, format := splitKey(tt.badKeys)
			if tt.treeOnly {
				// The entry stays, its tree is gone, and Unpack makes a
				// sound one again from the download: nothing to fetch.
				e, err := c.Entry(id, format)
				if err != nil {
					t.Fatalf("repair of a tree dropped the entry: %v", err)
				}
				if _, err := os.Lstat(c.TreePath(e)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("repair left the damaged tree %s (%v)", c.TreePath(e), err)
				}
				unpack(t, c, e)
				if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
					t.Errorf("verify after repair and unpack: %v %v", ps, err)
				}
				return
			}
			if _, err := c.Entry(id, format); !errors.Is(err, ErrNotCached) {
				t.Errorf("bad entry still indexed: %v", err)
			}
			// The good entries are intact, and a clean verify follows.
			if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
				// Extra files of the dropped entry may remain only if shared.
				t.Errorf("verify after repair: %v %v", ps, err)
			}
			n := 0
			for _, e := range es {
				if e.AssetID+"/"+e.Format != tt.badKeys && c.Have(e.AssetID, e.Format) {
					n++
				}
			}
			if n != len(es)-1 {
				t.Errorf("%d good entries left, want %d", n, len(es)-1)
			}
			// The bad entry's files are gone, so a new store rewrites them.
			bad := es[0]
			for _, e := range es {
				if e.AssetID+"/"+e.Format == tt.badKeys {
					bad = e
				}
			}
			for _, p := range []string{c.blobPath(bad.Hash), c.TreePath(bad)} {
				if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("repair left %s (%v)", p, err)
				}
			}
		})
	}
}

// TestVerifyTreeNotUnpacked: an entry whose tree is absent (never unpacked,
// or removed by hand) is not a problem: Unpack makes it on first use.
func TestVerifyTreeNotUnpacked(t *testing.T) {
	c := openTest(t)
	es := storeSome(t, c)
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Fatalf("verify before any unpack: %v %v", ps, err)
	}
	for _, e := range es {
		unpack(t, c, e)
	}
	removeTree(c.TreePath(es[0]))
	if ps, err := c.Verify(context.Background(), true); err != nil || len(ps) != 0 {
		t.Fatalf("verify with a tree removed: %v %v", ps, err)
	}
	if _, err := c.Entry(es[0].AssetID, es[0].Format); err != nil {
		t.Fatalf("repair dropped an entry whose tree was only absent: %v", err)
	}
	if b, err := os.ReadFile(unpack(t, c, es[0])); err != nil || string(b) != urdfDoc {
		t.Fatalf("unpacked again: %q, %v", b, err)
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify after unpacking again: %v %v", ps, err)
	}
}

func TestVerifyReportsExtra(t *testing.T) {
	c := openTest(t)
	es := storeSome(t, c)
	for _, e := range es {
		unpack(t, c, e)
	}
	// An index record lost (e.g. a crash between publishing and indexing).
	if err := c.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).Delete(entryKey(es[2].AssetID, es[2].Format))
	}); err != nil {
		t.Fatal(err)
	}
	ps, err := c.Verify(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || countKind(ps, ProblemExtra) != 2 {
		t.Fatalf("verify = %v, want the blob and the tree as extra", ps)
	}
	res, err := c.GC(context.Background(), GCOptions{DryRun: true})
	if err != nil || len(res.Removed) != 2 || res.Bytes == 0 {
		t.Fatalf("gc dry run = %+v %v", res, err)
	}
	if _, err := os.Stat(c.blobPath(es[2].Hash)); err != nil {
		t.Fatal("dry run removed a file")
	}
	res, err = c.GC(context.Background(), GCOptions{})
	if err != nil || len(res.Removed) != 2 {
		t.Fatalf("gc = %+v %v", res, err)
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify after gc: %v %v", ps, err)
	}
	for _, e := range es[:2] {
		if !c.Have(e.AssetID, e.Format) {
			t.Errorf("gc removed %s/%s", e.AssetID, e.Format)
		}
		if _, err := os.Stat(c.ModelPath(e)); err != nil {
			t.Errorf("gc removed the tree of %s/%s: %v", e.AssetID, e.Format, err)
		}
	}
}
func splitKey(s string) (string, string) {
	id, format, _ := strings.Cut(s, "/")
	return id, format
}

func TestVerifyUnreadableIndexRecord(t *testing.T) {
	c := openTest(t)
	es := storeSome(t, c)
	if err := c.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).Put(entryKey("ast_bad", "mujoco_mjcf"), []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Entries(); err == nil || !strings.Contains(err.Error(), "verify --repair") {
		t.Fatalf("Entries over a bad record: %v", err)
	}
	ps, err := c.Verify(context.Background(), false)
	if err != nil || len(ps) != 1 || ps[0].Kind != ProblemIndex || ps[0].AssetID != "ast_bad" {
		t.Fatalf("verify = %v, %v", ps, err)
	}
	if ps, err = c.Verify(context.Background(), true); err != nil || len(ps) != 1 || !ps[0].Repaired {
		t.Fatalf("repair = %v, %v", ps, err)
	}
	if got, err := c.Entries(); err != nil || len(got) != len(es) {
		t.Fatalf("after repair: %d entries, %v", len(got), err)
	}
}
