package archive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entry describes one crafted zip entry.
type entry struct {
	name   string
	body   string
	mode   fs.FileMode // 0: regular 0644
	attrs  uint32      // raw Unix file type bits, overriding mode
	flags  uint16
	method uint16
	// lie declares this many decompressed bytes instead of the real count.
	lie int64
}

func buildZip(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: e.method}
		if e.mode != 0 {
			h.SetMode(e.mode)
		} else if !strings.HasSuffix(e.name, "/") {
			h.SetMode(0o644)
		}
		if e.attrs != 0 {
			h.CreatorVersion = 3 << 8
			h.ExternalAttrs = e.attrs << 16
		}
		h.Flags |= e.flags
		if e.lie != 0 {
			var comp bytes.Buffer
			fw, _ := flate.NewWriter(&comp, flate.BestCompression)
			fw.Write([]byte(e.body))
			fw.Close()
			h.Method = zip.Deflate
			h.CRC32 = crc32.ChecksumIEEE([]byte(e.body))
			h.CompressedSize64 = uint64(comp.Len())
			h.UncompressedSize64 = uint64(e.lie)
			w, err := zw.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(comp.Bytes())
			continue
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
	return buf.Bytes()
}

func TestExtractRefusesHostileArchives(t *testing.T) {
	zeros := strings.Repeat("\x00", 4<<20)
	small := Limits{MaxEntries: 5, MaxFileSize: 8 << 20, MaxTotalSize: 10 << 20, MaxRatio: 100, RatioFloor: 1 << 20}
	tests := []struct {
		name    string
		entries []entry
		lim     Limits
		entry   string // the entry the error must name
		reason  string // a fragment of the reason
	}{
		{"absolute path", []entry{{name: "/etc/passwd", body: "x"}}, small, "/etc/passwd", "absolute"},
		{"drive letter", []entry{{name: "C:/x.urdf", body: "x"}}, small, "C:/x.urdf", "absolute"},
		{"dot-dot escape", []entry{{name: "a/../../evil", body: "x"}}, small, "a/../../evil", ".."},
		{"leading dot-dot", []entry{{name: "../evil", body: "x"}}, small, "../evil", ".."},
		{"backslash", []entry{{name: `..\evil`, body: "x"}}, small, `..\evil`, "backslash"},
		{"non-canonical", []entry{{name: "a//b", body: "x"}}, small, "a//b", "clean"},
		{"dot name", []entry{{name: "./a", body: "x"}}, small, "./a", "clean"},
		{"symlink", []entry{{name: "link", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}}, small, "link", "symbolic link"},
		{"symlink by unix type bits", []entry{{name: "hl", body: "x", attrs: 0o120000}}, small, "hl", "symbolic link"},
		{"char device", []entry{{name: "tty", mode: fs.ModeDevice | fs.ModeCharDevice | 0o666}}, small, "tty", "device"},
		{"block device", []entry{{name: "sda", mode: fs.ModeDevice | 0o666}}, small, "sda", "device"},
		{"fifo", []entry{{name: "pipe", mode: fs.ModeNamedPipe | 0o666}}, small, "pipe", "pipe"},
		{"socket", []entry{{name: "sock", attrs: 0o140000}}, small, "sock", "socket"},
		{"duplicate", []entry{{name: "a.urdf", body: "1"}, {name: "a.urdf", body: "2"}}, small, "a.urdf", "duplicate"},
		{"case collision", []entry{{name: "Mesh.stl", body: "1"}, {name: "mesh.STL", body: "2"}}, small, "mesh.STL", "case folding"},
		{"unicode case collision", []entry{{name: "STRASSE.stl", body: "1"}, {name: "straße.stl", body: "2"}}, small, "", ""}, // see below
		{"file then dir", []entry{{name: "a", body: "1"}, {name: "a/b", body: "2"}}, small, "a/b", "is a file"},
		{"dir then file", []entry{{name: "a/b", body: "1"}, {name: "a", body: "2"}}, small, "a", "as a directory"},
		{"invalid utf-8", []entry{{name: "bad\xff.stl", body: "x"}}, small, "bad\xff.stl", "UTF-8"},
		{"control char", []entry{{name: "a\nb", body: "x"}}, small, "a\nb", "control"},
		{"empty name", []entry{{name: "", body: "x"}}, small, "", "empty"},
		{"encrypted", []entry{{name: "secret", body: "x", flags: 1}}, small, "secret", "encrypted"},
		{"too many entries", []entry{{name: "1"}, {name: "2"}, {name: "3"}, {name: "4"}, {name: "5"}, {name: "6"}}, small, "", "entries"},
		{"file over size limit", []entry{{name: "big", body: strings.Repeat("ab", 5<<20), method: zip.Store}}, small, "big", "limit"},
		{"total over limit", []entry{
			{name: "a", body: strings.Repeat("a", 6<<20), method: zip.Store},
			{name: "b", body: strings.Repeat("b", 6<<20), method: zip.Store}}, small, "b", "limit"},
		{"ratio bomb", []entry{{name: "bomb", body: zeros, method: zip.Deflate}}, small, "bomb", "ratio"},
		{"size lie (header under-declares)", []entry{{name: "liar", body: zeros, lie: 100}}, Limits{MaxFileSize: 8 << 20}, "liar", "decompress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := buildZip(t, tt.entries)
			parent := t.TempDir()
			dest := filepath.Join(parent, "tree")
			_, err := Extract(bytes.NewReader(data), int64(len(data)), "test.zip", dest, tt.lim)
			// OpenVerified, which writes nothing, refuses the same, naming the same entry.
			_, _, verr := OpenVerified(bytes.NewReader(data), int64(len(data)), "test.zip", tt.lim, 0)
			var ae1, ae2 *Error
			if (err == nil) != (verr == nil) || err != nil && (!errors.As(err, &ae1) || !errors.As(verr, &ae2) || ae1.Entry != ae2.Entry) {
				t.Errorf("OpenVerified: %v; Extract: %v", verr, err)
			}
			if tt.name == "unicode case collision" {
				// ToUpper("straße") is "STRASSE" only under full case
				// mapping; Go's simple mapping keeps ß, so these differ on
				// most file systems too. Accept either outcome, but never a
				// partial tree.
				if err != nil && !errors.Is(err, ErrHostile) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				if err != nil {
					assertGone(t, dest)
				}
				return
			}
			if err == nil {
				t.Fatalf("extracted a hostile archive")
			}
			if !errors.Is(err, ErrHostile) {
				t.Fatalf("error %v does not match ErrHostile", err)
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %T is not *Error", err)
			}
			if ae.Archive != "test.zip" || ae.Entry != tt.entry {
				t.Errorf("error names archive %q entry %q, want test.zip %q", ae.Archive, ae.Entry, tt.entry)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q lacks %q", err, tt.reason)
			}
			if !strings.Contains(err.Error(), "test.zip") {
				t.Errorf("error %q does not name the archive", err)
			}
			assertGone(t, dest)
			// Nothing was written next to the tree either.
			if ents, _ := os.ReadDir(parent); len(ents) != 0 {
				t.Errorf("files left in the parent: %v", ents)
			}
		})
	}
}

