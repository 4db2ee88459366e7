package mjcf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"
)

var meshExts = map[string]bool{".stl": true, ".obj": true, ".msh": true}

func (c *checker) assets() {
	for _, sec := range c.m.root.SelectElements("asset") {
		if c.bad[sec] {
			continue
		}
		for a := range sec.ChildElementsSeq() {
			switch a.Tag {
			case "mesh":
				if a.SelectAttr("builtin") != nil && a.SelectAttr("params") == nil {
					c.m.errorf(a, "mjcf-required", "required attribute missing: 'params' (a mesh with builtin needs it)")
				}
				if assetName(a) == "" {
					c.m.errorf(a, "mjcf-name", "empty name in mesh: a mesh without a file needs a name")
				}
				if v, ok := c.nums(a, "maxhullvert"); ok && v[0] != -1 && v[0] <= 3 {
					c.m.errorf(a, "mjcf-mesh", "maxhullvert must be larger than 3 (or -1 for no limit), got %g", v[0])
				}
				if f := a.SelectAttrValue("file", ""); f != "" {
					ext := strings.ToLower(filepath.Ext(f))
					if ct := a.SelectAttrValue("content_type", ""); ct != "" && !strings.Contains(ct, "/") {
						c.m.errorf(a, "mjcf-mesh-format", "invalid content type '%s': use a MIME type such as model/stl", ct)
						continue
					} else if ct != "" {
						// The content type, not the extension, picks MuJoCo's
						// reader, and MuJoCo's mesh cache may skip it: only
						// the file's existence is checked.
						c.file(a, f, c.dirs(a).meshdir)
						c.m.report.NotChecked = append(c.m.report.NotChecked, fmt.Sprintf("mesh '%s' with content_type %q: format and shape not checked", assetName(a), ct))
						continue
					}
					if !meshExts[ext] {
						c.m.errorf(a, "mjcf-mesh-format", "unknown or unsupported mesh file '%s': MuJoCo reads .stl, .obj and .msh; convert the mesh", f)
						continue
					}
					full, ok := c.file(a, f, c.dirs(a).meshdir)
					if ok && ext == ".stl" {
						ok = c.stl(a, f, full)
					}
					if ok {
						c.meshShape(a, assetName(a), full)
					}
				} else if a.SelectAttr("vertex") != nil {
					c.meshShape(a, assetName(a), "")
				} else if a.SelectAttr("builtin") == nil && a.SelectAttr("plugin") == nil && len(a.SelectElements("plugin")) == 0 {
					c.m.errorf(a, "mjcf-mesh", "mesh '%s' has no data: give it a file, vertex data or a builtin shape (at least 4 vertices required)", assetName(a))
				}
			case "hfield", "skin":
				if a.Tag == "skin" && a.SelectAttrValue("file", "") == "" && a.SelectAttr("vertex") == nil {
					c.m.errorf(a, "mjcf-skin", "missing data in skin: give it a file or vertex data")
				}
				if f := a.SelectAttrValue("file", ""); f != "" {
					c.file(a, f, c.dirs(a).meshdir)
				}
				if a.Tag == "hfield" {
					c.hfield(a)
					if v, ok := c.nums(a, "size"); ok && len(v) == 4 {
						for _, x := range v {
							if x <= 0 {
								c.m.errorf(a, "mjcf-size", "size parameter is not positive in hfield: all four values must be > 0")
								break
							}
						}
					}
				}
			case "texture":
				c.texture(a)
				attrs := []string{"file"}
				if a.SelectAttrValue("type", "cube") != "2d" && a.SelectAttrValue("file", "") == "" {
					attrs = []string{"fileright", "fileleft", "fileup", "filedown", "filefront", "fileback"}
				}
				for _, attr := range attrs {
					if f := a.SelectAttrValue(attr, ""); f != "" {
						if full, ok := c.file(a, f, c.dirs(a).texturedir); ok {
							c.textureImage(a, attr, f, full)
						}
					}
				}
			case "model":
				if f := a.SelectAttrValue("file", ""); f != "" {
					c.file(a, f, "")
				}
			}
		}
	}
}

// stl checks what MuJoCo's STL reader checks: a binary STL whose size
// matches its face count (MuJoCo reads no ASCII STL).
func (c *checker) stl(e *etree.Element, name, full string) bool {
	st, err := c.m.opts.Stat(full)
	if err != nil {
		return false
	}
	f, err := c.m.opts.Open(full)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [84]byte
	if st.Size() < 84 {
		c.m.errorf(e, "mjcf-stl", "invalid header in STL file '%s': shorter than 84 bytes", name)
		return false
	}
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return false
	}
	n := binary.LittleEndian.Uint32(head[80:])
	if n < 1 || n > 200000 {
		c.m.errorf(e, "mjcf-stl", "number of faces should be between 1 and 200000 in STL file '%s' (header says %d); perhaps this is an ASCII STL: MuJoCo reads only binary STL, convert it", name, n)
		return false
	}
	if want := 84 + 50*int64(n); st.Size() != want {
		c.m.errorf(e, "mjcf-stl", "STL file '%s' has wrong size: %d bytes for %d faces, expected %d; the file is truncated or ASCII", name, st.Size(), n, want)
		return false
	}
	if c.m.opts.FS != nil {
		// Files of the operating system go through meshShapeOf's cache;
		// those of another FS (a zip, where every open decompresses) are
		// read on from here rather than opened again by meshShape.
		sc := scannedSTL{path: full}
		sc.ok = scanSTLFaces(bufio.NewReaderSize(f, 512), int64(n), sc.sh.add)
		c.scanned = sc
	}
	return true
}

// dirs is the compiler settings asset a's files resolve with: the
// model's, or those of the attached model it was copied from.
func (c *checker) dirs(a *etree.Element) *compilerSettings {
	if fb, ok := c.fileBases[a]; ok {
		return &fb.comp
	}
	return &c.comp
}

// file checks that asset file name exists, resolved as MuJoCo does: as is
// when absolute; dir/name when dir is absolute; else main folder/dir/name.
// It returns the resolved path and whether the file exists.
func (c *checker) file(e *etree.Element, name, dir string) (string, bool) {
	f := name
	base, strip := c.m.dir, c.comp.strippath
	if fb, ok := c.fileBases[e]; ok {
		// An asset copied from an attached model: its own folder and
		// compiler settings.
		base, strip = fb.dir, fb.comp.strippath
	}
	if strip {
		f = filepath.Base(strings.ReplaceAll(f, "\\", "/"))
	}
	var full string
	switch {
	case filepath.IsAbs(f):
		full = f
	case filepath.IsAbs(dir):
		full = filepath.Join(dir, f)
	default:
		full = filepath.Join(base, dir, f)
	}
	st, err := c.m.opts.Stat(full)
	if err != nil || st.IsDir() {
		shown := filepath.Join(dir, f)
		c.m.errorf(e, "mjcf-file", "error opening file '%s': no such file (looked for %s); check the path and compiler meshdir/texturedir/assetdir", shown, c.m.display(full))
		return full, false
	}
	return full, true
}
