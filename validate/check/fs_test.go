package check

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/procgen"
	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/internal/testcorpus"
	"github.com/antimlabs/gizmo/validate"
)

// The tests below check that validating a model through an
// archive.Overlay (a zip shown as the folder it would be extracted to, the
// folder not on disk) reports exactly what validating the extracted folder
// does, which holds only if no validator reads a model's files from the
// operating system behind Options.FS.

// optionVariants are the option sets every equivalence case runs under:
// the targets add file checks of their own (MuJoCo's strippath lookup).
var optionVariants = []struct {
	name string
	opts validate.Options
}{
	{"default", validate.Options{}},
	{"strict", validate.Options{Strict: true}},
	{"isaac", validate.Options{Target: validate.TargetIsaac}},
	{"mujoco", validate.Options{Target: validate.TargetMuJoCo}},
}

// recordFS is an FS that remembers every name asked of it.
type recordFS struct {
	fs    validate.FS
	mu    sync.Mutex
	names map[string]bool
}

func (r *recordFS) note(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		r.names = map[string]bool{}
	}
	r.names[name] = true
}

func (r *recordFS) Open(name string) (io.ReadCloser, error) {
	r.note(name)
	return r.fs.Open(name)
}

func (r *recordFS) Stat(name string) (fs.FileInfo, error) {
	r.note(name)
	return r.fs.Stat(name)
}

func (r *recordFS) asked(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[name]
}

// zipBytes writes files (slash names) into a zip.
func zipBytes(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// unzipBytes reads the files of a zip into memory.
func unzipBytes(t testing.TB, z []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = data
	}
	return out
}

// runResult is what Path gave, as JSON so that a difference shows.
type runResult struct {
	Reports []validate.Report `json:"reports"`
	Err     string            `json:"err,omitempty"`
}

func (r runResult) String() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

