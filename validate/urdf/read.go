package urdf

import (
	"fmt"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/validate"
)

// readMaterials mirrors the top-level <material> loop of urdfdom's parseURDF.
func (m *model) readMaterials() {
	for _, el := range children(m.robot, "material") {
		name, ok := attr(el, "name")
		if !ok {
			m.errorf(el, "urdf-material", "<material> has no name attribute; add name=\"...\"")
		} else {
			m.parseMaterial(el, name, false)
		}
		if m.materials[name] {
			m.errorf(el, "urdf-material-duplicate", "material %q is defined twice; urdfdom refuses the file: rename or remove one", name)
			m.fatal = true
			continue
		}
		m.materials[name] = true
	}
}

// parseMaterial checks a material's color and texture. Top-level materials
// (inline false) must have an rgba color or a texture file; inline ones in a
// <visual> may be a bare reference by name. It reports whether the
// material defines a color or texture.
func (m *model) parseMaterial(el *etree.Element, name string, inline bool) bool {
	hasTexture := false
	if t := child(el, "texture"); t != nil {
		if _, ok := attr(t, "filename"); ok {
			hasTexture = true
		}
	}
	hasRGB, badRGB := false, false
	if c := child(el, "color"); c != nil {
		if v, ok := attr(c, "rgba"); ok {
			switch res, msg := parseColor(v); res {
			case colorBad:
				badRGB = true
				m.errorf(c, "urdf-material-color", "material %q: rgba %q: %s; give four numbers between 0 and 1", name, v, msg)
			case colorNotFour:
				hasRGB = true
				sev := validate.Warning
				if m.opts.Target == validate.TargetMuJoCo {
					sev = validate.Error // MuJoCo: "attribute 'rgba' does not have enough data"
				}
				m.add(sev, c, "urdf-material-color", "material %q: rgba %q %s; urdfdom ignores it and uses the default color, MuJoCo refuses it: give r g b a", name, v, msg)
			default:
				hasRGB = true
			}
		}
	}
	if !hasRGB && !hasTexture {
		if !inline && !badRGB {
			m.errorf(el, "urdf-material-color", "material %q has neither <color rgba> nor <texture filename>; urdfdom logs an error: give it a color", name)
		}
		return false
	}
	return true
}

// readLinks mirrors the <link> loop: parseLink's errors are logged (an error
// here) but the link is kept; a repeated name is fatal.
func (m *model) readLinks() {
	els := children(m.robot, "link")
	m.linkByName = make(map[string]*link, len(els))
	m.links = make([]*link, 0, len(els))
	slab := make([]link, len(els)) // one allocation, not one per link
	for i, el := range els {
		l := &slab[i]
		l.el = el
		name, ok := attr(el, "name")
		if !ok {
			m.errorf(el, "urdf-link-name", "<link> has no name attribute; add name=\"...\"")
		} else {
			l.name = name
			m.readLink(l)
		}
		if _, dup := m.linkByName[l.name]; dup {
			m.errorf(el, "urdf-link-duplicate", "link %q is defined twice; urdfdom refuses the file: link names must be unique", l.name)
			m.fatal = true
			continue
		}
		m.linkByName[l.name] = l
		m.links = append(m.links, l)
	}
	if len(els) == 0 {
		m.errorf(m.robot, "urdf-no-links", "the robot has no <link>; urdfdom refuses a URDF without links")
		m.fatal = true
	}
}

func (m *model) readLink(l *link) {
	if el := child(l.el, "inertial"); el != nil {
		l.inertial = m.readInertial(l, el)
	}
	for _, v := range children(l.el, "visual") {
		m.readVisual(l, v, true)
	}
	for _, c := range children(l.el, "collision") {
		m.readVisual(l, c, false)
	}
}

// ownerName names what a message is about (`link "a" visual`, `joint
// "j"`); it is formatted, as a fmt.Stringer, only when a message is made.
type ownerName struct {
	kind, name, part string
}

func (o ownerName) String() string {
	if o.part == "" {
		return fmt.Sprintf("%s %q", o.kind, o.name)
	}
	return fmt.Sprintf("%s %q %s", o.kind, o.name, o.part)
}

func (m *model) readPose(owner ownerName, el *etree.Element) bool {
	ok := true
	for _, key := range []string{"xyz", "rpy"} {
		if v, has := attr(el, key); has {
			if _, err := parseVec3(v); err != nil {
				m.errorf(el, "urdf-number", "%s: <origin %s=%q>: %v", owner, key, v, err)
				ok = false
			}
		}
	}
	return ok
}

