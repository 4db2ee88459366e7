package mjcf

import (
	"math"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/validate"
)

// bodyInfo is what the mass checks need of one body.
type bodyInfo struct {
	elem     *etree.Element
	parent   *bodyInfo
	children []*bodyInfo
	joints   []*etree.Element // joint and freejoint, frames dissolved
	geoms    []*etree.Element
	inertial *etree.Element   // the last <inertial>
	earlier  []*etree.Element // <inertial>s before it (only inside frames)
	moving   bool             // this body or an ancestor has a joint
	mass     float64
	inertia  float64 // smallest principal inertia (approximate for geoms)
}

var orientAttrs = []string{"quat", "axisangle", "xyaxes", "zaxis", "euler"}

func (c *checker) worldbody(wb *etree.Element) {
	if len(wb.Attr) > 0 {
		c.m.errorf(wb, "mjcf-worldbody", "world body cannot have attributes (found '%s'); move them to a <body> or <frame>", wb.Attr[0].Key)
	}
	world := &bodyInfo{elem: wb}
	c.collectBody(world, wb)
	for _, j := range world.joints {
		c.m.errorf(j, "mjcf-worldbody", "world body cannot have joints: put the <%s> in a <body>", j.Tag)
	}
	if world.inertial != nil {
		c.m.errorf(world.inertial, "mjcf-worldbody", "world body cannot have inertia: remove the <inertial> or put it in a <body>")
	}
	for _, b := range world.children {
		c.body(b, 1)
	}
	for _, g := range world.geoms {
		c.geom(g, world)
	}
	c.reportMassless()
}

// collectBody gathers the joints, geoms and child bodies of body e into b,
// looking through frames as MuJoCo dissolves them.
func (c *checker) collectBody(b *bodyInfo, e *etree.Element) {
	for k := range e.ChildElementsSeq() {
		if c.bad[k] {
			continue
		}
		c.orientation(k)
		switch k.Tag {
		case "frame":
			if a := k.SelectAttr("childclass"); a != nil {
				c.childclass(k, a.Value)
			}
			c.collectBody(b, k)
		case "replicate", "attach":
			// compose expanded them; what is left could not be (and is
			// reported).
		case "composite", "flexcomp":
			c.complex = true
			if k.Tag == "flexcomp" && !c.flexNoted {
				c.flexNoted = true
				c.m.report.NotChecked = append(c.m.report.NotChecked, "flexcomp contents (counts, points, elements) not checked")
			}
			if v, ok := c.nums(k, "point"); k.Tag == "flexcomp" && ok && len(v)%3 != 0 {
				c.m.errorf(k, "mjcf-flexcomp", "point data must be a multiple of 3 (got %d numbers)", len(v))
			}
			if k.Tag == "flexcomp" && b.elem.Tag == "body" && b.elem.SelectAttrValue("name", "") == "" {
				c.m.errorf(k, "mjcf-flexcomp", "a flexcomp's parent body must have a name")
			}
			if k.Tag == "composite" {
				c.composite(k)
			}
		case "joint", "freejoint":
			b.joints = append(b.joints, k)
		case "geom":
			b.geoms = append(b.geoms, k)
		case "site", "camera", "light":
			c.classRef(k)
			c.ref(k, "material", "material", true)
			if k.Tag != "site" {
				c.ref(k, "target", "body", false)
			}
			if k.Tag == "light" {
				c.ref(k, "texture", "texture", false)
			}
			switch k.Tag {
			case "site":
				c.siteCheck(k)
			case "camera":
				c.camera(k)
			case "light":
				c.light(k)
			}
		case "inertial":
			if b.inertial != nil {
				b.earlier = append(b.earlier, b.inertial)
			}
			b.inertial = k
			c.inertialForm(k)
		case "body":
			child := &bodyInfo{elem: k, parent: b}
			b.children = append(b.children, child)
		}
	}
}

func (c *checker) childclass(e *etree.Element, name string) {
	if _, ok := c.classes[name]; !ok {
		c.m.errorf(e, "mjcf-default", "unknown default childclass '%s'; define it in <default>", name)
	}
}

