package archive

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/testcorpus"
)

var update = flag.Bool("update", false, "rewrite the hostile zip fixtures in the repository's testdata/hostile")

// fixtureModel is the model every hostile fixture carries beside its
// hostile entry, so that the entry is the only thing wrong with it.
const fixtureModel = `<robot name="r"><link name="base"/></robot>` + "\n"

// hostileFixtures are the zips of testdata/hostile, shared by every package
// that opens an archive (this one, validate/check, cache): each holds
// robot.urdf and one entry the extractor must refuse, named by the refusal.
var hostileFixtures = []struct {
	file    string
	entries []entry // after robot.urdf
	refused string  // the entry the refusal names
	what    string
	corrupt bool // flip a byte of the stored robot.urdf (only its CRC tells)
}{
	{"dotdot.zip", []entry{{name: "../../evil.urdf", body: fixtureModel}}, "../../evil.urdf", "climbs out of the folder with ..", false},
	{"dotdot-inside.zip", []entry{{name: "meshes/../../x.stl", body: "x"}}, "meshes/../../x.stl", "climbs out through a subfolder", false},
	{"absolute.zip", []entry{{name: "/tmp/evil.stl", body: "x"}}, "/tmp/evil.stl", "an absolute path", false},
	{"backslash.zip", []entry{{name: `..\evil.stl`, body: "x"}}, `..\evil.stl`, "a Windows path separator", false},
	{"symlink.zip", []entry{{name: "meshes/link.stl", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}}, "meshes/link.stl", "a symbolic link to a file outside", false},
	{"device.zip", []entry{{name: "meshes/tty", mode: fs.ModeDevice | fs.ModeCharDevice | 0o666}}, "meshes/tty", "a character device", false},
	{"duplicate.zip", []entry{{name: "meshes/a.stl", body: "1"}, {name: "meshes/a.stl", body: "2"}}, "meshes/a.stl", "one name twice", false},
	{"case-collision.zip", []entry{{name: "meshes/Mesh.stl", body: "1"}, {name: "meshes/mesh.STL", body: "2"}}, "meshes/mesh.STL", "two names equal under case folding", false},
	{"file-then-dir.zip", []entry{{name: "meshes", body: "1"}, {name: "meshes/a.stl", body: "2"}}, "meshes/a.stl", "a file used as a folder", false},
	{"control-char.zip", []entry{{name: "meshes/a\x1b[2Jb.stl", body: "x"}}, "meshes/a\x1b[2Jb.stl", "a terminal escape in a name", false},
	{"bomb.zip", []entry{{name: "meshes/bomb.stl", body: strings.Repeat("\x00", 8<<20), method: zip.Deflate}}, "meshes/bomb.stl", "8 MiB of zeros in 8 KiB (a zip bomb)", false},
	{"size-lie.zip", []entry{{name: "meshes/liar.stl", body: strings.Repeat("\x00", 4<<20), lie: 100}}, "meshes/liar.stl", "a header that under-declares the size", false},
	{"bad-crc.zip", nil, "robot.urdf", "bytes that do not match their CRC-32", true},
}

// buildFixture makes the zip of one hostile fixture.
func buildFixture(t *testing.T, entries []entry, corrupt bool) []byte {
	t.Helper()
	model := entry{name: "robot.urdf", body: fixtureModel, method: zip.Store}
	data := buildZip(t, append([]entry{model}, entries...))
	if corrupt {
		i := bytes.Index(data, []byte(fixtureModel))
		if i < 0 {
			t.Fatal("model not found in the zip")
		}
		data[i+len(fixtureModel)/2] ^= 0x20
	}
	return data
}

// TestHostileFixtures checks that every fixture of testdata/hostile is
// refused, by Extract and OpenVerified, naming its entry, and leaves
// nothing behind; with -update it writes the fixtures and cases.txt first.
func TestHostileFixtures(t *testing.T) {
	dir := testcorpus.HostileDir()
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cases := "# The hostile zip fixtures: file, the entry a refusal names (Go-quoted),\n" +
			"# what it tries. Written by go test ./internal/archive -run TestHostileFixtures -update.\n"
		for _, fx := range hostileFixtures {
			if err := os.WriteFile(filepath.Join(dir, fx.file), buildFixture(t, fx.entries, fx.corrupt), 0o644); err != nil {
				t.Fatal(err)
			}
			cases += testcorpus.FormatHostileCase(fx.file, fx.refused, fx.what) + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "cases.txt"), []byte(cases), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := testcorpus.HostileArchives(t)
	if len(cases) != len(hostileFixtures) {
		t.Fatalf("cases.txt lists %d fixtures, the generator %d: rerun with -update", len(cases), len(hostileFixtures))
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.Path), func(t *testing.T) {
			data, err := os.ReadFile(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(t.TempDir(), "tree")
			_, err = Extract(bytes.NewReader(data), int64(len(data)), "fixture.zip", dest, DefaultLimits)
			var ae *Error
			if !errors.As(err, &ae) || !errors.Is(err, ErrHostile) || ae.Entry != c.Entry {
				t.Fatalf("Extract: %v; want a refusal naming %q", err, c.Entry)
			}
			assertGone(t, dest)
			_, _, err = OpenVerified(bytes.NewReader(data), int64(len(data)), "fixture.zip", DefaultLimits, 0)
			if !errors.As(err, &ae) || ae.Entry != c.Entry {
				t.Errorf("OpenVerified: %v; want a refusal naming %q", err, c.Entry)
			}
		})
	}
}