func (m *model) readInertial(l *link, el *etree.Element) *inertial {
	in := &inertial{el: el}
	owner := ownerName{"link", l.name, "inertial"}
	if o := child(el, "origin"); o != nil {
		m.readPose(owner, o)
	}
	ok := true
	if mass := child(el, "mass"); mass == nil {
		m.errorf(el, "urdf-inertial", "%s has no <mass>; add <mass value=\"...\"/>", owner)
		ok = false
	} else if v, has := attr(mass, "value"); !has {
		m.errorf(mass, "urdf-inertial", "%s: <mass> has no value attribute", owner)
		ok = false
	} else if f, good := parseDouble(v); !good {
		m.errorf(mass, "urdf-number", "%s: mass %q is not a number%s", owner, v, hint(v))
		ok = false
	} else {
		in.mass = f
	}
	inertia := child(el, "inertia")
	if inertia == nil {
		m.errorf(el, "urdf-inertial", "%s has no <inertia>; add <inertia ixx=\"\" ixy=\"\" ixz=\"\" iyy=\"\" iyz=\"\" izz=\"\"/>", owner)
		return in
	}
	dst := []*float64{&in.ixx, &in.ixy, &in.ixz, &in.iyy, &in.iyz, &in.izz}
	for i, key := range []string{"ixx", "ixy", "ixz", "iyy", "iyz", "izz"} {
		v, has := attr(inertia, key)
		if !has {
			m.errorf(inertia, "urdf-inertial", "%s: <inertia> has no %s attribute; give all six of ixx ixy ixz iyy iyz izz", owner, key)
			ok = false
			continue
		}
		f, good := parseDouble(v)
		if !good {
			m.errorf(inertia, "urdf-number", "%s: %s %q is not a number%s", owner, key, v, hint(v))
			ok = false
			continue
		}
		*dst[i] = f
	}
	in.ok = ok
	return in
}

// readVisual checks a <visual> (visual true) or <collision>.
func (m *model) readVisual(l *link, el *etree.Element, visual bool) {
	kind := "collision"
	if visual {
		kind = "visual"
	}
	owner := ownerName{"link", l.name, kind}
	if o := child(el, "origin"); o != nil {
		m.readPose(owner, o)
	}
	g := child(el, "geometry")
	if g == nil {
		m.errorf(el, "urdf-geometry", "%s has no <geometry>; urdfdom cannot read it", owner)
	} else {
		m.readGeometry(l, owner, g, visual)
	}
	if !visual {
		return
	}
	mat := child(el, "material")
	if mat == nil {
		return
	}
	name, ok := attr(mat, "name")
	if !ok {
		m.errorf(mat, "urdf-material", "%s: <material> has no name attribute; add name=\"...\"", owner)
		return
	}
	defined := m.parseMaterial(mat, name, true)
	if name == "" {
		return
	}
	if m.materials[name] {
		return
	}
	if defined {
		m.materials[name] = true
		return
	}
	m.warnf(mat, "urdf-material-undefined", "%s uses material %q, which is not defined (yet): define it at the top of the file with <material name=%q><color rgba=\"r g b a\"/></material>", owner, name, name)
}

