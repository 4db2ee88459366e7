package mjcf

import (
	"bufio"
	"encoding/binary"
	"io"
	"io/fs"
	"math"
	"strings"
	"sync"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/validate"
)

// Mesh shape: MuJoCo builds every mesh's convex hull with qhull, which fails
// on fewer than 4 vertices or a flat (coplanar) set.

// maxMeshRead bounds the mesh files read for the shape check.
const maxMeshRead = 256 << 20

// meshShape checks the vertices of mesh a (inline, or from its STL/OBJ file
// at full). Reading stops as soon as four vertices span a volume, so a
// normal mesh costs a few hundred bytes; only a flat one is read whole.
func (c *checker) meshShape(a *etree.Element, name, full string) {
	c.meshShapeAs(a, name, full, extOf(full))
}

// meshShapeAs is meshShape reading the file as the format of extension ext.
func (c *checker) meshShapeAs(a *etree.Element, name, full, ext string) {
	var sh shape
	switch {
	case full == "":
		v, ok := c.nums(a, "vertex")
		if !ok {
			return
		}
		for i := 0; i+2 < len(v) && !sh.add([3]float64{v[i], v[i+1], v[i+2]}); i += 3 {
		}
	case strings.EqualFold(ext, ".stl") && c.scanned.path == full && full != "":
		// Read along with the header check (stl): the file is not opened again.
		sc := c.scanned
		c.scanned = scannedSTL{}
		if !sc.ok {
			return
		}
		sh = sc.sh
	case strings.EqualFold(ext, ".stl"), strings.EqualFold(ext, ".obj"):
		r, ok := meshShapeOf(c.m.opts, full, strings.ToLower(ext))
		if !ok {
			return
		}
		sh = r
	default:
		return
	}
	switch {
	case sh.solid:
	case sh.n < 4:
		c.m.errorf(a, "mjcf-mesh", "mesh '%s' has %d distinct vertices: at least 4 required", name, sh.n)
	default:
		c.m.errorf(a, "mjcf-mesh", "mesh '%s' is flat (all vertices on one plane or line): MuJoCo's convex hull (qhull) fails on it; give it thickness", name)
	}
}

// shapeKey identifies one version of a mesh file.
type shapeKey struct {
	path  string
	size  int64
	mtime int64
}

// shapeCache remembers the shape of mesh files already read in this
// process: scenes and their robots share meshes. Only files of the
// operating system are cached: another FS (a zip shown as a folder) may show
// different files of the same name, size and time.
var shapeCache sync.Map // shapeKey -> shape

// meshShapeOf reads the vertices of the STL or OBJ file at path far enough
// to tell its shape; ok is false when it cannot be read as one.
func meshShapeOf(opts validate.Options, path, ext string) (shape, bool) {
	st, err := opts.Stat(path)
	if err != nil {
		return shape{}, false
	}
	cache := opts.FS == nil
	key := shapeKey{path + "#" + ext, st.Size(), st.ModTime().UnixNano()}
	if cache {
		if v, ok := shapeCache.Load(key); ok {
			return v.(shape), true
		}
	}
	var sh shape
	var ok bool
	if ext == ".stl" {
		ok = scanSTL(opts, path, st, sh.add)
	} else {
		ok = scanOBJ(opts, path, st, sh.add)
	}
	if ok && cache {
		shapeCache.Store(key, sh)
	}
	return sh, ok
}

// shape finds four vertices that span a volume, counting distinct vertices
// up to four on the way.
type shape struct {
	pts   [4][3]float64 // distinct vertices seen, up to 4
	n     int
	p0    [3]float64
	p1    [3]float64
	axis  [3]float64 // p1 - p0
	nrm   [3]float64 // normal of the plane p0, p1, p2
	stage int        // 0: need p0, 1: need p1, 2: need p2, 3: need p3
	solid bool
}

func sub3(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func dot3(a, b [3]float64) float64    { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func cross3(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

// relEps is the relative size below which MuJoCo's qhull sees no extent.
const relEps = 1e-9

// add takes one vertex; it returns true once the mesh is known to be solid.
func (s *shape) add(p [3]float64) bool {
	if s.n < 4 {
		dup := false
		for i := 0; i < s.n; i++ {
			if s.pts[i] == p {
				dup = true
				break
			}
		}
		if !dup {
			s.pts[s.n] = p
			s.n++
		}
	}
	switch s.stage {
	case 0:
		s.p0, s.stage = p, 1
	case 1:
		d := sub3(p, s.p0)
		if dot3(d, d) > 1e-24 {
			s.p1, s.axis, s.stage = p, d, 2
		}
	case 2:
		l := math.Sqrt(dot3(s.axis, s.axis))
		cr := cross3(s.axis, sub3(p, s.p0))
		if math.Sqrt(dot3(cr, cr))/l > relEps*l {
			s.nrm, s.stage = cr, 3
		}
	case 3:
		l := math.Sqrt(dot3(s.axis, s.axis))
		nl := math.Sqrt(dot3(s.nrm, s.nrm))
		if math.Abs(dot3(s.nrm, sub3(p, s.p0)))/nl > relEps*l {
			s.solid = true
		}
	}
	return s.solid
}

// scanSTL feeds the vertices of a binary STL to add until it returns true;
// false when the file cannot be read as one. st describes the file.
func scanSTL(opts validate.Options, path string, st fs.FileInfo, add func([3]float64) bool) bool {
	if st.Size() < 84 {
		return false
	}
	f, err := opts.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 4<<10)
	var head [84]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return false
	}
	n := int64(binary.LittleEndian.Uint32(head[80:]))
	if 84+50*n != st.Size() {
		return false // reported by the STL check
	}
	return scanSTLFaces(r, n, add)
}

// scanSTLFaces feeds the vertices of the n faces read from r (a binary STL
// past its header) to add until it returns true; false when r ends first.
func scanSTLFaces(r io.Reader, n int64, add func([3]float64) bool) bool {
	var rec [50]byte
	for i := int64(0); i < n; i++ {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			return false
		}
		for v := 0; v < 3; v++ {
			var p [3]float64
			for k := 0; k < 3; k++ {
				p[k] = float64(math.Float32frombits(binary.LittleEndian.Uint32(rec[12+12*v+4*k:])))
			}
			if add(p) {
				return true
			}
		}
	}
	return true
}

// scanOBJ feeds the vertices ("v x y z") of an OBJ file to add until it
// returns true. st describes the file.
func scanOBJ(opts validate.Options, path string, st fs.FileInfo, add func([3]float64) bool) bool {
	if st.Size() > maxMeshRead {
		return false
	}
	f, err := opts.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "v ") && !strings.HasPrefix(line, "v\t") {
			continue
		}
		fs := strings.Fields(line[2:])
		if len(fs) < 3 {
			continue
		}
		var p [3]float64
		ok := true
		for k := 0; k < 3; k++ {
			v, err := parseReal(fs[k])
			if err != nil {
				ok = false
				break
			}
			p[k] = v
		}
		if ok && add(p) {
			return true
		}
	}
	return sc.Err() == nil
}