// orientation refuses more than one orientation form on one element, and
// degenerate axes (MuJoCo's frame alternatives need non-zero vectors).
func (c *checker) orientation(e *etree.Element) {
	n := 0
	for _, a := range orientAttrs {
		if e.SelectAttr(a) != nil {
			n++
		}
	}
	if n > 1 && e.Tag != "composite" {
		c.m.errorf(e, "mjcf-orientation", "multiple orientation specifiers on <%s>: use one of quat, axisangle, xyaxes, zaxis, euler", e.Tag)
		return
	}
	norm := func(v []float64) float64 { return math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]) }
	const eps = 1e-14
	bad := ""
	if v, ok := c.numsOf(e, "axisangle"); ok && len(v) == 4 && norm(v) < eps {
		bad = "axisangle too small"
	}
	if v, ok := c.numsOf(e, "zaxis"); ok && len(v) == 3 && norm(v) < eps {
		bad = "zaxis too small"
	}
	if v, ok := c.numsOf(e, "xyaxes"); ok && len(v) == 6 {
		x, y := v[:3], v[3:]
		if nx := norm(x); nx < eps {
			bad = "xaxis too small"
		} else {
			d := (x[0]*y[0] + x[1]*y[1] + x[2]*y[2]) / (nx * nx)
			yo := []float64{y[0] - d*x[0], y[1] - d*x[1], y[2] - d*x[2]}
			if norm(yo) < eps {
				bad = "yaxis too small"
			}
		}
	}
	if bad != "" {
		c.m.errorf(e, "mjcf-orientation", "orientation error '%s' in <%s>: give non-zero, non-parallel axes", bad, e.Tag)
	}
}

func (c *checker) body(b *bodyInfo, depth int) {
	e := b.elem
	if a := e.SelectAttr("childclass"); a != nil {
		c.childclass(e, a.Value)
	}
	c.collectBody(b, e)
	c.bodies = append(c.bodies, e)
	if e.SelectAttrValue("mocap", "false") == "true" {
		c.nmocap++
		if depth != 1 {
			c.m.errorf(e, "mjcf-mocap", "mocap body must be a child of the world body")
		}
		if len(b.joints) > 0 {
			c.m.errorf(e, "mjcf-mocap", "mocap body cannot have joints")
		}
	}
	b.moving = len(b.joints) > 0 || (b.parent != nil && b.parent.moving)
	for _, j := range b.joints {
		c.joint(j, b, depth)
	}
	c.jointLayout(b)
	for _, g := range b.geoms {
		c.geom(g, b)
	}
	c.inertial(b)
	for _, k := range b.children {
		c.body(k, depth+1)
	}
	c.massCheck(b)
}

func (c *checker) jointType(j *etree.Element) string {
	if j.Tag == "freejoint" {
		return "free"
	}
	return c.attrOr(j, "type", "hinge")
}

func (c *checker) joint(j *etree.Element, b *bodyInfo, depth int) {
	if j.Tag == "joint" {
		c.classRef(j)
	}
	typ := c.jointType(j)
	switch typ {
	case "free":
		c.nq, c.nv = c.nq+7, c.nv+6
		if depth != 1 {
			c.m.errorf(j, "mjcf-freejoint", "free joint can only be used on top level: its body must be a direct child of <worldbody>")
		}
		return
	case "ball":
		c.nq, c.nv = c.nq+4, c.nv+3
	case "hinge", "slide":
		c.nq, c.nv = c.nq+1, c.nv+1
	default:
		return // invalid keyword, reported by the schema pass
	}
	if typ == "hinge" || typ == "slide" {
		if ax, ok := c.numsOf(j, "axis"); ok && len(ax) == 3 {
			if ax[0]*ax[0]+ax[1]*ax[1]+ax[2]*ax[2] < 1e-14 {
				c.m.errorf(j, "mjcf-axis", "axis too small in joint: give a non-zero axis")
			}
		}
	}
	if typ == "hinge" || typ == "slide" {
		fl := c.attrOr(j, "actuatorfrclimited", "auto")
		fr, ok := c.numsOf(j, "actuatorfrcrange")
		if !ok || len(fr) != 2 {
			fr = []float64{0, 0}
		}
		has := !(fr[0] == 0 && fr[1] == 0)
		switch {
		case fl == "auto" && has && !c.comp.autolimits:
			c.m.errorf(j, "mjcf-limited", "joint has 'actuatorfrcrange' but not 'actuatorfrclimited': set it, or compiler autolimits=\"true\"")
		case fl == "true" && fr[0] >= fr[1]:
			c.m.errorf(j, "mjcf-range", "actfrcrange[0] should be smaller than actfrcrange[1] in joint (got %g %g)", fr[0], fr[1])
		}
	}
	limited := c.attrOr(j, "limited", "auto")
	rng, ok := c.numsOf(j, "range")
	if !ok || len(rng) != 2 {
		rng = []float64{0, 0}
	}
	hasRange := !(rng[0] == 0 && rng[1] == 0)
	if limited == "auto" && hasRange && !c.comp.autolimits {
		c.m.errorf(j, "mjcf-limited", "joint has 'range' but not 'limited': set limited=\"true\" or \"false\", or compiler autolimits=\"true\"")
		return
	}
	isLimited := limited == "true" || (limited == "auto" && rng[0] < rng[1])
	if !isLimited {
		if limited == "auto" && hasRange && typ != "ball" {
			c.m.warnf(j, "mjcf-range", "joint range %g %g is not increasing, so MuJoCo leaves the joint unlimited; swap the bounds", rng[0], rng[1])
		}
		return
	}
	if typ != "ball" && rng[0] >= rng[1] {
		c.m.errorf(j, "mjcf-range", "range[0] should be smaller than range[1] in joint (got %g %g)", rng[0], rng[1])
	}
	if typ == "ball" && rng[0] != 0 {
		c.m.errorf(j, "mjcf-range", "range[0] should be 0 in ball joint (got %g)", rng[0])
	}
}

