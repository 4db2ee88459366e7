package cache

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/lockedfile"
	"github.com/antimlabs/gizmo/internal/testcorpus"
)

// openTest opens a cache in a temp dir and checks the index's consistency
// when the test ends.
func openTest(t testing.TB) *Cache {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkConsistent(t, c) })
	return c
}

// checkConsistent runs bbolt's own consistency check on the index.
func checkConsistent(t testing.TB, c *Cache) {
	t.Helper()
	err := c.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Errorf("index inconsistent: %v", err)
	}
}

// bytesFetch streams b.
func bytesFetch(b []byte, etag string) FetchFunc {
	return func(ctx context.Context, w Writer) (string, error) {
		_, err := io.Copy(w, bytes.NewReader(b))
		return etag, err
	}
}

type zfile struct{ name, body string }

func makeZip(t testing.TB, files ...zfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

const (
	urdfDoc = `<?xml version="1.0"?>
<robot name="arm"><link name="base"><visual><geometry><mesh filename="meshes/base.stl"/></geometry></visual></link></robot>
`
	mjcfDoc = `<mujoco model="arm"><worldbody><body name="b"><geom type="box" size="1 1 1"/></body></worldbody></mujoco>
`
)

func TestOpenLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "cache")
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := os.ReadFile(filepath.Join(dir, "CACHEDIR.TAG"))
	if err != nil || !strings.HasPrefix(string(tag), "Signature: 8a477f597d28d172789f06886806bc55") {
		t.Errorf("CACHEDIR.TAG = %q, %v", tag, err)
	}
	for _, d := range []string{"blobs", "trees", "tmp", "locks"} {
		if st, err := os.Stat(filepath.Join(dir, d)); err != nil || !st.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
	in, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	if in.SchemaVersion != SchemaVersion || in.Root != dir {
		t.Errorf("info = %+v", in)
	}
	// Reopening is idempotent and keeps data.
	if err := c.RecordAssets([]AssetMeta{{ID: "ast_1", Name: "arm"}}, false); err != nil {
		t.Fatal(err)
	}
	c2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := c2.Asset("ast_1"); err != nil || a.Name != "arm" {
		t.Errorf("after reopen: %+v, %v", a, err)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d, _ := DefaultDir(); d != "/xdg/gizmo" {
		t.Errorf("with XDG_CACHE_HOME: %s", d)
	}
	t.Setenv("XDG_CACHE_HOME", "relative") // ignored: the spec wants absolute
	t.Setenv("HOME", "/home/u")
	if d, _ := DefaultDir(); d != "/home/u/.cache/gizmo" {
		t.Errorf("without XDG_CACHE_HOME: %s", d)
	}
}

func TestRecordAssets(t *testing.T) {
	c := openTest(t)
	clock := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return clock }
	a1 := AssetMeta{ID: "ast_1", Name: "arm", Status: "ready", Tags: []string{"v2"}, Formats: []string{"mujoco_mjcf"}}
	a2 := AssetMeta{ID: "ast_2", Name: "gripper", Status: "pending"}
	if err := c.RecordAssets([]AssetMeta{a1, a2}, true); err != nil {
		t.Fatal(err)
	}
	first := clock
	clock = clock.Add(time.Hour)
	a1.Name = "arm-renamed"
	if err := c.RecordAssets([]AssetMeta{a1}, true); err != nil { // ast_2 vanished
		t.Fatal(err)
	}
	got, err := c.Asset("ast_1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.FirstSeen.Equal(first) || !got.LastSeen.Equal(clock) || got.Vanished || got.Name != "arm-renamed" {
		t.Errorf("ast_1 = %+v", got)
	}
	if _, err := c.Asset("arm"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old name still found: %v", err)
	}
	if got, err := c.Asset("arm-renamed"); err != nil || got.ID != "ast_1" {
		t.Errorf("by new name: %+v %v", got, err)
	}
	g, _ := c.Asset("ast_2")
	if !g.Vanished || !g.LastSeen.Equal(first) {
		t.Errorf("ast_2 should be vanished and keep its last sighting: %+v", g)
	}
	// A partial listing does not vanish anyone; a reappearance un-vanishes.
	clock = clock.Add(time.Hour)
	if err := c.RecordAssets([]AssetMeta{a2}, false); err != nil {
		t.Fatal(err)
	}
	g, _ = c.Asset("ast_2")
	a, _ := c.Asset("ast_1")
	if g.Vanished || a.Vanished || !g.FirstSeen.Equal(first) {
		t.Errorf("after partial listing: ast_1 %+v ast_2 %+v", a, g)
	}
	all, err := c.Assets()
	if err != nil || len(all) != 2 {
		t.Fatalf("assets = %v, %v", all, err)
	}
}