func (m *model) readGeometry(l *link, owner ownerName, g *etree.Element, visual bool) {
	shapes := g.ChildElements()
	if len(shapes) == 0 {
		m.errorf(g, "urdf-geometry", "%s: <geometry> is empty; give it a <box>, <cylinder>, <sphere> or <mesh>", owner)
		return
	}
	s := shapes[0]
	num := func(key string) (float64, bool) {
		v, has := attr(s, key)
		if !has {
			return 0, false
		}
		f, ok := parseDouble(v)
		if !ok {
			m.errorf(s, "urdf-number", "%s: <%s %s=%q>: not a number%s", owner, s.Tag, key, v, hint(v))
			return 0, false
		}
		return f, true
	}
	positive := func(key string, f float64) {
		if f <= 0 {
			m.warnf(s, "urdf-geometry-size", "%s: <%s %s=\"%g\">: sizes must be positive; simulators drop or misbehave on this shape", owner, s.Tag, key, f)
		}
	}
	tag := s.FullTag()
	switch tag {
	case "sphere":
		if _, has := attr(s, "radius"); !has {
			m.errorf(s, "urdf-geometry", "%s: <sphere> has no radius attribute", owner)
		} else if f, ok := num("radius"); ok {
			positive("radius", f)
		}
	case "box":
		v, has := attr(s, "size")
		if !has {
			m.errorf(s, "urdf-geometry", "%s: <box> has no size attribute; add size=\"x y z\"", owner)
			return
		}
		size, err := parseVec3(v)
		if err != nil {
			m.errorf(s, "urdf-number", "%s: <box size=%q>: %v", owner, v, err)
			return
		}
		for i, f := range size {
			positive([]string{"size x", "size y", "size z"}[i], f)
		}
	case "cylinder":
		_, hasL := attr(s, "length")
		_, hasR := attr(s, "radius")
		if !hasL || !hasR {
			m.errorf(s, "urdf-geometry", "%s: <cylinder> needs both length and radius", owner)
			return
		}
		if f, ok := num("length"); ok {
			positive("length", f)
		} else {
			return
		}
		if f, ok := num("radius"); ok {
			positive("radius", f)
		}
	case "mesh":
		fn, has := attr(s, "filename")
		if !has {
			m.errorf(s, "urdf-geometry", "%s: <mesh> has no filename attribute", owner)
			return
		}
		if v, has := attr(s, "scale"); has {
			if _, err := parseVec3(v); err != nil {
				m.errorf(s, "urdf-number", "%s: <mesh scale=%q>: %v", owner, v, err)
			}
		}
		l.meshes = append(l.meshes, mesh{el: s, filename: fn, visual: visual})
	default:
		extra := ""
		if tag == "capsule" {
			extra = " (Isaac Sim and PyBullet read <capsule>, but urdfdom and ROS tools do not: use a cylinder or a mesh)"
		}
		m.errorf(s, "urdf-geometry", "%s: unknown geometry <%s>; URDF knows box, cylinder, sphere and mesh%s", owner, tag, extra)
	}
}

var jointTypes = map[string]bool{"revolute": true, "continuous": true, "prismatic": true, "fixed": true, "floating": true, "planar": true}

// readJoints mirrors the <joint> loop: any error in a joint is fatal.
func (m *model) readJoints() {
	els := children(m.robot, "joint")
	m.jointByName = make(map[string]*joint, len(els))
	for _, el := range els {
		j, ok := m.readJoint(el)
		if !ok {
			m.fatal = true
			continue
		}
		if _, dup := m.jointByName[j.name]; dup {
			m.errorf(el, "urdf-joint-duplicate", "joint %q is defined twice; urdfdom refuses the file: joint names must be unique", j.name)
			m.fatal = true
			continue
		}
		m.jointByName[j.name] = j
		m.joints = append(m.joints, j)
	}
}