func assertGone(t *testing.T, dest string) {
	t.Helper()
	if _, err := os.Lstat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("destination %s left behind after a refusal (%v)", dest, err)
	}
}

func TestExtractGoodArchive(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		t.Run(map[bool]string{false: "Extract", true: "ExtractSealed"}[sealed], func(t *testing.T) {
			testExtractGoodArchive(t, sealed)
		})
	}
}

func testExtractGoodArchive(t *testing.T, sealed bool) {
	data := buildZip(t, []entry{
		{name: "robot.urdf", body: "<robot name='r'/>"},
		{name: "meshes/"},
		{name: "meshes/base.stl", body: "solid base\nendsolid base\n"},
		{name: "textures/skin.png", body: "\x89PNG"},
		// A compressible file under the ratio floor is fine.
		{name: "meshes/flat.obj", body: strings.Repeat("v 0 0 0\n", 10000), method: zip.Deflate},
	})
	dest := filepath.Join(t.TempDir(), "tree")
	extract, mode := Extract, os.FileMode(0o644)
	if sealed {
		extract, mode = ExtractSealed, 0o444
	}
	files, err := extract(bytes.NewReader(data), int64(len(data)), "good.zip", dest, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		p := filepath.Join(dest, filepath.FromSlash(f.Name))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm()&^mode != 0 {
			t.Errorf("%s: mode %v, want at most %v", f.Name, st.Mode().Perm(), mode)
		}
		if int64(len(b)) != f.Size || crc32.ChecksumIEEE(b) != f.CRC32 {
			t.Errorf("%s: size/crc mismatch", f.Name)
		}
	}
	want := "meshes/base.stl meshes/flat.obj robot.urdf textures/skin.png"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("files = %q, want %q", got, want)
	}
	if st, err := os.Stat(filepath.Join(dest, "meshes")); err != nil || !st.IsDir() {
		t.Errorf("meshes/ not a directory: %v", err)
	}
}

func TestExtractRefusesExistingDest(t *testing.T) {
	data := buildZip(t, []entry{{name: "a", body: "1"}})
	dest := t.TempDir()
	if _, err := Extract(bytes.NewReader(data), int64(len(data)), "a.zip", dest, DefaultLimits); err == nil {
		t.Fatal("extracted into an existing directory")
	}
	if _, err := os.Stat(dest); err != nil {
		t.Fatalf("an existing destination was removed: %v", err)
	}
}

