package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/archive"
)

// snapshot describes every path under the cache root except locks/ (lock
// files are created on first use and never removed; they hold no data):
// "dir" for a folder, else the file's size and modification time.
func snapshot(t *testing.T, c *Cache) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(c.Root(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c.Root(), p)
		if rel == locksDir {
			return filepath.SkipDir
		}
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[rel] = fmt.Sprintf("%d %d", info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStoreKeepsOnlyTheBlob: storing a zip adds one file to the cache, its
// blob (in its shard folder), and changes the index; it makes no tree and
// leaves no temp file.
func TestStoreKeepsOnlyTheBlob(t *testing.T) {
	c := openTest(t)
	// A first store creates the index, gc.lock and the like.
	if _, err := c.Store(context.Background(), "ast_0", "mujoco_mjcf", bytesFetch([]byte(mjcfDoc), "")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, c)
	data := makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/base.stl", strings.Repeat("solid\n", 1000)})
	e, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(data, ""))
	if err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, c)
	blob, _ := filepath.Rel(c.Root(), c.blobPath(e.Hash))
	var added, changed, gone []string
	for p, v := range after {
		switch old, ok := before[p]; {
		case !ok && p == filepath.Dir(blob) && v == "dir":
			// The blob's shard folder, when this store is its first.
		case !ok:
			added = append(added, p)
		case old != v:
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			gone = append(gone, p)
		}
	}
	sort.Strings(added)
	sort.Strings(changed)
	if strings.Join(added, " ") != blob || len(gone) != 0 {
		t.Errorf("store added %v and removed %v, want only the blob %s", added, gone, blob)
	}
	for _, p := range changed {
		if !strings.HasPrefix(p, "index.") {
			t.Errorf("store changed %s", p)
		}
	}
	if got, err := c.Entry("ast_1", "isaac_sim_urdf"); err != nil || got.Hash != sha(data) || got.Model != "robot.urdf" {
		t.Errorf("index record = %+v, %v", got, err)
	}
	if st, err := os.Stat(c.blobPath(e.Hash)); err != nil || st.Mode().Perm()&0o222 != 0 {
		t.Errorf("blob: %v, %v (want read-only)", st, err)
	}
}

func TestUnpack(t *testing.T) {
	tests := []struct {
		name, format string
		data         []byte
		files        []string // the tree's files, sorted
	}{
		{"zip", "isaac_sim_urdf", makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/base.stl", "solid base"}),
			[]string{"meshes/base.stl", "robot.urdf"}},
		{"zip with one top folder", "mujoco_mjcf", makeZip(t, zfile{"arm/arm.xml", mjcfDoc}, zfile{"arm/assets/l.stl", "x"}),
			[]string{"arm/arm.xml", "arm/assets/l.stl"}},
		{"single urdf", "isaac_sim_urdf", []byte(urdfDoc), []string{"model.urdf"}},
		{"single usdc", "isaac_sim_usd", append([]byte("PXR-USDC"), make([]byte, 100)...), []string{"model.usdc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			e, err := c.Store(context.Background(), "ast_1", tt.format, bytesFetch(tt.data, ""))
			if err != nil {
				t.Fatal(err)
			}
			mp, err := c.Unpack(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			if mp != c.ModelPath(e) {
				t.Errorf("Unpack = %s, want ModelPath %s", mp, c.ModelPath(e))
			}
			if b, err := os.ReadFile(mp); err != nil || !bytes.Equal(b, modelBytes(t, tt.data, e.Kind, e.Model)) {
				t.Errorf("model file: %v, or other bytes than the download's model", err)
			}
			var files []string
			filepath.WalkDir(c.TreePath(e), func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					t.Error(err)
					return nil
				}
				if st, _ := d.Info(); st != nil && st.Mode().Perm()&0o222 != 0 {
					t.Errorf("%s is writable: %v", p, st.Mode())
				}
				if !d.IsDir() {
					rel, _ := filepath.Rel(c.TreePath(e), p)
					files = append(files, filepath.ToSlash(rel))
				}
				return nil
			})
			if strings.Join(files, " ") != strings.Join(tt.files, " ") {
				t.Errorf("tree holds %v, want %v", files, tt.files)
			}
			if left := listDir(t, filepath.Join(c.Root(), tmpDir)); left != "" {
				t.Errorf("temp files left: %s", left)
			}
			// A second Unpack finds the tree and changes nothing.
			st1, _ := os.Stat(c.TreePath(e))
			c.rename = func(o, n string) error {
				t.Errorf("second Unpack renamed %s to %s", o, n)
				return os.Rename(o, n)
			}
			mp2, err := c.Unpack(context.Background(), e)
			if err != nil || mp2 != mp {
				t.Fatalf("second Unpack = %s, %v", mp2, err)
			}
			if st2, err := os.Stat(c.TreePath(e)); err != nil || !os.SameFile(st1, st2) {
				t.Errorf("second Unpack replaced the tree (%v)", err)
			}
			if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
				t.Errorf("verify: %v %v", ps, err)
			}
		})
	}
}