// jointLayout applies MuJoCo's per-body joint rules: at most 6 dofs, and no
// rotation after a ball joint.
func (c *checker) jointLayout(b *bodyInfo) {
	dofs := 0
	ball := false
	for _, j := range b.joints {
		switch t := c.jointType(j); t {
		case "free":
			dofs += 6
		case "ball":
			if ball {
				c.m.errorf(j, "mjcf-joint-layout", "ball followed by rotation in body: a ball joint must be the body's last rotational joint")
			}
			dofs += 3
			ball = true
		case "hinge":
			if ball {
				c.m.errorf(j, "mjcf-joint-layout", "ball followed by rotation in body: a ball joint must be the body's last rotational joint")
			}
			dofs++
		case "slide":
			dofs++
		}
	}
	if dofs > 6 {
		c.m.errorf(b.elem, "mjcf-joint-layout", "more than 6 dofs in body (%d): split the joints over several bodies", dofs)
	}
}

func (c *checker) siteCheck(s *etree.Element) {
	typ := c.attrOr(s, "type", "sphere")
	if typ == "mesh" || typ == "hfield" || typ == "plane" {
		c.m.errorf(s, "mjcf-site", "meshes, hfields and planes not allowed in site (type %s)", typ)
	}
	if s.SelectAttr("fromto") != nil {
		switch typ {
		case "capsule", "cylinder", "box", "ellipsoid":
		default:
			c.m.errorf(s, "mjcf-fromto", "fromto requires capsule, cylinder, box or ellipsoid in site, not %s", typ)
		}
	}
}

var validCondim = map[int]bool{1: true, 3: true, 4: true, 6: true}