func TestExtractNotAZip(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "tree")
	data := []byte("PK\x03\x04 but then garbage")
	_, err := Extract(bytes.NewReader(data), int64(len(data)), "junk.zip", dest, DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), "junk.zip") {
		t.Fatalf("err = %v, want a refusal naming junk.zip", err)
	}
	assertGone(t, dest)
}

// FuzzExtract: whatever the bytes, Extract writes only inside dest, and
// leaves nothing when it fails.
func FuzzExtract(f *testing.F) {
	f.Add(buildZip(f, []entry{{name: "robot.urdf", body: "<robot/>"}, {name: "m/a.stl", body: "x"}}))
	f.Add(buildZip(f, []entry{{name: "../x", body: "x"}}))
	f.Add(buildZip(f, []entry{{name: "l", mode: fs.ModeSymlink | 0o777, body: "/"}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dest := filepath.Join(parent, "tree")
		lim := Limits{MaxEntries: 100, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20, MaxRatio: 100, RatioFloor: 64 << 10}
		files, err := Extract(bytes.NewReader(data), int64(len(data)), "fuzz.zip", dest, lim)
		ents, _ := os.ReadDir(parent)
		if err != nil {
			if len(ents) != 0 {
				t.Fatalf("failed extraction left %v", ents)
			}
			return
		}
		if len(ents) != 1 || ents[0].Name() != "tree" {
			t.Fatalf("wrote outside dest: %v", ents)
		}
		filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type()&fs.ModeSymlink != 0 {
				t.Fatalf("symlink %s created", p)
			}
			return nil
		})
		for _, fl := range files {
			if _, err := os.Stat(filepath.Join(dest, filepath.FromSlash(fl.Name))); err != nil {
				t.Fatalf("reported file %s missing: %v", fl.Name, err)
			}
		}
	})
}

// rawZip is a zip of one stored entry whose header gives crc.
func rawZip(t *testing.T, name, body string, crc uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc,
		CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(body))}
	h.SetMode(0o644)
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCRC: an entry whose bytes do not match its header's CRC-32 is
// refused by OpenVerified and Extract alike; a header CRC of 0
// (unknown) is accepted, and the CRC returned is the one computed.
func TestCRC(t *testing.T) {
	body := "<robot name=\"r\"/>\n"
	good := crc32.ChecksumIEEE([]byte(body))
	tests := []struct {
		name string
		crc  uint32
		ok   bool
	}{
		{"right", good, true},
		{"wrong", good ^ 1, false},
		{"unknown", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := rawZip(t, "robot.urdf", body, tt.crc)
			r := bytes.NewReader(z)
			check := func(how string, files []File, err error) {
				t.Helper()
				if (err == nil) != tt.ok {
					t.Fatalf("%s: err = %v, want ok %v", how, err, tt.ok)
				}
				if err != nil {
					if !strings.Contains(err.Error(), "robot.urdf") {
						t.Errorf("%s: error does not name the entry: %v", how, err)
					}
					return
				}
				if len(files) != 1 || files[0].CRC32 != good {
					t.Errorf("%s: files = %+v, want CRC %08x", how, files, good)
				}
			}
			_, files, err := OpenVerified(r, r.Size(), "a.zip", DefaultLimits, 0)
			check("OpenVerified", files, err)
			_, files, err = OpenVerified(r, r.Size(), "a.zip", DefaultLimits, 1<<20)
			check("OpenVerified keeping contents", files, err)
			if err == nil && string(files[0].Data) != body {
				t.Errorf("kept contents %q, want %q", files[0].Data, body)
			}
			files, err = Extract(r, r.Size(), "a.zip", filepath.Join(t.TempDir(), "x"), DefaultLimits)
			check("Extract", files, err)
		})
	}
}

// TestOpenVerifiedKeep: contents are kept only when the declared sizes add
// up to at most keep bytes.
func TestOpenVerifiedKeep(t *testing.T) {
	z := buildZip(t, []entry{{name: "a.urdf", body: "<robot/>"}, {name: "m/b.stl", body: "solid b"}, {name: "m/"}})
	for _, tt := range []struct {
		keep int64
		kept bool
	}{{0, false}, {14, false}, {15, true}, {1 << 20, true}} {
		_, files, err := OpenVerified(bytes.NewReader(z), int64(len(z)), "z", DefaultLimits, tt.keep)
		if err != nil || len(files) != 2 {
			t.Fatalf("keep %d: %v %v", tt.keep, files, err)
		}
		for _, f := range files {
			if (f.Data != nil) != tt.kept || tt.kept && int64(len(f.Data)) != f.Size {
				t.Errorf("keep %d: %s holds %d bytes of contents (nil %v)", tt.keep, f.Name, len(f.Data), f.Data == nil)
			}
		}
	}
}