// TestUnpackConcurrent: 8 goroutines (through two Cache values, as two
// packages would open it) unpack one entry at once: all succeed, the tree is
// renamed into place once, and no temp tree is left.
func TestUnpackConcurrent(t *testing.T) {
	c := openTest(t)
	data := makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/m.stl", strings.Repeat("solid\n", 50000)})
	e, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(data, ""))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Open(c.Root())
	if err != nil {
		t.Fatal(err)
	}
	var renames atomic.Int32
	for _, cc := range []*Cache{c, c2} {
		cc.rename = func(o, n string) error {
			if strings.HasSuffix(o, ".tree") {
				renames.Add(1)
			}
			return os.Rename(o, n)
		}
	}
	const n = 8
	paths := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc := c
			if i%2 == 1 {
				cc = c2
			}
			paths[i], errs[i] = cc.Unpack(context.Background(), e)
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil || paths[i] != c.ModelPath(e) {
			t.Errorf("goroutine %d: %s, %v", i, paths[i], errs[i])
		}
	}
	if r := renames.Load(); r != 1 {
		t.Errorf("the tree was renamed into place %d times, want 1", r)
	}
	if got := listDir(t, filepath.Join(c.Root(), treesDir)); got != e.Hash {
		t.Errorf("trees/ = %q, want one tree %s", got, e.Hash)
	}
	if left := listDir(t, filepath.Join(c.Root(), tmpDir)); left != "" {
		t.Errorf("temp files left: %s", left)
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify: %v %v", ps, err)
	}
}

// TestUnpackWithoutItsDownload: an entry whose blob is missing or damaged
// cannot be unpacked; the error names the blob and the way out.
func TestUnpackWithoutItsDownload(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		damage func(t *testing.T, blob string)
	}{
		{"zip, blob removed", makeZip(t, zfile{"robot.urdf", urdfDoc}), func(t *testing.T, blob string) {
			if err := os.Remove(blob); err != nil {
				t.Fatal(err)
			}
		}},
		{"single file, blob removed", []byte(urdfDoc), func(t *testing.T, blob string) {
			if err := os.Remove(blob); err != nil {
				t.Fatal(err)
			}
		}},
		{"zip, blob truncated", makeZip(t, zfile{"robot.urdf", urdfDoc}), func(t *testing.T, blob string) {
			overwrite(t, blob, []byte("PK\x03\x04"))
		}},
		// Same size, other bytes: only the SHA-256 tells (the tree's file
		// would be this very blob, hard-linked).
		{"single file, blob altered", []byte(urdfDoc), func(t *testing.T, blob string) {
			overwrite(t, blob, []byte(strings.ToUpper(urdfDoc)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			e, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(tt.data, ""))
			if err != nil {
				t.Fatal(err)
			}
			tt.damage(t, c.blobPath(e.Hash))
			_, err = c.Unpack(context.Background(), e)
			if err == nil || !strings.Contains(err.Error(), c.blobPath(e.Hash)) ||
				!strings.Contains(err.Error(), "'gizmo cache verify --repair'") || !strings.Contains(err.Error(), "ast_1/isaac_sim_urdf") {
				t.Fatalf("err = %v, want one naming the blob, the entry and 'gizmo cache verify --repair'", err)
			}
			if _, err := os.Lstat(c.TreePath(e)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a tree was made (%v)", err)
			}
			if left := listDir(t, filepath.Join(c.Root(), tmpDir)); left != "" {
				t.Errorf("temp files left: %s", left)
			}
			if c.Have("ast_1", "isaac_sim_urdf") && !strings.Contains(tt.name, "altered") {
				t.Error("Have = true without the download")
			}
		})
	}
}