func (c *checker) geom(g *etree.Element, b *bodyInfo) {
	c.classRef(g)
	typ := c.attrOr(g, "type", "sphere")
	c.ref(g, "material", "material", true)
	c.ref(g, "mesh", "mesh", true)
	c.ref(g, "hfield", "hfield", true)
	if cd, ok := c.numsOf(g, "condim"); ok && !validCondim[int(cd[0])] {
		c.m.errorf(g, "mjcf-condim", "invalid condim %g in geom: use 1, 3, 4 or 6", cd[0])
	}
	ft, _ := c.numsOf(g, "fromto")
	hasFromto := len(ft) == 6
	if _, hasPos := c.attr(g, "pos"); hasFromto && hasPos {
		c.m.errorf(g, "mjcf-fromto", "both pos and fromto defined in geom: fromto sets the position, drop pos")
	}
	if hasFromto {
		switch typ {
		case "capsule", "cylinder", "box", "ellipsoid":
		default:
			c.m.errorf(g, "mjcf-fromto", "fromto requires capsule, cylinder, box or ellipsoid in geom, not %s", typ)
		}
	}
	switch typ {
	case "mesh", "sdf":
		if v, _ := c.attr(g, "mesh"); v == "" && (typ == "mesh" || len(g.SelectElements("plugin")) == 0) {
			c.m.errorf(g, "mjcf-geom", "%s geom has no mesh: set the mesh attribute", typ)
		}
		if typ == "mesh" && c.attrOr(g, "shellinertia", "false") == "true" {
			c.m.errorf(g, "mjcf-geom", "for mesh geoms, inertia should be specified in the mesh asset (<mesh inertia=\"shell\">), not with shellinertia")
		}
	case "hfield":
		if v, _ := c.attr(g, "hfield"); v == "" {
			c.m.errorf(g, "mjcf-geom", "hfield geom has no hfield: set the hfield attribute")
		}
	}
	if typ == "plane" && b.moving {
		c.m.errorf(g, "mjcf-plane", "plane only allowed in static bodies: this body or an ancestor has a joint")
	}
	size, _ := c.numsOf(g, "size")
	sz := func(i int) float64 {
		if i < len(size) {
			return size[i]
		}
		return 0
	}
	for _, v := range size {
		if math.IsNaN(v) {
			c.m.errorf(g, "mjcf-size", "nan size in geom: give numbers")
			break
		}
	}
	_, hasMesh := c.attr(g, "mesh")
	need := 0
	switch typ {
	case "sphere":
		need = 1
	case "capsule", "cylinder":
		need = 2
		if hasFromto {
			need = 1
		}
	case "ellipsoid", "box":
		need = 3
		if hasFromto && typ == "ellipsoid" || hasFromto && typ == "box" {
			need = 2
		}
	case "plane":
		if sz(2) <= 0 {
			c.m.errorf(g, "mjcf-size", "plane size(3) must be positive (the grid spacing)")
		}
	}
	if !hasMesh || typ == "mesh" {
		for i := 0; i < need; i++ {
			if sz(i) <= 0 {
				c.m.errorf(g, "mjcf-size", "size[%d] must be positive in geom of type %s (size=%q)", i, typ, c.attrOr(g, "size", ""))
				break
			}
		}
	}
	mass, hasMass := c.numsOf(g, "mass")
	dens, hasDens := c.numsOf(g, "density")
	if (hasMass && mass[0] < 0) || (hasDens && dens[0] < 0 && !hasMass) {
		c.m.errorf(g, "mjcf-mass", "mass, inertia or density are negative in geom")
	}
}

// geomMass estimates the mass a geom adds to its body (0 when it adds none).
func (c *checker) geomMass(g *etree.Element) float64 {
	grp := 0.0
	if v, ok := c.numsOf(g, "group"); ok {
		grp = v[0]
	}
	if int(grp) < c.comp.grouplo || int(grp) > c.comp.grouphi {
		return 0
	}
	if m, ok := c.numsOf(g, "mass"); ok {
		return m[0]
	}
	dens := 1000.0
	if d, ok := c.numsOf(g, "density"); ok {
		dens = d[0]
	}
	typ := c.attrOr(g, "type", "sphere")
	size, _ := c.numsOf(g, "size")
	sz := func(i int) float64 {
		if i < len(size) {
			return size[i]
		}
		return 0
	}
	var vol float64
	switch typ {
	case "plane":
		vol = 0
	case "sphere":
		vol = 4.0 / 3 * math.Pi * sz(0) * sz(0) * sz(0)
	case "capsule", "cylinder":
		h := sz(1)
		if ft, ok := c.numsOf(g, "fromto"); ok && len(ft) == 6 {
			dx, dy, dz := ft[3]-ft[0], ft[4]-ft[1], ft[5]-ft[2]
			h = math.Sqrt(dx*dx+dy*dy+dz*dz) / 2
		}
		vol = math.Pi * sz(0) * sz(0) * 2 * h
		if typ == "capsule" {
			vol += 4.0 / 3 * math.Pi * sz(0) * sz(0) * sz(0)
		}
	case "box":
		vol = 8 * sz(0) * sz(1) * sz(2)
	case "ellipsoid":
		vol = 4.0 / 3 * math.Pi * sz(0) * sz(1) * sz(2)
	default: // mesh, sdf, hfield: volume from data we do not read
		vol = 1
	}
	if m, _ := c.attr(g, "mesh"); m != "" && typ != "plane" && typ != "hfield" {
		vol = 1 // a primitive fitted to a mesh takes its size from the mesh
	}
	return dens * vol
}

