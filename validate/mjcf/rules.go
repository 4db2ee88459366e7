package mjcf

import (
	"encoding/binary"
	"io"
	"strings"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/validate"
)

// Checks MuJoCo 3.3.8 makes while reading actuators, cameras, lights,
// textures, height fields and meshes, found by running it (see the variants
// in testdata/conformance).

// actuatorGains checks the gain and range attributes MuJoCo's actuator
// shortcuts refuse, with defaults applied.
func (c *checker) actuatorGains(a *etree.Element) {
	num := func(attr string) (float64, bool) {
		v, ok := c.numsOf(a, attr)
		if !ok {
			return 0, false
		}
		return v[0], true
	}
	switch a.Tag {
	case "position", "intvelocity":
		if a.Tag == "position" {
			if v, ok := num("kv"); ok && v < 0 {
				c.m.errorf(a, "mjcf-actuator", "kv cannot be negative in <position>")
			}
			if v, ok := num("timeconst"); ok && v < 0 {
				c.m.errorf(a, "mjcf-actuator", "timeconst cannot be negative in <position>")
			}
		}
		_, hasKv := c.attr(a, "kv")
		_, hasDr := c.attr(a, "dampratio")
		if hasKv && hasDr && a.Tag == "position" {
			c.m.errorf(a, "mjcf-actuator", "kv and dampratio cannot both be defined; keep one")
		}
	case "damper":
		if v, ok := num("kv"); ok && v < 0 {
			c.m.errorf(a, "mjcf-actuator", "damping coefficient (kv) cannot be negative in <damper>")
		}
		if r, ok := c.numsOf(a, "ctrlrange"); ok && len(r) == 2 && (r[0] < 0 || r[1] < 0) {
			c.m.errorf(a, "mjcf-actuator", "damper control range cannot be negative (ctrlrange %g %g)", r[0], r[1])
		}
	case "adhesion":
		if v, ok := num("gain"); ok && v < 0 {
			c.m.errorf(a, "mjcf-actuator", "adhesion gain cannot be negative")
		}
		if r, ok := c.numsOf(a, "ctrlrange"); ok && len(r) == 2 && (r[0] < 0 || r[1] < 0) {
			c.m.errorf(a, "mjcf-actuator", "adhesion control range cannot be negative (ctrlrange %g %g)", r[0], r[1])
		}
	}
	if v, ok := c.numsOf(a, "inheritrange"); ok && v[0] > 0 {
		if j := c.names["joint"][a.SelectAttrValue("joint", "")]; j != nil {
			if r, ok := c.numsOf(j, "range"); !ok || len(r) != 2 || (r[0] == 0 && r[1] == 0) {
				c.m.errorf(a, "mjcf-actuator", "inheritrange used but target joint '%s' has no range defined; give the joint a range or set ctrlrange", a.SelectAttrValue("joint", ""))
			}
		}
	}
	c.muscle(a)
}

// muscle checks MuJoCo's muscle parameters, for <muscle> and for a
// <general> with muscle gain or bias.
func (c *checker) muscle(a *etree.Element) {
	var rng [2]float64
	var lmin, lmax, scale, vmax, fpmax, fvmax float64
	switch {
	case a.Tag == "muscle":
		rng = [2]float64{0.75, 1.05}
		lmin, lmax, scale, vmax, fpmax, fvmax = 0.5, 1.6, 200, 1.5, 1.3, 1.2
		if v, ok := c.numsOf(a, "range"); ok && len(v) == 2 {
			rng = [2]float64{v[0], v[1]}
		}
		for _, p := range []struct {
			attr string
			dst  *float64
		}{{"lmin", &lmin}, {"lmax", &lmax}, {"scale", &scale}, {"vmax", &vmax}, {"fpmax", &fpmax}, {"fvmax", &fvmax}} {
			if v, ok := c.numsOf(a, p.attr); ok {
				*p.dst = v[0]
			}
		}
	case a.Tag == "general" && (c.attrOr(a, "gaintype", "fixed") == "muscle" || c.attrOr(a, "biastype", "none") == "muscle"):
		prm := make([]float64, 10)
		prm[0] = 1
		attr := "gainprm"
		if c.attrOr(a, "gaintype", "fixed") != "muscle" {
			attr, prm[0] = "biasprm", 0
		}
		if v, ok := c.numsOf(a, attr); ok {
			copy(prm, v)
		}
		rng = [2]float64{prm[0], prm[1]}
		scale, lmin, lmax, vmax, fpmax, fvmax = prm[3], prm[4], prm[5], prm[6], prm[7], prm[8]
	default:
		return
	}
	switch {
	case !(rng[0] < rng[1]):
		c.m.errorf(a, "mjcf-muscle", "range[0]<range[1] required in muscle (range %g %g)", rng[0], rng[1])
	case !(lmin < 1 && 1 < lmax):
		c.m.errorf(a, "mjcf-muscle", "lmin<1<lmax required in muscle (lmin %g, lmax %g)", lmin, lmax)
	case scale <= 0 || vmax <= 0 || fpmax <= 0 || fvmax <= 0:
		c.m.errorf(a, "mjcf-muscle", "muscle scale, vmax, fpmax and fvmax must be positive")
	}
	// MuJoCo computes a muscle's length range by simulation when it is not
	// given; on an unlimited joint that cannot converge.
	if _, ok := c.attr(a, "lengthrange"); ok || c.lrMode == "none" || c.lrMode == "user" {
		return
	}
	j := a.SelectAttrValue("joint", "")
	if j == "" {
		return
	}
	je := c.names["joint"][j]
	if je == nil || c.jointLimited(je) {
		return
	}
	c.m.errorf(a, "mjcf-lengthrange", "muscle on unlimited joint '%s' without lengthrange: MuJoCo's length-range computation does not converge; limit the joint or set lengthrange", j)
}