// TestLeftoverTempTreeRemoved: a temp tree left by an interrupted unpack
// (planted, read-only inside as a real one is) is removed by the next
// Unpack of its key, by the first Store of a Cache, or by GC; another key's
// is left alone by Unpack, and removed by the other two.
func TestLeftoverTempTreeRemoved(t *testing.T) {
	data := makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/base.stl", "solid"})
	tests := []struct {
		name   string
		stored bool // the key is stored before the temp tree is planted
		run    func(t *testing.T, c *Cache)
		other  bool // the other key's temp tree goes too
	}{
		{"unpack", true, func(t *testing.T, c *Cache) {
			e, err := c.Entry("ast_1", "isaac_sim_urdf")
			if err != nil {
				t.Fatal(err)
			}
			unpack(t, c, e)
		}, false},
		{"store", false, func(t *testing.T, c *Cache) {
			if _, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(data, "")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"gc", true, func(t *testing.T, c *Cache) {
			res, err := c.GC(context.Background(), GCOptions{})
			if err != nil || len(res.Removed) != 2 {
				t.Fatalf("gc = %+v, %v", res, err)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			if tt.stored {
				if _, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(data, "")); err != nil {
					t.Fatal(err)
				}
			}
			kh := keyHash("ast_1", "isaac_sim_urdf")
			other := keyHash("ast_9", "isaac_sim_urdf")
			tmp := filepath.Join(c.Root(), tmpDir)
			for _, name := range []string{kh + "-x.tree", other + "-y.tree"} {
				d := filepath.Join(tmp, name, "meshes")
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(d, "half.stl"), []byte("sol"), 0o444)
				os.Chmod(d, 0o555)
				os.Chmod(filepath.Dir(d), 0o555)
			}
			if ps, err := c.Verify(context.Background(), false); err != nil || countKind(ps, ProblemPartial) != 2 {
				t.Fatalf("verify of the planted trees = %v, %v", ps, err)
			}
			tt.run(t, c)
			want := other + "-y.tree"
			if tt.other {
				want = ""
			}
			if left := listDir(t, tmp); left != want {
				t.Errorf("tmp = %q, want %q", left, want)
			}
			if _, err := os.Lstat(c.TreePath(Entry{Hash: sha(data)})); tt.name == "unpack" && err != nil {
				t.Errorf("unpack made no tree: %v", err)
			}
		})
	}
}