func TestAssetByName(t *testing.T) {
	c := openTest(t)
	err := c.RecordAssets([]AssetMeta{{ID: "ast_a", Name: "arm"}, {ID: "ast_b", Name: "arm"}, {ID: "ast_c", Name: "gripper"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q, id, err string
	}{
		{"ast_a", "ast_a", ""},
		{"gripper", "ast_c", ""},
		{"arm", "", "ast_a, ast_b"},
		{"nope", "", "not found"},
		{"", "", "not found"},
	}
	for _, tt := range tests {
		a, err := c.Asset(tt.q)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Asset(%q) err = %v, want %q", tt.q, err, tt.err)
			}
			continue
		}
		if err != nil || a.ID != tt.id {
			t.Errorf("Asset(%q) = %s, %v; want %s", tt.q, a.ID, err, tt.id)
		}
	}
}

func TestStoreKinds(t *testing.T) {
	usdc := append([]byte("PXR-USDC"), make([]byte, 100)...)
	tests := []struct {
		name      string
		format    string
		data      []byte
		kind      formats.Kind
		model     string
		modelKind formats.Kind
		files     string
	}{
		{"urdf zip", "isaac_sim_urdf", makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/base.stl", "solid"}),
			formats.KindZip, "robot.urdf", formats.KindURDF, "meshes/base.stl robot.urdf"},
		{"mjcf zip with include", "mujoco_mjcf", makeZip(t,
			zfile{"arm.xml", mjcfDoc}, zfile{"scene.xml", `<mujoco><include file="arm.xml"/></mujoco>`}, zfile{"assets/l.stl", "x"}),
			formats.KindZip, "scene.xml", formats.KindMJCF, "arm.xml assets/l.stl scene.xml"},
		{"zip with one top folder", "mujoco_mjcf", makeZip(t, zfile{"arm/arm.xml", mjcfDoc}, zfile{"arm/README.md", "hi"}),
			formats.KindZip, "arm/arm.xml", formats.KindMJCF, "arm/README.md arm/arm.xml"},
		{"zip prefers the format's kind", "isaac_sim_urdf", makeZip(t, zfile{"a.xml", mjcfDoc}, zfile{"b.urdf", urdfDoc}),
			formats.KindZip, "b.urdf", formats.KindURDF, "a.xml b.urdf"},
		{"usd zip", "isaac_sim_usd", makeZip(t, zfile{"robot.usda", "#usda 1.0\n"}, zfile{"textures/a.png", "png"}),
			formats.KindZip, "robot.usda", formats.KindUSDA, "robot.usda textures/a.png"},
		{"single urdf", "isaac_sim_urdf", []byte(urdfDoc), formats.KindURDF, "model.urdf", formats.KindURDF, "model.urdf"},
		{"single mjcf", "mujoco_mjcf", []byte(mjcfDoc), formats.KindMJCF, "model.xml", formats.KindMJCF, "model.xml"},
		{"single usda", "isaac_sim_usd", []byte("#usda 1.0\n(\n)\n"), formats.KindUSDA, "model.usda", formats.KindUSDA, "model.usda"},
		{"single usdc", "isaac_sim_usd", usdc, formats.KindUSDC, "model.usdc", formats.KindUSDC, "model.usdc"},
	}
	c := openTest(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("ast_%d", i)
			e, err := c.Store(context.Background(), id, tt.format, bytesFetch(tt.data, `"etag"`))
			if err != nil {
				t.Fatal(err)
			}
			if e.Hash != sha(tt.data) || e.Size != int64(len(tt.data)) || e.Kind != tt.kind || e.Model != tt.model ||
				e.ModelKind != tt.modelKind || strings.Join(e.Files, " ") != tt.files || e.ETag != `"etag"` {
				t.Errorf("entry = %+v", e)
			}
			got, err := c.Entry(id, tt.format)
			if err != nil || got.Hash != e.Hash || got.Model != e.Model {
				t.Errorf("Entry() = %+v, %v", got, err)
			}
			if b, err := os.ReadFile(c.DownloadPath(e)); err != nil || !bytes.Equal(b, tt.data) {
				t.Errorf("DownloadPath holds other bytes than the download (%v)", err)
			}
			// Stored as its blob only: the tree is made on first use.
			if _, err := os.Lstat(c.TreePath(e)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Store made the tree %s (%v)", c.TreePath(e), err)
			}
			if !c.Have(id, tt.format) {
				t.Error("Have = false before the tree is made")
			}
			mp, err := c.Unpack(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			if mp != c.ModelPath(e) {
				t.Errorf("Unpack = %s, want ModelPath %s", mp, c.ModelPath(e))
			}
			if !strings.HasPrefix(mp, c.TreePath(e)+string(filepath.Separator)) {
				t.Errorf("model %s not under tree %s", mp, c.TreePath(e))
			}
			b, err := os.ReadFile(mp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, modelBytes(t, tt.data, tt.kind, tt.model)) {
				t.Errorf("model file differs from the download's model")
			}
			if st, _ := os.Stat(mp); st.Mode().Perm()&0o222 != 0 {
				t.Errorf("model file is writable: %v", st.Mode())
			}
			if st, _ := os.Stat(c.TreePath(e)); st.Mode().Perm()&0o222 != 0 {
				t.Errorf("tree is writable: %v", st.Mode())
			}
			if !c.Have(id, tt.format) {
				t.Error("Have = false")
			}
		})
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify after stores: %v %v", ps, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(c.Root(), "tmp")); len(ents) != 0 {
		t.Errorf("temp files left: %v", ents)
	}
}