// jointLimited resolves a joint's limited flag as MuJoCo does.
func (c *checker) jointLimited(j *etree.Element) bool {
	if c.jointType(j) == "free" {
		return false
	}
	limited := c.attrOr(j, "limited", "auto")
	rng, ok := c.numsOf(j, "range")
	if limited == "true" {
		return true
	}
	return limited == "auto" && ok && len(rng) == 2 && rng[0] < rng[1]
}

// camera checks the intrinsics MuJoCo requires together.
func (c *checker) camera(k *etree.Element) {
	_, hasFovy := c.attr(k, "fovy")
	_, hasSensor := c.attr(k, "sensorsize")
	if hasFovy && hasSensor {
		c.m.errorf(k, "mjcf-camera", "either 'fovy' or 'sensorsize' can be specified, not both")
	}
	if v, _ := c.attr(k, "sensorsize"); strings.TrimSpace(v) == "" {
		hasSensor = false
	}
	if hasSensor {
		if v, ok := c.attr(k, "resolution"); !ok || strings.TrimSpace(v) == "" {
			c.m.errorf(k, "mjcf-required", "required attribute missing: 'resolution' (a camera with sensorsize needs it)")
		}
	}
	if !hasSensor {
		for _, a := range []string{"focal", "focalpixel", "principal", "principalpixel"} {
			if _, ok := c.attr(k, a); ok {
				c.m.errorf(k, "mjcf-required", "required attribute missing: 'sensorsize' (a camera with %s needs it)", a)
				break
			}
		}
	}
}

func (c *checker) light(k *etree.Element) {
	_, dir := c.attr(k, "directional")
	_, typ := c.attr(k, "type")
	if dir && typ {
		c.m.errorf(k, "mjcf-light", "light type and directional cannot both be defined; use type")
	}
}

// texture checks a builtin texture's size.
func (c *checker) texture(a *etree.Element) {
	b := a.SelectAttrValue("builtin", "none")
	if b == "none" {
		typ := a.SelectAttrValue("type", "cube")
		if a.SelectAttrValue("file", "") != "" || a.SelectAttr("content_type") != nil {
			return
		}
		sides := false
		for _, s := range []string{"fileright", "fileleft", "fileup", "filedown", "filefront", "fileback"} {
			if a.SelectAttrValue(s, "") != "" {
				sides = true
			}
		}
		switch {
		case typ == "2d":
			c.m.errorf(a, "mjcf-texture", "2d texture has no file: give it a file or a builtin (a 2d texture cannot be loaded from separate side files)")
		case !sides:
			c.m.errorf(a, "mjcf-texture", "%s texture has no file, side files or builtin: give it one", typ)
		}
		return
	}
	num := func(attr string) float64 {
		if v, ok := c.nums(a, attr); ok {
			return v[0]
		}
		return 0
	}
	if num("width") <= 0 {
		c.m.errorf(a, "mjcf-texture", "invalid width of builtin texture: set width > 0")
	} else if a.SelectAttrValue("type", "cube") == "2d" && num("height") <= 0 {
		c.m.errorf(a, "mjcf-texture", "invalid height of builtin texture: set height > 0")
	}
}