// TestUnpackInjectedFailures: when the tree cannot be made durable or
// renamed into place, Unpack fails with an error saying what to check,
// leaves no temp tree, no tree at the final path and the index unchanged;
// the entry stays stored, and once the fault is gone Unpack succeeds.
func TestUnpackInjectedFailures(t *testing.T) {
	tests := []struct {
		name   string
		inject func(c *Cache) (undo func())
		text   string
		errno  error
	}{
		{"tree rename refused", func(c *Cache) func() {
			c.rename = func(o, n string) error {
				if strings.HasSuffix(o, ".tree") {
					return &os.LinkError{Op: "rename", Old: o, New: n, Err: syscall.EROFS}
				}
				return os.Rename(o, n)
			}
			return func() { c.rename = os.Rename }
		}, "check permissions", syscall.EROFS},
		{"flush fails", func(c *Cache) func() {
			old := flushFS
			flushFS = func(string, []string) error { return syscall.EIO }
			return func() { flushFS = old }
		}, "check free space and the disk", syscall.EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			data := makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/base.stl", "solid"})
			e, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(data, ""))
			if err != nil {
				t.Fatal(err)
			}
			before := dumpIndex(t, c)
			undo := tt.inject(c)
			t.Cleanup(undo)
			_, err = c.Unpack(context.Background(), e)
			if !errors.Is(err, tt.errno) || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), "ast_1/isaac_sim_urdf") {
				t.Fatalf("err = %v, want %v with %q", err, tt.errno, tt.text)
			}
			undo()
			if after := dumpIndex(t, c); after != before {
				t.Errorf("index changed:\n%s\n---\n%s", before, after)
			}
			if left := listDir(t, filepath.Join(c.Root(), tmpDir)); left != "" {
				t.Errorf("temp files left: %s", left)
			}
			if _, err := os.Lstat(c.TreePath(e)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a tree is at the final path (%v)", err)
			}
			if !c.Have("ast_1", "isaac_sim_urdf") {
				t.Error("the entry was lost")
			}
			if b, err := os.ReadFile(unpack(t, c, e)); err != nil || string(b) != urdfDoc {
				t.Errorf("after the fault: %q, %v", b, err)
			}
			if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
				t.Errorf("verify: %v %v", ps, err)
			}
		})
	}
}

func TestFiles(t *testing.T) {
	tests := []struct {
		name, format string
		data         []byte
		other        string // another file of the tree, "" for none
	}{
		{"zip", "isaac_sim_urdf", makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/base.stl", "solid base"}), "meshes/base.stl"},
		{"zip with one top folder", "mujoco_mjcf", makeZip(t, zfile{"arm/arm.xml", mjcfDoc}, zfile{"arm/assets/l.stl", "x"}), "arm/assets/l.stl"},
		{"single mjcf", "mujoco_mjcf", []byte(mjcfDoc), ""},
		{"single usda", "isaac_sim_usd", []byte("#usda 1.0\n(\n)\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			e, err := c.Store(context.Background(), "ast_1", tt.format, bytesFetch(tt.data, ""))
			if err != nil {
				t.Fatal(err)
			}
			ov, closer, err := c.Files(e)
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			if ov.Root() != c.TreePath(e) {
				t.Errorf("overlay root %s, want %s", ov.Root(), c.TreePath(e))
			}
			read := func(p string) ([]byte, error) {
				rc, err := ov.Open(p)
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				return io.ReadAll(rc)
			}
			if b, err := read(c.ModelPath(e)); err != nil || !bytes.Equal(b, modelBytes(t, tt.data, e.Kind, e.Model)) {
				t.Errorf("model through Files: %q, %v", b, err)
			}
			if st, err := ov.Stat(c.ModelPath(e)); err != nil || st.IsDir() || st.Size() != int64(len(modelBytes(t, tt.data, e.Kind, e.Model))) {
				t.Errorf("Stat of the model through Files: %v, %v", st, err)
			}
			if tt.other != "" {
				p := filepath.Join(c.TreePath(e), filepath.FromSlash(tt.other))
				if b, err := read(p); err != nil || !bytes.Equal(b, modelBytes(t, tt.data, formats.KindZip, tt.other)) {
					t.Errorf("%s through Files: %q, %v", tt.other, b, err)
				}
			}
			if _, err := read(filepath.Join(c.TreePath(e), "nope.stl")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a file not in the download: %v", err)
			}
			// Nothing was written.
			if _, err := os.Lstat(c.TreePath(e)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Files made the tree (%v)", err)
			}
		})
	}
}

// TestFilesWithoutItsDownload: Files of an entry whose blob is missing
// says so and how to repair.
func TestFilesWithoutItsDownload(t *testing.T) {
	for name, data := range map[string][]byte{
		"zip":         makeZip(t, zfile{"robot.urdf", urdfDoc}),
		"single file": []byte(urdfDoc),
	} {
		t.Run(name, func(t *testing.T) {
			c := openTest(t)
			e, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(data, ""))
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(c.blobPath(e.Hash))
			_, _, err = c.Files(e)
			if err == nil || !strings.Contains(err.Error(), c.blobPath(e.Hash)) || !strings.Contains(err.Error(), "'gizmo cache verify --repair'") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestGCKeepsIndexedRemovesOrphans: GC keeps the blob and tree of every
// indexed entry (unpacked or not), and removes the blob and tree of an entry
// whose index record is gone, as a crash after Remove's commit leaves them.
func TestGCKeepsIndexedRemovesOrphans(t *testing.T) {
	c := openTest(t)
	es := storeSome(t, c)
	unpack(t, c, es[0])
	unpack(t, c, es[2])
	// es[1] is never unpacked: its blob alone must stay.
	if err := c.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).Delete(entryKey(es[2].AssetID, es[2].Format))
	}); err != nil {
		t.Fatal(err)
	}
	res, err := c.GC(context.Background(), GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(res.Removed)
	if want := []string{c.blobPath(es[2].Hash), c.TreePath(es[2])}; strings.Join(res.Removed, " ") != strings.Join(want, " ") {
		t.Errorf("gc removed %v, want %v", res.Removed, want)
	}
	for _, p := range []string{c.blobPath(es[2].Hash), c.TreePath(es[2])} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("gc left %s (%v)", p, err)
		}
	}
	for _, p := range []string{c.blobPath(es[0].Hash), c.ModelPath(es[0]), c.blobPath(es[1].Hash)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("gc removed %s: %v", p, err)
		}
	}
	// The entry never unpacked still unpacks.
	if b, err := os.ReadFile(unpack(t, c, es[1])); err != nil || string(b) != mjcfDoc {
		t.Errorf("unpack after gc: %q, %v", b, err)
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify after gc: %v %v", ps, err)
	}
}