func (m *model) readJoint(el *etree.Element) (*joint, bool) {
	j := &joint{el: el}
	ok := true
	name, has := attr(el, "name")
	if !has {
		m.errorf(el, "urdf-joint-name", "<joint> has no name attribute; add name=\"...\" (urdfdom refuses the file)")
		ok = false
	}
	j.name = name
	owner := ownerName{"joint", name, ""}
	if o := child(el, "origin"); o != nil {
		if !m.readPose(owner, o) {
			ok = false
		}
	}
	if p := child(el, "parent"); p != nil {
		j.parent, _ = attr(p, "link")
	}
	if c := child(el, "child"); c != nil {
		j.child, _ = attr(c, "link")
	}
	typ, has := attr(el, "type")
	j.typ = typ
	if !has {
		m.errorf(el, "urdf-joint-type", "%s has no type; give type=\"revolute|continuous|prismatic|fixed|floating|planar\"", owner)
		return j, false
	}
	if !jointTypes[typ] {
		extra := ""
		if typ == "spherical" || typ == "ball" {
			extra = " (Isaac Sim's importer reads spherical, urdfdom does not)"
		}
		m.errorf(el, "urdf-joint-type", "%s has unknown type %q; URDF joint types are revolute, continuous, prismatic, fixed, floating and planar%s", owner, typ, extra)
		return j, false
	}
	if typ != "fixed" && typ != "floating" {
		j.axis = [3]float64{1, 0, 0}
		if a := child(el, "axis"); a != nil {
			j.axis = [3]float64{}
			if v, has := attr(a, "xyz"); has {
				ax, err := parseVec3(v)
				if err != nil {
					m.errorf(a, "urdf-number", "%s: <axis xyz=%q>: %v", owner, v, err)
					ok = false
				}
				j.axis = ax
			}
			j.hasAxis = true
			if j.axis == [3]float64{} && ok {
				m.warnf(a, "urdf-axis-zero", "%s has a zero axis; urdfdom accepts it but the joint cannot move: give a unit vector like xyz=\"0 0 1\"", owner)
			}
		}
	}
	if lim := child(el, "limit"); lim != nil {
		if !m.readLimit(j, owner, lim) {
			ok = false
		}
	} else if typ == "revolute" || typ == "prismatic" {
		m.errorf(el, "urdf-joint-limit", "%s is %s but has no <limit>; add <limit lower=\"...\" upper=\"...\" effort=\"...\" velocity=\"...\"/> (urdfdom refuses the file)", owner, typ)
		ok = false
	}
	if s := child(el, "safety_controller"); s != nil {
		for _, key := range []string{"soft_lower_limit", "soft_upper_limit", "k_position", "k_velocity"} {
			v, has := attr(s, key)
			if !has {
				if key == "k_velocity" {
					m.errorf(s, "urdf-joint-safety", "%s: <safety_controller> has no k_velocity, which urdfdom requires", owner)
					ok = false
				}
				continue
			}
			if _, good := parseDouble(v); !good {
				m.errorf(s, "urdf-number", "%s: <safety_controller %s=%q>: not a number%s", owner, key, v, hint(v))
				ok = false
			}
		}
	}
	if c := child(el, "calibration"); c != nil {
		ok = m.optionalNumbers(c, owner, "rising", "falling") && ok
	}
	if mi := child(el, "mimic"); mi != nil {
		if v, has := attr(mi, "joint"); !has {
			m.errorf(mi, "urdf-joint-mimic", "%s: <mimic> has no joint attribute; name the joint to mimic", owner)
			ok = false
		} else {
			j.mimic, j.mimicEl = v, mi
		}
		ok = m.optionalNumbers(mi, owner, "multiplier", "offset") && ok
	}
	if d := child(el, "dynamics"); d != nil {
		_, hasD := attr(d, "damping")
		_, hasF := attr(d, "friction")
		ok = m.optionalNumbers(d, owner, "damping", "friction") && ok
		if !hasD && !hasF {
			m.errorf(d, "urdf-joint-dynamics", "%s: <dynamics> has neither damping nor friction; give one or drop the element (urdfdom refuses the file)", owner)
			ok = false
		}
	}
	return j, ok
}

// optionalNumbers reports, as urdfdom refuses them, attributes of el among
// keys that are present but not numbers. It returns false if any was bad.
func (m *model) optionalNumbers(el *etree.Element, owner ownerName, keys ...string) bool {
	ok := true
	for _, key := range keys {
		if v, has := attr(el, key); has {
			if _, good := parseDouble(v); !good {
				m.errorf(el, "urdf-number", "%s: <%s %s=%q>: not a number%s", owner, el.Tag, key, v, hint(v))
				ok = false
			}
		}
	}
	return ok
}

func (m *model) readLimit(j *joint, owner ownerName, lim *etree.Element) bool {
	ok := true
	for _, key := range []string{"lower", "upper", "effort", "velocity"} {
		v, has := attr(lim, key)
		if !has {
			if key == "effort" || key == "velocity" {
				m.errorf(lim, "urdf-joint-limit", "%s: <limit> has no %s attribute, which urdfdom requires", owner, key)
				ok = false
			}
			continue
		}
		f, good := parseDouble(v)
		if !good {
			m.errorf(lim, "urdf-number", "%s: <limit %s=%q>: not a number%s", owner, key, v, hint(v))
			ok = false
			continue
		}
		switch key {
		case "lower":
			j.lower = &f
		case "upper":
			j.upper = &f
		}
	}
	if ok && (j.typ == "revolute" || j.typ == "prismatic") {
		lo, hi := 0.0, 0.0
		if j.lower != nil {
			lo = *j.lower
		}
		if j.upper != nil {
			hi = *j.upper
		}
		if lo > hi {
			m.warnf(lim, "urdf-limit-order", "%s: lower limit %g is above upper limit %g; urdfdom accepts it but the joint cannot move: swap them", owner, lo, hi)
		}
	}
	return ok
}