// hfield checks a height field without a file.
func (c *checker) hfield(a *etree.Element) {
	if a.SelectAttrValue("file", "") != "" {
		return
	}
	var nrow, ncol float64
	if v, ok := c.nums(a, "nrow"); ok {
		nrow = v[0]
	}
	if v, ok := c.nums(a, "ncol"); ok {
		ncol = v[0]
	}
	if nrow <= 0 || ncol <= 0 {
		c.m.errorf(a, "mjcf-hfield", "hfield not specified: give a file, or nrow and ncol")
		return
	}
	if e, ok := c.nums(a, "elevation"); ok && len(e) != int(nrow*ncol) {
		c.m.errorf(a, "mjcf-hfield", "elevation data length (%d) must match nrow*ncol (%g)", len(e), nrow*ncol)
	}
}

// spatialPath checks a spatial tendon's path: at least two objects, starting
// and ending with sites, wrapping geoms spheres or cylinders between sites.
func (c *checker) spatialPath(t *etree.Element) {
	kids := t.ChildElements()
	if len(kids) == 0 {
		return // reported as an empty path
	}
	if len(kids) < 2 {
		c.m.errorf(t, "mjcf-tendon", "spatial tendon path must contain at least two objects")
		return
	}
	for i, w := range kids {
		if i > 0 && w.Tag == "site" && kids[i-1].Tag == "site" && w.SelectAttrValue("site", "") == kids[i-1].SelectAttrValue("site", "") {
			c.m.errorf(w, "mjcf-tendon", "site '%s' is repeated at position %d of the tendon path: consecutive sites must differ", w.SelectAttrValue("site", ""), i)
		}
		if w.Tag != "geom" {
			continue
		}
		if i == 0 || i == len(kids)-1 || kids[i-1].Tag != "site" || kids[i+1].Tag != "site" {
			c.m.errorf(w, "mjcf-tendon", "geom at position %d of the tendon path is not bracketed by sites", i)
		}
		if g := c.names["geom"][w.SelectAttrValue("geom", "")]; g != nil {
			if typ := c.attrOr(g, "type", "sphere"); typ != "sphere" && typ != "cylinder" {
				c.m.errorf(w, "mjcf-tendon", "wrapping geom '%s' is a %s: tendons wrap only spheres and cylinders", w.SelectAttrValue("geom", ""), typ)
			}
		}
	}
}

// knownPlugins are MuJoCo's first-party plugins: a MuJoCo built with its
// plugin libraries (the Python wheels, the release binaries) loads them;
// mujoco-js has none.
var knownPlugins = map[string]bool{
	"mujoco.elasticity.cable": true, "mujoco.elasticity.solid": true, "mujoco.elasticity.shell": true,
	"mujoco.elasticity.membrane": true, "mujoco.pid": true, "mujoco.sensor.touch_grid": true,
	"mujoco.sdf.bolt": true, "mujoco.sdf.bowl": true, "mujoco.sdf.gear": true, "mujoco.sdf.nut": true,
	"mujoco.sdf.torus": true, "mujoco.sdf.sdflib": true,
}

// plugins checks the plugin names a model asks for.
func (c *checker) plugins() {
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if c.bad[e] {
			return
		}
		if ignoredTop(e) {
			return
		}
		if e.Tag == "plugin" {
			c.pluginUse(e)
			if par := e.Parent(); par != nil && par.Tag == "mesh" && e.SelectAttr("instance") != nil {
				// a mesh plugin naming an instance is not resolved at load
			} else if name := e.SelectAttrValue("plugin", ""); name != "" {
				if knownPlugins[name] {
					c.m.warnf(e, "mjcf-plugin", "plugin %s is one of MuJoCo's first-party plugins: it loads only where MuJoCo ships its plugin libraries (the Python wheels do, mujoco-js does not)", name)
				} else {
					c.m.errorf(e, "mjcf-plugin", "plugin %s not found: it is not one of MuJoCo's first-party plugins; gizmo cannot check third-party plugins", name)
				}
			}
		}
		for k := range e.ChildElementsSeq() {
			walk(k)
		}
	}
	walk(c.m.root)
}