// TestStoreChecked: the check runs once, on the new download shown where
// its tree will be (nothing unpacked), and its verdict is in the index
// record; an entry already stored is returned as it is, unchecked; a nil
// verdict records none.
func TestStoreChecked(t *testing.T) {
	c := openTest(t)
	z := makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/base.stl", "solid base"})
	calls := 0
	check := func(ctx context.Context, e Entry, files *archive.Overlay) *Validation {
		calls++
		rc, err := files.Open(c.ModelPath(e))
		if err != nil {
			t.Errorf("the check cannot read the model through files: %v", err)
			return nil
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != urdfDoc {
			t.Errorf("the check read %q", b)
		}
		if _, err := os.Stat(c.TreePath(e)); err == nil {
			t.Errorf("the tree was unpacked for the check")
		}
		return &Validation{Valid: false, Errors: 2, Summary: []string{"two problems"}}
	}
	e, err := c.StoreChecked(context.Background(), "ast_c", "isaac_sim_urdf", bytesFetch(z, ""), check)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || e.Validation == nil || e.Validation.Errors != 2 {
		t.Fatalf("%d calls, validation %+v", calls, e.Validation)
	}
	got, err := c.Entry("ast_c", "isaac_sim_urdf")
	if err != nil || got.Validation == nil || got.Validation.Errors != 2 || got.Validation.Summary[0] != "two problems" {
		t.Fatalf("index record: %+v %v", got.Validation, err)
	}
	// Stored already: returned as recorded, and not checked again.
	e2, err := c.StoreChecked(context.Background(), "ast_c", "isaac_sim_urdf", bytesFetch(z, ""), check)
	if err != nil || calls != 1 || e2.Validation == nil || e2.Validation.Errors != 2 {
		t.Fatalf("second store: %d calls, %+v, %v", calls, e2.Validation, err)
	}
	// A nil verdict records none.
	e3, err := c.StoreChecked(context.Background(), "ast_d", "mujoco_mjcf", bytesFetch([]byte(mjcfDoc), ""),
		func(context.Context, Entry, *archive.Overlay) *Validation { return nil })
	if err != nil || e3.Validation != nil {
		t.Fatalf("nil verdict: %+v %v", e3.Validation, err)
	}
}
