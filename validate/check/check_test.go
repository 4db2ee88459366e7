package check

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
)

const goodURDF = `<robot name="r"><link name="a"><visual><geometry><mesh filename="meshes/a.stl"/></geometry></visual></link></robot>`
const badURDF = `<robot name="r"><link name="a"/><joint name="j" type="revolute"><parent link="a"/><child link="a"/></joint></robot>`
const mjcfScene = `<mujoco model="s"><include file="robot.xml"/><worldbody><light pos="0 0 1"/></worldbody></mujoco>`
const mjcfRobot = `<mujoco model="r"><worldbody><body name="b"><geom size="0.1"/></body></worldbody></mujoco>`
const usda = "#usda 1.0\n(\n)\ndef Xform \"w\" {}\n"

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// summary is what a test compares: each report's path, format and error
// rules.
type summary struct {
	Path   string
	Format formats.Kind
	Rules  string
}

func summarize(rs []validate.Report) []summary {
	var out []summary
	for _, r := range rs {
		var rules []string
		for _, p := range r.Errors {
			rules = append(rules, p.Rule)
		}
		out = append(out, summary{r.Path, r.Format, strings.Join(rules, ",")})
	}
	return out
}

func TestPathFilesAndFolders(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"robot/robot.urdf":      goodURDF,
		"robot/meshes/a.stl":    "solid a\nendsolid a\n",
		"robot/README.md":       "# not a model",
		"robot/bad.xml":         badURDF, // a URDF by content, not by name
		"robot/.git/x.urdf":     badURDF, // hidden folders are skipped
		"mj/scene.xml":          mjcfScene,
		"mj/robot.xml":          mjcfRobot, // included by scene.xml: checked as part of it
		"usd/w.usda":            usda,
		"notes.txt":             "hello",
		"robot/meshes/data.xml": "<data/>", // XML that is no model
	})
	ctx := context.Background()
	tests := []struct {
		path string
		want []summary
	}{
		{filepath.Join(root, "robot", "robot.urdf"), []summary{{filepath.Join(root, "robot", "robot.urdf"), formats.KindURDF, ""}}},
		{filepath.Join(root, "robot"), []summary{
			{filepath.Join(root, "robot") + "/bad.xml", formats.KindURDF, "urdf-joint-limit"},
			{filepath.Join(root, "robot") + "/robot.urdf", formats.KindURDF, ""},
		}},
		{filepath.Join(root, "mj"), []summary{{filepath.Join(root, "mj") + "/scene.xml", formats.KindMJCF, ""}}},
		{filepath.Join(root, "usd"), []summary{{filepath.Join(root, "usd") + "/w.usda", formats.KindUSDA, ""}}},
		{filepath.Join(root, "notes.txt"), []summary{{filepath.Join(root, "notes.txt"), "", "format-unknown"}}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			rs, err := Path(ctx, tt.path, validate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := summarize(rs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
	if _, err := Path(ctx, filepath.Join(root, "nope"), validate.Options{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing path: err = %v, want ErrNotFound", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Path(cancelled, root, validate.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: err = %v", err)
	}
}

func TestIncludedByBrokenModel(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"scene.xml":       `<mujoco><include file="parts/robot.xml"/><worldbody><geom type="nosuch"/></worldbody></mujoco>`,
		"parts/robot.xml": `<mujoco><keyframe><key qpos="1 2 3"/></keyframe></mujoco>`,
	})
	rs, err := Path(context.Background(), root, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || !strings.HasSuffix(rs[0].Path, "scene.xml") || rs[0].Valid {
		t.Errorf("want only scene.xml, with errors; got %v", summarize(rs))
	}
}

type entry struct {
	name string
	body string
	mode os.FileMode
}

func makeZip(t testing.TB, path string, entries []entry) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArchives(t *testing.T) {
	dir := t.TempDir()
	many := make([]entry, 12)
	for i := range many {
		many[i] = entry{name: "f" + string(rune('a'+i)) + ".txt", body: "x"}
	}
	tests := []struct {
		name    string
		entries []entry
		want    []summary // paths relative to the zip's display name
	}{
		{"export", []entry{{name: "robot/robot.urdf", body: goodURDF}, {name: "robot/meshes/a.stl", body: "solid a\nendsolid a\n"}, {name: "robot/README.md", body: "hi"}},
			[]summary{{"!/robot/robot.urdf", formats.KindURDF, ""}}},
		{"bad model", []entry{{name: "bad.urdf", body: badURDF}}, []summary{{"!/bad.urdf", formats.KindURDF, "urdf-joint-limit"}}},
		{"mesh missing", []entry{{name: "robot.urdf", body: goodURDF}}, []summary{{"!/robot.urdf", formats.KindURDF, "urdf-mesh-missing"}}},
		{"dot-dot", []entry{{name: "../evil.urdf", body: goodURDF}}, []summary{{"", formats.KindZip, "archive-unsafe"}}},
		{"dot-dot inside", []entry{{name: "a/../../evil.urdf", body: goodURDF}}, []summary{{"", formats.KindZip, "archive-unsafe"}}},
		{"absolute", []entry{{name: "/etc/evil.urdf", body: goodURDF}}, []summary{{"", formats.KindZip, "archive-unsafe"}}},
		{"backslash", []entry{{name: `..\evil.urdf`, body: goodURDF}}, []summary{{"", formats.KindZip, "archive-unsafe"}}},
		{"symlink", []entry{{name: "link.urdf", body: "/etc/passwd", mode: os.ModeSymlink | 0o777}}, []summary{{"", formats.KindZip, "archive-unsafe"}}},
		{"too many entries", many, []summary{{"", formats.KindZip, "archive-unsafe"}}},
		{"too big", []entry{{name: "big.urdf", body: strings.Repeat(" ", 5000)}}, []summary{{"", formats.KindZip, "archive-unsafe"}}},
		{"nothing inside", []entry{{name: "a.txt", body: "x"}}, []summary{{"", formats.KindZip, "archive-no-model"}}},
		{"nested", []entry{{name: "inner.zip", body: "PK\x05\x06" + strings.Repeat("\x00", 18)}, {name: "r.urdf", body: `<robot name="r"><link name="a"/></robot>`}},
			[]summary{{"!/inner.zip", formats.KindZip, ""}, {"!/r.urdf", formats.KindURDF, ""}}},
	}
	maxArchiveEntries, maxArchiveBytes = 10, 4096
	t.Cleanup(func() { maxArchiveEntries, maxArchiveBytes = MaxArchiveEntries, MaxArchiveBytes })
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zp := filepath.Join(dir, "a"+string(rune('a'+i))+".zip")
			makeZip(t, zp, tt.entries)
			rs, err := Path(context.Background(), zp, validate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var want []summary
			for _, w := range tt.want {
				w.Path = zp + w.Path
				want = append(want, w)
			}
			if got := summarize(rs); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
			for _, r := range rs {
				for _, p := range r.Errors {
					if !strings.HasPrefix(p.File, zp) {
						t.Errorf("problem names %q, not a path inside %s", p.File, zp)
					}
				}
			}
		})
	}
}

// An entry whose header understates its size is refused while unpacking,
// not trusted.
func TestArchiveLyingHeader(t *testing.T) {
	body := []byte(strings.Repeat(" ", 100000))
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(body)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "big.urdf", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(body),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: 10})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	zp := filepath.Join(t.TempDir(), "lie.zip")
	if err := os.WriteFile(zp, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := extractFS(context.Background(), validate.Options{}, zp, dest); err == nil {
		t.Fatal("an entry larger than its header says was unpacked")
	}
	if fi, err := os.Stat(filepath.Join(dest, "big.urdf")); err == nil && fi.Size() > 4096 {
		t.Errorf("wrote %d bytes of an entry that declared 10", fi.Size())
	}
}