func pathResult(t testing.TB, path string, opts validate.Options) runResult {
	t.Helper()
	reps, err := Path(context.Background(), path, opts)
	r := runResult{Reports: reps}
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// diskAndOverlay validates root/model for each model after extracting z to
// root, then again with root removed and z shown there by an overlay. It
// fails the test when the two differ and returns the overlay's results and
// the FS that recorded what it was asked.
func diskAndOverlay(t *testing.T, z []byte, models []string, opts validate.Options) ([]runResult, *recordFS) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tree")
	if _, err := archive.Extract(bytes.NewReader(z), int64(len(z)), "model.zip", root, archive.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	disk := make([]runResult, len(models))
	for i, m := range models {
		disk[i] = pathResult(t, filepath.Join(root, filepath.FromSlash(m)), opts)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordFS{fs: archive.NewOverlay(root, zr)}
	o := opts
	o.FS = rec
	over := make([]runResult, len(models))
	for i, m := range models {
		over[i] = pathResult(t, filepath.Join(root, filepath.FromSlash(m)), o)
		if got, want := over[i].String(), disk[i].String(); got != want {
			t.Errorf("%s: through the overlay:\n%s\nafter extraction:\n%s", m, got, want)
		}
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Fatalf("validating through the overlay made %s on disk (stat: %v)", root, err)
	}
	return over, rec
}

// procgenPrompts gives a prompt for each procedural kind.
var procgenPrompts = map[string]string{
	procgen.KindArm:        "a 6 dof robotic arm with a gripper",
	procgen.KindGripper:    "a parallel jaw gripper",
	procgen.KindQuadruped:  "a robot dog",
	procgen.KindHumanoid:   "a humanoid",
	procgen.KindMobileBase: "a wheeled rover",
	procgen.KindCabinet:    "a kitchen cabinet with drawers",
}

// procgenExport is one zip export of a procedural robot.
type procgenExport struct {
	name  string
	model string // the model file in the zip
	files map[string][]byte
}

func procgenExports(t *testing.T) []procgenExport {
	t.Helper()
	var out []procgenExport
	for _, kind := range procgen.Kinds {
		prompt, ok := procgenPrompts[kind]
		if !ok {
			t.Fatalf("no prompt for procgen kind %q: add one to procgenPrompts", kind)
		}
		r := procgen.Generate("asset-"+kind, "test "+kind, prompt)
		if r.Kind() != kind {
			t.Fatalf("prompt %q gives a %s, not a %s", prompt, r.Kind(), kind)
		}
		for _, f := range []struct {
			format formats.Format
			ext    string
		}{{formats.IsaacURDF, ".urdf"}, {formats.MuJoCo, ".xml"}} {
			body, _, err := r.Export(f.format)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, procgenExport{
				name:  kind + "/" + string(f.format),
				model: r.Slug() + f.ext,
				files: unzipBytes(t, body),
			})
		}
	}
	return out
}

// TestOverlayProcgenExports validates every procedural robot's URDF and MJCF
// zip exports through an overlay and after extraction; the reports must be
// the same, the models valid, and every file of the zip must have been
// asked of the FS (so none was read from the operating system instead).
func TestOverlayProcgenExports(t *testing.T) {
	for _, ex := range procgenExports(t) {
		z := zipBytes(t, ex.files)
		for _, v := range optionVariants {
			t.Run(ex.name+"/"+v.name, func(t *testing.T) {
				res, rec := diskAndOverlay(t, z, []string{ex.model}, v.opts)
				if len(res[0].Reports) != 1 || res[0].Err != "" {
					t.Fatalf("want one report:\n%s", res[0])
				}
				rep := res[0].Reports[0]
				if v.opts.Target == validate.TargetMuJoCo && strings.HasSuffix(ex.model, ".urdf") {
					// The Isaac URDF export keeps its meshes in meshes/,
					// where MuJoCo (strippath) does not look: those are the
					// only errors expected, and they need the FS too.
					for _, p := range rep.Errors {
						if p.Rule != "mujoco-mesh-path" {
							t.Errorf("unexpected error %s", p)
						}
					}
				} else if !rep.Valid {
					t.Fatalf("procgen export is not valid:\n%s", res[0])
				}
				root := filepath.Dir(rep.Path)
				for name := range ex.files {
					if p := filepath.Join(root, filepath.FromSlash(name)); !rec.asked(p) {
						t.Errorf("%s was never asked of Options.FS: a validator reads it from elsewhere (asked: %v)", p, rec.names)
					}
				}
			})
		}
	}
}

// TestOverlayBrokenExports breaks procgen exports (a mesh left out, a mesh
// truncated, the model cut short) and checks that the overlay reports the
// same problems as the disk, with the rule expected.
func TestOverlayBrokenExports(t *testing.T) {
	for _, ex := range procgenExports(t) {
		var meshes []string
		for name := range ex.files {
			if name != ex.model {
				meshes = append(meshes, name)
			}
		}
		sort.Strings(meshes)
		if len(meshes) == 0 {
			continue
		}
		mesh := meshes[0]
		urdf := strings.HasSuffix(ex.model, ".urdf")
		cases := []struct {
			name   string
			change func(map[string][]byte)
			opts   validate.Options
			rule   string // an error rule the report must have
		}{
			{"missing mesh", func(f map[string][]byte) { delete(f, mesh) }, validate.Options{},
				map[bool]string{true: "urdf-mesh-missing", false: "mjcf-file"}[urdf]},
			{"truncated mesh", func(f map[string][]byte) { f[mesh] = f[mesh][:len(f[mesh])/2] }, validate.Options{},
				map[bool]string{true: "", false: "mjcf-stl"}[urdf]},
			{"truncated model", func(f map[string][]byte) { f[ex.model] = f[ex.model][:len(f[ex.model])/2] }, validate.Options{},
				map[bool]string{true: "urdf-xml", false: "mjcf-xml"}[urdf]},
			{"missing model", func(f map[string][]byte) { delete(f, ex.model) }, validate.Options{}, ""},
		}
		for _, c := range cases {
			t.Run(ex.name+"/"+c.name, func(t *testing.T) {
				files := map[string][]byte{}
				for k, v := range ex.files {
					files[k] = v
				}
				c.change(files)
				res, _ := diskAndOverlay(t, zipBytes(t, files), []string{ex.model}, c.opts)
				if c.name == "missing model" {
					if !strings.Contains(res[0].Err, ErrNotFound.Error()) {
						t.Errorf("a missing model gives %s, want an error wrapping ErrNotFound", res[0])
					}
					return
				}
				if c.rule == "" {
					return
				}
				for _, r := range res[0].Reports {
					for _, p := range r.Errors {
						if p.Rule == c.rule {
							return
						}
					}
				}
				t.Errorf("no %s error:\n%s", c.rule, res[0])
			})
		}
	}
}

// TestOverlayArchiveInside validates a zip that is itself a file of the
// overlay: Path reads it through the FS, not from the disk.
func TestOverlayArchiveInside(t *testing.T) {
	ex := procgenExports(t)[0]
	inner := zipBytes(t, ex.files)
	outer := zipBytes(t, map[string][]byte{"inner.zip": inner})
	res, rec := diskAndOverlay(t, outer, []string{"inner.zip"}, validate.Options{})
	if len(res[0].Reports) == 0 || !res[0].Reports[0].Valid {
		t.Fatalf("inner archive not validated:\n%s", res[0])
	}
	if !strings.Contains(res[0].Reports[0].Path, "inner.zip!/") {
		t.Errorf("report path %q does not name the entry in the archive", res[0].Reports[0].Path)
	}
	if len(rec.names) == 0 {
		t.Error("the archive was not read through Options.FS")
	}
}

// TestOverlayMJCFIncludes covers what the procgen exports lack: includes
// (found next to the main file or the including one), textures, a missing
// include, an OBJ mesh and the MuJoCo target.
func TestOverlayMJCFIncludes(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x60"), make([]byte, 16)...)
	obj := []byte("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n")
	flat := []byte("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 2 3 4\n")
	files := map[string][]byte{
		"scene.xml": []byte(`<mujoco model="s">
  <compiler meshdir="assets" texturedir="assets"/>
  <include file="parts/robot.xml"/>
  <include file="nowhere.xml"/>
  <asset>
    <texture name="sky" type="skybox" file="sky.png" gridsize="3 4" gridlayout=".U..LFRB.D.."/>
    <mesh name="flat" file="flat.obj"/>
    <mesh name="gone" file="gone.stl"/>
    <mesh name="flatstl" file="flat.stl"/>
  </asset>
  <worldbody><light pos="0 0 1"/><geom type="mesh" mesh="flat"/></worldbody>
</mujoco>`),
		"parts/robot.xml": []byte(`<mujoco><include file="arm.xml"/><asset><mesh name="tet" file="tet.obj"/></asset></mujoco>`),
		"parts/arm.xml":   []byte(`<mujoco><worldbody><body name="b"><joint/><geom type="mesh" mesh="tet"/></body></worldbody></mujoco>`),
		"assets/sky.png":  png,
		"assets/tet.obj":  obj,
		"assets/flat.obj": flat,
		"assets/flat.stl": flatSTL(),
	}
	for _, v := range optionVariants {
		t.Run(v.name, func(t *testing.T) {
			res, _ := diskAndOverlay(t, zipBytes(t, files), []string{"scene.xml", "parts/robot.xml"}, v.opts)
			if r := res[0]; len(r.Reports) != 1 || len(r.Reports[0].Errors) == 0 {
				t.Fatalf("scene.xml should have errors (a missing include, a missing mesh):\n%s", r)
			}
		})
	}
}

// TestOverlayDirectory: a folder given to Path is walked on the disk, its
// files read through Options.FS (here an overlay elsewhere, so the OS).
func TestOverlayDirectory(t *testing.T) {
	ex := procgenExports(t)[0]
	dir := filepath.Join(t.TempDir(), "tree")
	z := zipBytes(t, ex.files)
	if _, err := archive.Extract(bytes.NewReader(z), int64(len(z)), "model.zip", dir, archive.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	want := pathResult(t, dir, validate.Options{})
	got := pathResult(t, dir, validate.Options{FS: archive.NewOverlay(filepath.Join(t.TempDir(), "elsewhere"), zr)})
	if got.String() != want.String() {
		t.Errorf("folder through an FS:\n%s\nfrom the OS:\n%s", got, want)
	}
}

// TestOverlayCorpus zips each model folder of the shared corpus and checks
// every URDF and MJCF in it the two ways.
func TestOverlayCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus: skipped in -short")
	}
	corpus := testcorpus.Dir(t)
	var folders []string
	for _, top := range []string{"mjcf", "urdf", "synthetic"} {
		ents, err := os.ReadDir(filepath.Join(corpus, top))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() {
				folders = append(folders, filepath.Join(top, e.Name()))
			}
		}
	}
	for _, folder := range folders {
		t.Run(filepath.ToSlash(folder), func(t *testing.T) {
			base := filepath.Join(corpus, folder)
			files := map[string][]byte{}
			var models []string
			err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				rel, err := filepath.Rel(base, p)
				if err != nil {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				name := filepath.ToSlash(rel)
				files[name] = data
				if candidate(name) {
					switch sniffBytes(data).kind {
					case formats.KindURDF, formats.KindMJCF:
						models = append(models, name)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(models) == 0 {
				t.Skip("no URDF or MJCF")
			}
			sort.Strings(models)
			for _, v := range optionVariants[:1] {
				diskAndOverlay(t, zipBytes(t, files), models, v.opts)
			}
			diskAndOverlay(t, zipBytes(t, files), models, validate.Options{Target: validate.TargetMuJoCo})
		})
	}
}

// flatSTL is a binary STL of two triangles in one plane: MuJoCo's convex
// hull fails on it, which the check finds only by reading its vertices.
func flatSTL() []byte {
	tris := [][3][3]float32{{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}}, {{1, 0, 0}, {1, 1, 0}, {0, 1, 0}}}
	b := make([]byte, 84, 84+50*len(tris))
	binary.LittleEndian.PutUint32(b[80:], uint32(len(tris)))
	for _, t := range tris {
		rec := make([]byte, 50)
		for v := 0; v < 3; v++ {
			for k := 0; k < 3; k++ {
				binary.LittleEndian.PutUint32(rec[12+12*v+4*k:], math.Float32bits(t[v][k]))
			}
		}
		b = append(b, rec...)
	}
	return b
}

// TestIncludesThroughFS lists an MJCF model's includes (the exact reader
// and the fallback scan of a model with errors) from an overlay whose
// folder is not on disk.
func TestIncludesThroughFS(t *testing.T) {
	files := map[string][]byte{
		"scene.xml":       []byte(`<mujoco model="s"><include file="parts/robot.xml"/></mujoco>`),
		"broken.xml":      []byte(`<mujoco model="s"><include file="parts/robot.xml"/><include file="nowhere.xml"/></mujoco>`),
		"parts/robot.xml": []byte(`<mujoco><include file="arm.xml"/></mujoco>`),
		"parts/arm.xml":   []byte(`<mujoco><worldbody><body name="b"><geom size="1"/></body></worldbody></mujoco>`),
	}
	z := zipBytes(t, files)
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "tree")
	opts := validate.Options{FS: archive.NewOverlay(root, zr)}
	robot, arm := filepath.Join(root, "parts", "robot.xml"), filepath.Join(root, "parts", "arm.xml")
	for _, tt := range []struct {
		name string
		list func() []string
		want []string
	}{
		{"mjcf.Includes", func() []string {
			l, err := mjcfIncludes(filepath.Join(root, "scene.xml"), opts)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}, []string{robot, arm}},
		{"scanIncludes", func() []string { return scanIncludes(filepath.Join(root, "broken.xml"), opts) },
			[]string{robot, filepath.Join(root, "nowhere.xml"), arm}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.list(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