// modelBytes is what the model file of a download must hold: the zip's
// entry model, or the single-file download itself.
func modelBytes(t testing.TB, data []byte, kind formats.Kind, model string) []byte {
	t.Helper()
	if kind != formats.KindZip {
		return data
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unpack makes e's tree and returns its model path, failing the test on error.
func unpack(t testing.TB, c *Cache, e Entry) string {
	t.Helper()
	p, err := c.Unpack(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStoreRefusals(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		target error
		text   string
	}{
		{"unknown bytes", []byte("<html>not a model</html>"), ErrNoModel, "neither a zip"},
		{"zip without model", makeZip(t, zfile{"readme.txt", "hi"}, zfile{"mesh.stl", "x"}), ErrNoModel, "readme.txt"},
		{"hostile zip", makeZip(t, zfile{"../../evil.urdf", urdfDoc}), ErrHostileArchive, "../../evil.urdf"},
		{"zip with a ../ inside", makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/../../x.stl", "x"}), ErrHostileArchive, "meshes/../../x.stl"},
		{"zip bomb", makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/bomb.stl", strings.Repeat("\x00", 8<<20)}), ErrHostileArchive, "zip bomb"},
		{"zip with a bad CRC", flipStored(t, "robot.urdf", urdfDoc), ErrHostileArchive, "robot.urdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			_, err := c.Store(context.Background(), "ast_x", "mujoco_mjcf", bytesFetch(tt.data, ""))
			if !errors.Is(err, tt.target) || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), "ast_x/mujoco_mjcf") {
				t.Fatalf("err = %v, want %v naming %q and the asset", err, tt.target, tt.text)
			}
			assertEmpty(t, c)
		})
	}
}

// flipStored makes a zip holding name (stored, not deflated) with body, then
// flips a byte of body inside it: only the CRC-32 check can tell.
func flipStored(t testing.TB, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte(body))
	if i < 0 {
		t.Fatal("body not found in the zip")
	}
	b[i+len(body)/2] ^= 0x20
	return b
}

// assertEmpty checks that nothing was published: no index record, no blob,
// no tree, no temp file.
func assertEmpty(t *testing.T, c *Cache) {
	t.Helper()
	if es, err := c.Entries(); err != nil || len(es) != 0 {
		t.Errorf("entries = %v, %v", es, err)
	}
	for _, d := range []string{"blobs", "trees", "tmp"} {
		var files []string
		filepath.WalkDir(filepath.Join(c.Root(), d), func(p string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() {
				files = append(files, p)
			}
			if err == nil && de.IsDir() && d == "trees" && p != filepath.Join(c.Root(), d) {
				files = append(files, p)
			}
			return nil
		})
		if len(files) != 0 {
			t.Errorf("%s holds %v", d, files)
		}
	}
}

func TestStoreFetchErrorLeavesNothing(t *testing.T) {
	c := openTest(t)
	boom := errors.New("connection reset")
	_, err := c.Store(context.Background(), "ast_1", "mujoco_mjcf", func(ctx context.Context, w Writer) (string, error) {
		w.Write([]byte(mjcfDoc[:20]))
		return "", boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	assertEmpty(t, c)
	// Cancellation mid-download, too.
	ctx, cancel := context.WithCancel(context.Background())
	_, err = c.Store(ctx, "ast_1", "mujoco_mjcf", func(ctx context.Context, w Writer) (string, error) {
		w.Write([]byte(mjcfDoc[:20]))
		cancel()
		return "", nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	assertEmpty(t, c)
}

// failingFile fails its writes after limit bytes, like a full disk.
type failingFile struct {
	*os.File
	limit int64
	err   error
}

func (f *failingFile) Write(p []byte) (int, error) {
	if int64(len(p)) > f.limit {
		n, _ := f.File.Write(p[:f.limit])
		f.limit = 0
		return n, f.err
	}
	f.limit -= int64(len(p))
	return f.File.Write(p)
}

func TestStoreInjectedFailures(t *testing.T) {
	good := makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/base.stl", strings.Repeat("solid\n", 1000)})
	tests := []struct {
		name   string
		inject func(c *Cache)
		text   string
		errno  error
	}{
		{"disk full mid-download", func(c *Cache) {
			c.createTemp = func(dir, pattern string) (tempFile, error) {
				f, err := os.CreateTemp(dir, pattern)
				return &failingFile{File: f, limit: 100, err: syscall.ENOSPC}, err
			}
		}, "check free space", syscall.ENOSPC},
		{"temp file not creatable", func(c *Cache) {
			c.createTemp = func(dir, pattern string) (tempFile, error) {
				return nil, &os.PathError{Op: "open", Path: dir, Err: syscall.EACCES}
			}
		}, "check free space and permissions", syscall.EACCES},
		{"rename refused", func(c *Cache) {
			c.rename = func(o, n string) error { return &os.LinkError{Op: "rename", Old: o, New: n, Err: syscall.EACCES} }
		}, "check permissions", syscall.EACCES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			// A previous good entry must survive untouched.
			prev, err := c.Store(context.Background(), "ast_0", "isaac_sim_urdf", bytesFetch([]byte(urdfDoc), ""))
			if err != nil {
				t.Fatal(err)
			}
			before := dumpIndex(t, c)
			tt.inject(c)
			_, err = c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(good, ""))
			if !errors.Is(err, tt.errno) || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), "ast_1/isaac_sim_urdf") {
				t.Fatalf("err = %v, want %v with %q", err, tt.errno, tt.text)
			}
			if after := dumpIndex(t, c); after != before {
				t.Errorf("index changed:\n%s\n---\n%s", before, after)
			}
			if ents, _ := os.ReadDir(filepath.Join(c.Root(), "tmp")); len(ents) != 0 {
				t.Errorf("temp files left: %v", ents)
			}
			if _, err := os.Stat(c.blobPath(sha(good))); err == nil {
				t.Errorf("blob of the failed store is at its final path")
			}
			if _, err := os.Stat(filepath.Join(c.Root(), "trees", sha(good))); err == nil {
				t.Errorf("tree of the failed store is at its final path")
			}
			if !c.Have("ast_0", "isaac_sim_urdf") || c.Have("ast_1", "isaac_sim_urdf") {
				t.Errorf("Have: ast_0 should be cached, ast_1 not")
			}
			// Once the fault is gone, the same store succeeds.
			c.createTemp = func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }
			c.rename = os.Rename
			if _, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(good, "")); err != nil {
				t.Fatal(err)
			}
			unpack(t, c, prev)
			if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
				t.Errorf("verify: %v %v", ps, err)
			}
		})
	}
}