func (c *checker) inertial(b *bodyInfo) {
	in := b.inertial
	// Several <inertial>s (MuJoCo lets them pass inside frames) are read in
	// turn into one body: each attribute keeps its last value.
	inNums := func(attr string) ([]float64, bool) {
		if v, ok := c.nums(in, attr); ok {
			return v, true
		}
		for i := len(b.earlier) - 1; i >= 0; i-- {
			if v, ok := c.nums(b.earlier[i], attr); ok {
				return v, true
			}
		}
		return nil, false
	}
	useGeoms := c.comp.inertiafromgeom == "true" || (in == nil && c.comp.inertiafromgeom == "auto")
	if in != nil {
		full, hasFull := inNums("fullinertia")
		if !useGeoms {
			m, _ := inNums("mass")
			if len(m) > 0 && !math.IsNaN(m[0]) {
				b.mass = m[0]
			}
			var ev []float64
			if d, ok := inNums("diaginertia"); ok && len(d) == 3 {
				ev = d
			} else if hasFull && len(full) == 6 {
				ev = eig3(full)
				if ev[0] < 1e-14 {
					c.m.errorf(in, "mjcf-inertia", "fullinertia must have positive eigenvalues (positive-definite matrix)")
				}
			}
			if len(ev) == 3 {
				if b.mass < 0 || ev[0] < 0 || ev[1] < 0 || ev[2] < 0 {
					c.m.warnf(in, "mjcf-mass", "negative mass or inertia: MuJoCo clamps it to zero; give physical values")
				}
				for i := range ev {
					ev[i] = math.Max(ev[i], c.comp.boundinertia)
				}
				if !c.comp.balanceinertia && (ev[0]+ev[1] < ev[2] || ev[0]+ev[2] < ev[1] || ev[1]+ev[2] < ev[0]) {
					c.m.errorf(in, "mjcf-inertia", "inertia must satisfy A + B >= C (got %g %g %g); fix the values or set compiler balanceinertia=\"true\"", ev[0], ev[1], ev[2])
				}
				b.inertia = math.Min(ev[0], math.Min(ev[1], ev[2]))
			}
			b.mass = math.Max(b.mass, c.comp.boundmass)
			if b.mass < 0 {
				b.mass = 0
			}
			return
		}
	}
	if !useGeoms {
		b.mass = c.comp.boundmass
		b.inertia = c.comp.boundinertia
		return
	}
	for _, g := range b.geoms {
		m := c.geomMass(g)
		if m > 0 || math.IsNaN(m) {
			b.mass += m // NaN propagates, and passes MuJoCo's "< mjMINVAL" test
		}
	}
	if b.mass > 0 || math.IsNaN(b.mass) {
		b.inertia = 1 // geoms with volume give positive inertia
	}
	b.mass = math.Max(b.mass, c.comp.boundmass)
	b.inertia = math.Max(b.inertia, c.comp.boundinertia)
}

// massCheck refuses a moving body (one with joints) without mass or inertia,
// unless static descendants carry it, as MuJoCo's compiler does.
func (c *checker) massCheck(b *bodyInfo) {
	if len(b.joints) == 0 {
		return
	}
	if !(b.mass < mjMINVAL) && !(b.inertia < mjMINVAL) {
		return
	}
	var rescue func(x *bodyInfo) bool
	rescue = func(x *bodyInfo) bool {
		for _, k := range x.children {
			if len(k.joints) > 0 {
				continue
			}
			if k.mass >= mjMINVAL && k.inertia >= mjMINVAL {
				return true
			}
			if rescue(k) {
				return true
			}
		}
		return false
	}
	if rescue(b) {
		return
	}
	c.massless[b.elem] = true
}

// reportMassless reports the bodies massCheck refused in body order, the
// order MuJoCo's compiler meets them (massCheck sees children first).
func (c *checker) reportMassless() {
	for _, e := range c.bodies {
		if c.massless[e] {
			delete(c.massless, e)
			c.m.errorf(e, "mjcf-mass", "mass and inertia of moving bodies must be larger than mjMINVAL: give the body an <inertial> or geoms with mass")
		}
	}
}

// eig3 returns the eigenvalues, ascending, of the symmetric matrix given as
// MuJoCo's fullinertia: ixx iyy izz ixy ixz iyz.
func eig3(f []float64) []float64 {
	ev := validate.EigenSym3(f[0], f[1], f[2], f[3], f[4], f[5])
	return ev[:]
}

// inertialForm refuses an <inertial> with both inertia forms, or a full
// inertia with an orientation.
func (c *checker) inertialForm(in *etree.Element) {
	_, diag := c.nums(in, "diaginertia")
	_, full := c.nums(in, "fullinertia")
	if full && diag {
		c.m.errorf(in, "mjcf-inertia", "fullinertia and diaginertia cannot both be specified; keep one")
	}
	if full {
		for _, a := range orientAttrs {
			if in.SelectAttr(a) != nil {
				c.m.errorf(in, "mjcf-inertia", "fullinertia and inertial orientation (%s) cannot both be specified", a)
				break
			}
		}
	}
}
