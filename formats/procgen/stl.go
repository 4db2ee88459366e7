package procgen

import (
	"encoding/binary"
	"math"
)

// cylinderFacets is the number of sides of a mesh cylinder: 24 sides make
// 96 triangles, a 4.9 KB file.
const cylinderFacets = 24

type tri [3]vec3

// meshTriangles returns the closed, outward-wound triangle mesh of a
// geometry primitive centred on the origin (its Pos is not applied).
func meshTriangles(g Geom) []tri {
	switch g.Shape {
	case Cylinder:
		return cylinderMesh(g.Size[0], g.Size[1], g.Axis)
	case Sphere:
		return boxMesh(vec3{g.Size[0] * 2, g.Size[0] * 2, g.Size[0] * 2})
	default:
		return boxMesh(g.Size)
	}
}

func boxMesh(size vec3) []tri {
	hx, hy, hz := size[0]/2, size[1]/2, size[2]/2
	// corner i has x sign bit 0, y bit 1, z bit 2.
	c := func(i int) vec3 {
		v := vec3{-hx, -hy, -hz}
		if i&1 != 0 {
			v[0] = hx
		}
		if i&2 != 0 {
			v[1] = hy
		}
		if i&4 != 0 {
			v[2] = hz
		}
		return v
	}
	// Each face as a counter-clockwise quad seen from outside.
	quads := [6][4]int{
		{1, 3, 7, 5}, // +x
		{0, 4, 6, 2}, // -x
		{2, 6, 7, 3}, // +y
		{0, 1, 5, 4}, // -y
		{4, 5, 7, 6}, // +z
		{0, 2, 3, 1}, // -z
	}
	out := make([]tri, 0, 12)
	for _, q := range quads {
		out = append(out, tri{c(q[0]), c(q[1]), c(q[2])}, tri{c(q[0]), c(q[2]), c(q[3])})
	}
	return out
}

// cylinderMesh is a faceted cylinder of radius r and length h along axis.
func cylinderMesh(r, h float64, axis Axis) []tri {
	// Build along Z, then permute coordinates so Z lands on axis while
	// keeping a right-handed frame (cyclic permutation keeps the winding).
	place := func(v vec3) vec3 {
		switch axis {
		case X: // (x,y,z) -> (z,x,y)
			return vec3{v[2], v[0], v[1]}
		case Y: // (x,y,z) -> (y,z,x)
			return vec3{v[1], v[2], v[0]}
		}
		return v
	}
	n := cylinderFacets
	top, bot := vec3{0, 0, h / 2}, vec3{0, 0, -h / 2}
	out := make([]tri, 0, 4*n)
	// Rim points by index, so the last facet closes on the very first
	// point (cos/sin of 2π are not exactly those of 0).
	rim := func(i int) vec3 {
		a := 2 * math.Pi * float64(i%n) / float64(n)
		return vec3{r * math.Cos(a), r * math.Sin(a), 0}
	}
	for i := range n {
		p0, p1 := rim(i), rim(i+1)
		t0, t1 := p0.add(top), p1.add(top)
		b0, b1 := p0.add(bot), p1.add(bot)
		out = append(out,
			tri{place(top), place(t0), place(t1)},
			tri{place(bot), place(b1), place(b0)},
			tri{place(b0), place(b1), place(t1)},
			tri{place(b0), place(t1), place(t0)},
		)
	}
	return out
}

func sub(a, b vec3) vec3 { return vec3{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }

func cross(a, b vec3) vec3 {
	return vec3{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

// encodeSTL writes triangles as a binary STL: an 80-byte header (which must
// not begin with "solid", or readers take it for ASCII STL), a uint32
// triangle count, then per triangle the unit normal, three vertices and a
// zero attribute word, all little-endian float32.
func encodeSTL(name string, tris []tri) []byte {
	buf := make([]byte, 84+50*len(tris))
	copy(buf, "gizmo procgen mesh "+name)
	binary.LittleEndian.PutUint32(buf[80:], uint32(len(tris)))
	off := 84
	put := func(v vec3) {
		for _, c := range v {
			binary.LittleEndian.PutUint32(buf[off:], math.Float32bits(float32(c)))
			off += 4
		}
	}
	for _, t := range tris {
		n := cross(sub(t[1], t[0]), sub(t[2], t[0]))
		l := math.Sqrt(n[0]*n[0] + n[1]*n[1] + n[2]*n[2])
		if l > 0 {
			n = vec3{n[0] / l, n[1] / l, n[2] / l}
		}
		put(n)
		put(t[0])
		put(t[1])
		put(t[2])
		off += 2
	}
	return buf
}