// dumpIndex renders every bucket of the index.
func dumpIndex(t *testing.T, c *Cache) string {
	t.Helper()
	var b strings.Builder
	err := c.view(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			return bk.ForEach(func(k, v []byte) error {
				fmt.Fprintf(&b, "%s %q=%q\n", name, k, v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestStoreDedupAndIdempotence(t *testing.T) {
	c := openTest(t)
	data := makeZip(t, zfile{"robot.urdf", urdfDoc})
	var calls atomic.Int32
	fetch := func(ctx context.Context, w Writer) (string, error) {
		calls.Add(1)
		_, err := w.Write(data)
		return "", err
	}
	e1, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", fetch)
	if err != nil {
		t.Fatal(err)
	}
	e1b, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", fetch)
	if err != nil || calls.Load() != 1 || e1b.Hash != e1.Hash {
		t.Fatalf("second store fetched again (calls=%d) or failed: %v", calls.Load(), err)
	}
	// Same bytes under another asset: one blob, and (once used) one tree.
	e2, err := c.Store(context.Background(), "ast_2", "isaac_sim_urdf", fetch)
	if err != nil || c.TreePath(e2) != c.TreePath(e1) {
		t.Fatalf("dedup: %v, %s vs %s", err, c.TreePath(e2), c.TreePath(e1))
	}
	in, _ := c.Info()
	if in.Blobs != 1 || in.Trees != 0 || in.Entries != 2 {
		t.Errorf("info after the stores = %+v", in)
	}
	if m1, m2 := unpack(t, c, e1), unpack(t, c, e2); m1 != m2 {
		t.Errorf("model paths of one content differ: %s, %s", m1, m2)
	}
	in, _ = c.Info()
	if in.Blobs != 1 || in.Trees != 1 || in.Entries != 2 {
		t.Errorf("info after unpacking = %+v", in)
	}
	// Removing one keeps the shared files for the other.
	if err := c.Remove(context.Background(), "ast_1"); err != nil {
		t.Fatal(err)
	}
	if !c.Have("ast_2", "isaac_sim_urdf") {
		t.Fatal("ast_2 lost its download when ast_1 was removed")
	}
	if _, err := os.Stat(c.ModelPath(e2)); err != nil {
		t.Fatalf("ast_2 lost its tree when ast_1 was removed: %v", err)
	}
	if err := c.Remove(context.Background(), "ast_2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(context.Background(), "ast_2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second remove: %v", err)
	}
	assertEmpty(t, c)
}

// TestStoreTornWrites: many goroutines store the same and different keys at
// once; each key is fetched once, every result is whole, and verify is clean.
func TestStoreTornWrites(t *testing.T) {
	c := openTest(t)
	const keys, perKey = 4, 8
	var calls [keys]atomic.Int32
	payload := func(k int) []byte {
		return makeZip(t, zfile{"robot.urdf", urdfDoc}, zfile{"meshes/m.stl", strings.Repeat(fmt.Sprint(k), 200000)})
	}
	datas := make([][]byte, keys)
	for k := range datas {
		datas[k] = payload(k)
	}
	var wg sync.WaitGroup
	errs := make(chan error, keys*perKey)
	for k := 0; k < keys; k++ {
		for g := 0; g < perKey; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A second Cache value on the same dir, as another package would open.
				cc := c
				if g%2 == 1 {
					var err error
					if cc, err = Open(c.Root()); err != nil {
						errs <- err
						return
					}
				}
				e, err := cc.Store(context.Background(), fmt.Sprintf("ast_%d", k), "isaac_sim_urdf", func(ctx context.Context, w Writer) (string, error) {
					calls[k].Add(1)
					// Write in small pieces to interleave with the others.
					for b := datas[k]; len(b) > 0; {
						n := min(4096, len(b))
						if _, err := w.Write(b[:n]); err != nil {
							return "", err
						}
						b = b[n:]
					}
					return "", nil
				})
				if err == nil && e.Hash != sha(datas[k]) {
					err = fmt.Errorf("key %d: hash %s, want %s", k, e.Hash, sha(datas[k]))
				}
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for k := range calls {
		if n := calls[k].Load(); n != 1 {
			t.Errorf("key %d fetched %d times, want 1", k, n)
		}
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify: %v %v", ps, err)
	}
}

func TestLeftoverTempFilesIgnoredAndCleaned(t *testing.T) {
	c := openTest(t)
	kh := keyHash("ast_1", "mujoco_mjcf")
	other := keyHash("ast_9", "mujoco_mjcf")
	tmp := filepath.Join(c.Root(), "tmp")
	// A third key whose store is running (its lock is held): its temp
	// file must survive. Its lock file must not be ast_1's.
	var busy string
	for i := 10; busy == "" || c.keyLockPath(busy) == c.keyLockPath(kh); i++ {
		busy = keyHash(fmt.Sprintf("ast_%d", i), "mujoco_mjcf")
	}
	held, err := lockedfile.Acquire(context.Background(), c.keyLockPath(busy), true)
	if err != nil {
		t.Fatal(err)
	}
	plant := []string{kh + "-123.part", kh + "-456.tree/", other + "-1.part", busy + "-7.part", "junk-from-elsewhere"}
	for _, p := range plant {
		full := filepath.Join(tmp, p)
		if strings.HasSuffix(p, "/") {
			os.MkdirAll(filepath.Join(full, "meshes"), 0o755)
			os.WriteFile(filepath.Join(full, "meshes", "half.stl"), []byte("sol"), 0o644)
			os.Chmod(filepath.Join(full, "meshes"), 0o555)
			continue
		}
		os.WriteFile(full, []byte("half a download"), 0o644)
	}
	e, err := c.Store(context.Background(), "ast_1", "mujoco_mjcf", bytesFetch([]byte(mjcfDoc), ""))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(unpack(t, c, e))
	if string(b) != mjcfDoc {
		t.Errorf("model = %q", b)
	}
	// The first store removed every store's leftovers whose lock was
	// free; the running store's temp and foreign files stay.
	left := listDir(t, tmp)
	if want := busy + "-7.part junk-from-elsewhere"; left != want {
		t.Errorf("tmp after store and unpack = %q, want %q", left, want)
	}
	held.Unlock()
	ps, err := c.Verify(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if n := countKind(ps, ProblemPartial); n != 2 || len(ps) != 2 {
		t.Errorf("verify = %v", ps)
	}
	res, err := c.GC(context.Background(), GCOptions{})
	if err != nil || len(res.Removed) != 2 {
		t.Errorf("gc = %+v, %v", res, err)
	}
	if left := listDir(t, tmp); left != "" {
		t.Errorf("tmp after gc = %q", left)
	}
}

func listDir(t *testing.T, dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

func countKind(ps []Problem, kind string) int {
	n := 0
	for _, p := range ps {
		if p.Kind == kind {
			n++
		}
	}
	return n
}

func TestURLsAndValidation(t *testing.T) {
	c := openTest(t)
	if _, _, ok := c.URL("ast_1", "mujoco_mjcf"); ok {
		t.Fatal("URL before any record")
	}
	exp := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	if err := c.RecordURL("ast_1", "mujoco_mjcf", "https://dl.example/x?sig=abc", exp); err != nil {
		t.Fatal(err)
	}
	u, e, ok := c.URL("ast_1", "mujoco_mjcf")
	if !ok || u != "https://dl.example/x?sig=abc" || !e.Equal(exp) {
		t.Errorf("URL = %q %v %v", u, e, ok)
	}
	if _, _, ok := c.URL("ast_1", "isaac_sim_urdf"); ok {
		t.Error("URL of another format")
	}
	v := Validation{Valid: false, Errors: 2, Warnings: 1, Checked: exp, Summary: []string{"model.xml:3: bad"}}
	if err := c.SetValidation("ast_1", "mujoco_mjcf", v); !errors.Is(err, ErrNotCached) {
		t.Errorf("SetValidation before store: %v", err)
	}
	if _, err := c.Store(context.Background(), "ast_1", "mujoco_mjcf", bytesFetch([]byte(mjcfDoc), "")); err != nil {
		t.Fatal(err)
	}
	if err := c.SetValidation("ast_1", "mujoco_mjcf", v); err != nil {
		t.Fatal(err)
	}
	got, _ := c.Entry("ast_1", "mujoco_mjcf")
	if got.Validation == nil || got.Validation.Errors != 2 || got.Validation.Summary[0] != "model.xml:3: bad" {
		t.Errorf("validation = %+v", got.Validation)
	}
	if _, err := c.Entry("ast_1", "isaac_sim_usd"); !errors.Is(err, ErrNotCached) {
		t.Errorf("Entry of an unstored format: %v", err)
	}
}

func TestStoreWriterStartsOver(t *testing.T) {
	c := openTest(t)
	good := makeZip(t, zfile{"robot.urdf", urdfDoc})
	e, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", func(ctx context.Context, w Writer) (string, error) {
		w.Write([]byte("PK\x03\x04 a body cut short"))
		if err := w.Rewind(); err != nil {
			return "", err
		}
		if got, want := w.SHA256(), sha256.Sum256(nil); !bytes.Equal(got, want[:]) {
			return "", fmt.Errorf("SHA-256 after Rewind = %x, want that of nothing", got)
		}
		_, err := w.Write(good)
		w.SetFilename("arm.zip")
		return "", err
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.Hash != sha(good) || e.Size != int64(len(good)) || e.Model != "robot.urdf" || e.Filename != "arm.zip" {
		t.Errorf("entry = %+v", e)
	}
	if ps, err := c.Verify(context.Background(), false); err != nil || len(ps) != 0 {
		t.Errorf("verify: %v %v", ps, err)
	}
}

// TestStoreDiskFullLargeWrites: a disk that fills during a large write (the
// path that hashes alongside the write) fails cleanly too.
func TestStoreDiskFullLargeWrites(t *testing.T) {
	c := openTest(t)
	big := append([]byte("PXR-USDC"), bytes.Repeat([]byte{7}, 3<<20)...)
	c.createTemp = func(dir, pattern string) (tempFile, error) {
		f, err := os.CreateTemp(dir, pattern)
		return &failingFile{File: f, limit: 1<<20 + 5, err: syscall.ENOSPC}, err
	}
	_, err := c.Store(context.Background(), "ast_big", "isaac_sim_usd", bytesFetch(big, ""))
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "check free space") {
		t.Fatalf("err = %v", err)
	}
	assertEmpty(t, c)
	c.createTemp = func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }
	e, err := c.Store(context.Background(), "ast_big", "isaac_sim_usd", bytesFetch(big, ""))
	if err != nil || e.Hash != sha(big) || e.Kind != formats.KindUSDC {
		t.Fatalf("after the fault: %+v %v", e, err)
	}
	// The same through ReadFrom (io.Copy from a plain reader) in 1 MiB chunks.
	e, err = c.Store(context.Background(), "ast_big2", "isaac_sim_usd", func(ctx context.Context, w Writer) (string, error) {
		_, err := io.Copy(w, io.LimitReader(bytes.NewReader(big), int64(len(big))))
		return "", err
	})
	if err != nil || e.Hash != sha(big) || e.Size != int64(len(big)) {
		t.Fatalf("via ReadFrom: %+v %v", e, err)
	}
}

// A damaged index record never yields a path outside the cache's folders.
func TestPathsOfDamagedRecords(t *testing.T) {
	c := openTest(t)
	for _, e := range []Entry{{}, {Hash: "a"}, {Hash: "../../etc", Model: "x"}, {Hash: strings.Repeat("a", 64), Model: "../../../etc/passwd"}, {Hash: strings.Repeat("b", 64), Model: "/etc/passwd"}} {
		for _, p := range []string{c.ModelPath(e), c.TreePath(e), c.DownloadPath(e)} {
			rel, err := filepath.Rel(c.Root(), p)
			if err != nil || !filepath.IsLocal(rel) || rel == "trees" || rel == "blobs" {
				t.Errorf("entry %+v gives path %s", e, p)
			}
		}
	}
}

// TestStoreWriterInMemory: the in-memory copy that checking reads instead
// of the temp file is exactly the file's contents, or is not offered.
func TestStoreWriterInMemory(t *testing.T) {
	small := bytes.Repeat([]byte("s"), 1000)
	big := bytes.Repeat([]byte("b"), smallZip+1)
	tests := []struct {
		name   string
		writes [][]byte // nil: start over (Rewind)
		inMem  bool
	}{
		{"small", [][]byte{small}, true},
		{"several writes", [][]byte{small, small, small}, true},
		{"exactly the limit", [][]byte{big[:smallZip]}, true},
		{"over the limit", [][]byte{big}, false},
		{"over the limit in steps", [][]byte{big[:smallZip-10], small}, false},
		{"start over after a cut", [][]byte{small, nil, small[:10]}, true},
		{"start over after outgrowing", [][]byte{big, nil, small}, true},
		{"outgrow after starting over", [][]byte{small, nil, big}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.CreateTemp(t.TempDir(), "w")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w := &storeWriter{f: f, h: sha256.New()}
			for _, b := range tt.writes {
				if b == nil {
					if err := w.Rewind(); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if _, err := w.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			onDisk, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			mem, ok := w.inMemory()
			if ok != tt.inMem {
				t.Fatalf("in memory = %v, want %v", ok, tt.inMem)
			}
			if ok && !bytes.Equal(mem, onDisk) {
				t.Errorf("memory holds %d bytes that differ from the file's %d", len(mem), len(onDisk))
			}
			if got := hex.EncodeToString(w.h.Sum(nil)); got != sha(onDisk) {
				t.Errorf("hash %s, file's %s", got, sha(onDisk))
			}
		})
	}
}

// TestStoreBlobDirRemoved: a blob directory removed behind the cache's back
// (by hand) after a store made it is made again by the next store into it.
func TestStoreBlobDirRemoved(t *testing.T) {
	c := openTest(t)
	doc := func(i int) []byte {
		return []byte(fmt.Sprintf("<robot name=\"r%d\"><link name=\"base\"/></robot>\n", i))
	}
	first := doc(0)
	second := first
	for i := 1; sha(second)[:2] != sha(first)[:2]; i++ {
		second = doc(i)
	}
	if _, err := c.Store(context.Background(), "ast_1", "isaac_sim_urdf", bytesFetch(first, "")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(c.blobPath(sha(first)))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	e, err := c.Store(context.Background(), "ast_2", "isaac_sim_urdf", bytesFetch(second, ""))
	if err != nil {
		t.Fatalf("store into a removed blob directory: %v", err)
	}
	if b, err := os.ReadFile(c.DownloadPath(e)); err != nil || !bytes.Equal(b, second) {
		t.Errorf("blob = %q, %v", b, err)
	}
}

// TestURLs: the recorded export URLs read back all at once, as URL reads
// them one by one; a later record replaces an earlier one.
func TestURLs(t *testing.T) {
	c := openTest(t)
	if us, err := c.URLs(); err != nil || len(us) != 0 {
		t.Fatalf("empty cache: %v %v", us, err)
	}
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	recs := []RecordedURL{
		{"ast_1", "mujoco_mjcf", "https://dl.example/a?sig=1", exp},
		{"ast_1", "isaac_sim_urdf", "https://dl.example/b?sig=2", exp.Add(time.Hour)},
		{"ast_2", "mujoco_mjcf", "https://dl.example/c?sig=3", exp},
		{"ast_1", "mujoco_mjcf", "https://dl.example/a?sig=4", exp.Add(2 * time.Hour)},
	}
	for _, r := range recs {
		if err := c.RecordURL(r.AssetID, r.Format, r.URL, r.Expires); err != nil {
			t.Fatal(err)
		}
	}
	us, err := c.URLs()
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 3 {
		t.Fatalf("URLs = %+v, want 3", us)
	}
	for _, u := range us {
		url, expires, ok := c.URL(u.AssetID, u.Format)
		if !ok || url != u.URL || !expires.Equal(u.Expires) {
			t.Errorf("%s/%s: URLs gives %s %v, URL gives %s %v %v", u.AssetID, u.Format, u.URL, u.Expires, url, expires, ok)
		}
	}
	if u := us[1]; u.AssetID != "ast_1" || u.Format != "mujoco_mjcf" || u.URL != recs[3].URL {
		t.Errorf("the replaced record: %+v", u)
	}
}

// TestRecordAssetsRevision: a scene seen with another revision loses its
// entries (its exports are of its old state); the same revision, none, or a
// first one keeps them; an asset without revisions is never touched.
func TestRecordAssetsRevision(t *testing.T) {
	for _, tc := range []struct {
		name         string
		before, then string
		keep         bool
		want         string // the revision recorded afterwards
	}{
		{"same revision", "updated_at=10 revision=0", "updated_at=10 revision=0", true, "updated_at=10 revision=0"},
		{"edited elsewhere", "updated_at=10 revision=0", "updated_at=99 revision=1", false, "updated_at=99 revision=1"},
		{"seen without a revision", "updated_at=10 revision=0", "", true, "updated_at=10 revision=0"},
		{"first revision seen", "", "updated_at=10 revision=0", true, "updated_at=10 revision=0"},
		{"never a revision", "", "", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := openTest(t)
			sc := AssetMeta{ID: "k3q9v0m2x7c1d8fa", Name: "kitchen", Status: "ready", Scene: tc.before != "", Revision: tc.before}
			other := AssetMeta{ID: "ast_1", Name: "arm", Status: "ready"}
			if err := c.RecordAssets([]AssetMeta{sc, other}, false); err != nil {
				t.Fatal(err)
			}
			for id, body := range map[string]string{sc.ID: mjcfDoc + "<!-- the scene -->\n", other.ID: mjcfDoc} {
				if _, err := c.Store(context.Background(), id, "mujoco_mjcf", bytesFetch([]byte(body), "")); err != nil {
					t.Fatal(err)
				}
			}
			sc.Revision, sc.Scene = tc.then, false
			if err := c.RecordAssets([]AssetMeta{sc, other}, true); err != nil {
				t.Fatal(err)
			}
			if got := c.Have(sc.ID, "mujoco_mjcf"); got != tc.keep {
				t.Errorf("scene's export kept %v, want %v", got, tc.keep)
			}
			// The old export's files go with it: nothing is left for
			// verify to call extra.
			if problems, err := c.Verify(context.Background(), false); err != nil || len(problems) != 0 {
				t.Errorf("verify after the record: %v %v", problems, err)
			}
			if !c.Have(other.ID, "mujoco_mjcf") {
				t.Error("another asset's export was dropped")
			}
			got, err := c.Asset(sc.ID)
			if err != nil || got.Revision != tc.want || got.Scene != (tc.before != "") {
				t.Errorf("recorded %+v (%v), want revision %q", got, err, tc.want)
			}
		})
	}
}

// TestStoreRefusesHostileFixtures: every zip of the repository's
// testdata/hostile is refused as a hostile archive naming its entry and the
// asset, and nothing of it is published.
func TestStoreRefusesHostileFixtures(t *testing.T) {
	for _, hc := range testcorpus.HostileArchives(t) {
		t.Run(filepath.Base(hc.Path), func(t *testing.T) {
			data, err := os.ReadFile(hc.Path)
			if err != nil {
				t.Fatal(err)
			}
			c := openTest(t)
			_, err = c.Store(context.Background(), "ast_x", "isaac_sim_urdf", bytesFetch(data, ""))
			if !errors.Is(err, ErrHostileArchive) || !strings.Contains(err.Error(), strconv.Quote(hc.Entry)) || !strings.Contains(err.Error(), "ast_x/isaac_sim_urdf") {
				t.Fatalf("err = %v, want a hostile archive naming %q and the asset", err, hc.Entry)
			}
			assertEmpty(t, c)
		})
	}
}