// extOf is the extension of a file name, dot included ("" when none).
func extOf(p string) string {
	i := strings.LastIndexByte(p, '.')
	if i < 0 || strings.ContainsAny(p[i:], "/\\") {
		return ""
	}
	return p[i:]
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngSize reads the width and height of the PNG file at path; ok is false
// when it is not a PNG.
func pngSize(opts validate.Options, path string) (w, h uint32, ok bool) {
	f, err := opts.Open(path)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	var head [24]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return 0, 0, false
	}
	if string(head[:8]) != string(pngSignature) || string(head[12:16]) != "IHDR" {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(head[16:]), binary.BigEndian.Uint32(head[20:]), true
}

// textureImage checks a texture's image file: that a .png is a PNG, and
// that a cube or skybox read from one file fits its grid, as MuJoCo's
// LoadCubeSingle requires.
func (c *checker) textureImage(a *etree.Element, attr, name, full string) {
	if !strings.EqualFold(extOf(full), ".png") || a.SelectAttr("content_type") != nil {
		return
	}
	w, h, ok := pngSize(c.m.opts, full)
	if !ok {
		c.m.errorf(a, "mjcf-texture", "texture file '%s' is not a PNG image (bad signature); re-export it as PNG", name)
		return
	}
	typ := a.SelectAttrValue("type", "cube")
	if attr != "file" || typ == "2d" {
		return
	}
	rows, cols := uint32(1), uint32(1)
	if g, ok := c.nums(a, "gridsize"); ok && len(g) == 2 {
		if g[0] < 1 || g[1] < 1 || g[0]*g[1] > 12 {
			c.m.errorf(a, "mjcf-texture", "gridsize must be non-zero and no more than 12 squares in texture")
			return
		}
		rows, cols = uint32(g[0]), uint32(g[1])
	}
	if w/cols != h/rows || w%cols != 0 || h%rows != 0 {
		c.m.errorf(a, "mjcf-texture", "PNG size %dx%d must be an integer multiple of gridsize %d %d in %s texture '%s' (each face square); use type=\"2d\" for a flat image", w, h, rows, cols, typ, name)
	}
}

// meshData checks inline mesh arrays: vertex and normal in triples, face in
// triples of existing vertex indices, texcoord in pairs.
func (c *checker) meshData(a *etree.Element) {
	vert, _ := c.nums(a, "vertex")
	if len(vert)%3 != 0 {
		c.m.errorf(a, "mjcf-mesh", "vertex data must be a multiple of 3 (got %d numbers)", len(vert))
	}
	if v, _ := c.nums(a, "normal"); len(v)%3 != 0 {
		c.m.errorf(a, "mjcf-mesh", "normal data must be a multiple of 3 (got %d numbers)", len(v))
	}
	if v, _ := c.nums(a, "texcoord"); len(v)%2 != 0 {
		c.m.errorf(a, "mjcf-mesh", "texcoord must be a multiple of 2 (got %d numbers)", len(v))
	}
	face, _ := c.nums(a, "face")
	if len(face)%3 != 0 {
		c.m.errorf(a, "mjcf-mesh", "face data must be a multiple of 3 (got %d numbers)", len(face))
		return
	}
	if len(vert) > 0 {
		nv := len(vert) / 3
		for i, f := range face {
			if f < 0 || int(f) >= nv {
				c.m.errorf(a, "mjcf-mesh", "in face %d, vertex index %g does not exist (%d vertices)", i/3, f, nv)
				return
			}
		}
	}
}

// deprecatedComposite maps the composite types MuJoCo 3.3 refuses to what
// replaces them.
var deprecatedComposite = map[string]string{
	"particle": "replicate", "grid": "flex", "rope": "cable", "loop": "flexcomp", "cloth": "shell",
}

// composite checks a <composite>: its type, its curve, a cable's geom type.
func (c *checker) composite(k *etree.Element) {
	typ := k.SelectAttrValue("type", "")
	if repl, ok := deprecatedComposite[typ]; ok {
		c.m.errorf(k, "mjcf-composite", "the %q composite type is deprecated in MuJoCo 3: use %q instead", typ, repl)
		return
	}
	if curve := k.SelectAttr("curve"); curve != nil {
		for _, t := range strings.Fields(curve.Value) {
			if t != "s" && t != "cos(s)" && t != "sin(s)" && t != "0" {
				c.m.errorf(k, "mjcf-composite", "the curve array contains an invalid shape %q: use s, cos(s), sin(s) or 0", t)
				break
			}
		}
	}
	if k.SelectAttr("vertex") != nil && k.SelectAttr("count") != nil {
		c.m.errorf(k, "mjcf-composite", "either vertex or count can be specified on a composite, not both")
	}
	prefix := k.SelectAttrValue("prefix", "")
	if c.composites == nil {
		c.composites = map[string]bool{}
	}
	if c.composites[prefix] {
		c.m.errorf(k, "mjcf-name", "repeated name 'composite_%s' in text: two composites share the prefix %q; give each its own prefix", prefix, prefix)
	}
	c.composites[prefix] = true
	for _, g := range k.SelectElements("geom") {
		if v, ok := c.nums(g, "size"); !ok || !(v[0] > 0) {
			c.m.errorf(g, "mjcf-size", "size[0] must be positive in the composite's geom")
		}
	}
	if typ == "cable" && k.SelectAttr("vertex") == nil {
		cnt, ok := c.nums(k, "count")
		for len(cnt) < 3 {
			cnt = append(cnt, 1) // unset dimensions count 1
		}
		if !ok || cnt[0] < 2 || cnt[1] != 1 || cnt[2] != 1 {
			c.m.errorf(k, "mjcf-composite", "cable must be one-dimensional: count=\"N 1 1\" with N of at least 2 (or give vertex)")
		}
	}
	if typ == "cable" {
		n := 0
		if v, ok := c.nums(k, "vertex"); ok {
			n = len(v) / 3
		} else if v, ok := c.nums(k, "count"); ok {
			n = int(v[0])
		}
		if n == 3 {
			c.m.errorf(k, "mjcf-composite", "body '%sB_1' not found in bodypair: MuJoCo 3.3.8 cannot build a cable of 3 vertices (its 2 bodies are B_first and B_last, but its contact exclusion names B_1); use 2, or 4 or more", prefix)
		}
	}
	if typ == "cable" && k.SelectAttr("vertex") == nil && !cableCurveMoves(k, c) {
		c.m.errorf(k, "mjcf-composite", "fromto points too close in geom: the cable's curve puts every vertex at one point; give curve an 's' component (curve=\"s 0 0\" lays it along x) or give vertex")
	}
	if typ == "cable" {
		if len(k.SelectElements("geom")) == 0 {
			c.m.errorf(k, "mjcf-composite", "cable geom type must be sphere, capsule or box: add a <geom> with its type")
		}
		for _, g := range k.SelectElements("geom") {
			switch g.SelectAttrValue("type", "") {
			case "sphere", "capsule", "box":
			default:
				c.m.errorf(g, "mjcf-composite", "cable geom type must be sphere, capsule or box")
			}
		}
	}
}

// cableCurveMoves says whether a cable's curve spreads its vertices: a
// component "s" (scaled by size[0]), or cos(s)/sin(s) with size[1] and
// size[2] not zero (MuJoCo 3.3.8 puts every vertex of a cable at one point
// otherwise). Without curve every vertex is at the origin.
func cableCurveMoves(k *etree.Element, c *checker) bool {
	size, _ := c.nums(k, "size")
	at := func(i int) float64 {
		if i < len(size) {
			return size[i]
		}
		return 0
	}
	for _, t := range strings.Fields(k.SelectAttrValue("curve", "")) {
		switch t {
		case "s":
			if at(0) != 0 {
				return true
			}
		case "cos(s)", "sin(s)":
			if at(1) != 0 && at(2) != 0 {
				return true
			}
		}
	}
	return false
}

// pluginUse checks a <plugin> that uses a plugin (not the declarations in
// <extension>): it names a plugin or an instance, and the instance exists.
func (c *checker) pluginUse(p *etree.Element) {
	par := p.Parent()
	if par == nil || par.Tag == "extension" {
		return // declarations
	}
	plugin, instance := p.SelectAttrValue("plugin", ""), p.SelectAttrValue("instance", "")
	switch {
	case plugin == "" && instance == "":
		c.m.errorf(p, "mjcf-plugin", "neither 'plugin' nor 'instance' is specified for <%s>'s plugin", par.Tag)
	case par.Tag == "mesh":
		// MuJoCo resolves a mesh's plugin instance elsewhere.
	case instance != "" && !c.has("plugin", instance):
		c.m.errorf(p, "mjcf-plugin", "unrecognized name '%s' for plugin instance: declare it in <extension>", instance)
	}
}
