package mjcf

import (
	"github.com/beevik/etree"
)

// ref checks that attribute attr of e (defaults applied when withDefault)
// names an object of kind.
func (c *checker) ref(e *etree.Element, attr, kind string, withDefault bool) {
	var v string
	var ok bool
	if withDefault {
		v, ok = c.attr(e, attr)
	} else {
		var a *etree.Attr
		if a = e.SelectAttr(attr); a != nil {
			v, ok = a.Value, true
		}
	}
	if !ok || v == "" {
		return
	}
	if !c.has(kind, v) {
		c.m.errorf(e, "mjcf-ref", "%s '%s' not found (attribute '%s' of <%s>); define it or fix the name", kind, v, attr, e.Tag)
	}
}

// mustRef is ref for an attribute that names a required object: present
// but empty, it names nothing, and MuJoCo reports it as not found.
func (c *checker) mustRef(e *etree.Element, attr, kind string) {
	if a := e.SelectAttr(attr); a != nil && a.Value == "" {
		c.m.errorf(e, "mjcf-ref", "%s '' not found: attribute '%s' of <%s> is empty; name the %s", kind, attr, e.Tag, kind)
		return
	}
	c.ref(e, attr, kind, false)
}

func (c *checker) require(e *etree.Element, attr string) bool {
	if a := e.SelectAttr(attr); a == nil {
		c.m.errorf(e, "mjcf-required", "required attribute missing: '%s' on <%s>", attr, e.Tag)
		return false
	}
	return true
}

func (c *checker) references() {
	root := c.m.root
	for sec := range root.ChildElementsSeq() {
		if c.bad[sec] {
			continue
		}
		switch sec.Tag {
		case "asset":
			for a := range sec.ChildElementsSeq() {
				switch a.Tag {
				case "material":
					c.classRef(a)
					if a.SelectAttrValue("name", "") == "" {
						c.m.errorf(a, "mjcf-name", "empty name in material: give the material a name")
					}
					if a.SelectAttr("texture") != nil {
						for _, l := range a.SelectElements("layer") {
							c.m.errorf(l, "mjcf-material", "a material with a texture attribute cannot have <layer> elements; use one or the other")
						}
					}
					c.ref(a, "texture", "texture", true)
					for _, l := range a.SelectElements("layer") {
						c.ref(l, "texture", "texture", false)
					}
				case "skin":
					c.ref(a, "material", "material", false)
					for _, b := range a.SelectElements("bone") {
						c.ref(b, "body", "body", false)
					}
				case "mesh":
					c.classRef(a)
					c.meshData(a)
				}
			}
		case "contact":
			for p := range sec.ChildElementsSeq() {
				switch p.Tag {
				case "pair":
					c.classRef(p)
					if cd, ok := c.numsOf(p, "condim"); ok && !validCondim[int(cd[0])] {
						c.m.errorf(p, "mjcf-condim", "invalid condim %g in contact pair: use 1, 3, 4 or 6", cd[0])
					}
					if c.require(p, "geom1") {
						c.mustRef(p, "geom1", "geom")
					}
					if c.require(p, "geom2") {
						c.mustRef(p, "geom2", "geom")
					}
				case "exclude":
					c.mustRef(p, "body1", "body")
					c.mustRef(p, "body2", "body")
				}
			}
		case "equality":
			for q := range sec.ChildElementsSeq() {
				c.classRef(q)
				switch q.Tag {
				case "connect", "weld":
					c.ref(q, "body1", "body", false)
					c.ref(q, "body2", "body", false)
					c.ref(q, "site1", "site", false)
					c.ref(q, "site2", "site", false)
					hasBody, hasSite1, hasSite2 := q.SelectAttr("body1") != nil, q.SelectAttr("site1") != nil, q.SelectAttr("site2") != nil
					bodyOK := hasBody && (q.Tag == "weld" || q.SelectAttr("anchor") != nil)
					siteOK := hasSite1 && hasSite2
					if bodyOK == siteOK || (hasBody && (hasSite1 || hasSite2)) {
						if q.Tag == "connect" {
							c.m.errorf(q, "mjcf-equality", "<connect> needs either body1 and anchor (body2 optional) or both site1 and site2, not a mix")
						} else {
							c.m.errorf(q, "mjcf-equality", "<weld> needs either body1 (body2, anchor, relpose optional) or both site1 and site2, not a mix")
						}
					}
				case "joint":
					c.mustRef(q, "joint1", "joint")
					c.ref(q, "joint2", "joint", false)
					for _, attr := range []string{"joint1", "joint2"} {
						if j := c.names["joint"][q.SelectAttrValue(attr, "")]; j != nil {
							if typ := c.jointType(j); typ != "hinge" && typ != "slide" {
								c.m.errorf(q, "mjcf-equality", "only hinge and slide joints allowed in a joint equality (%s '%s' is %s)", attr, q.SelectAttrValue(attr, ""), typ)
							}
						}
					}
				case "tendon":
					c.mustRef(q, "tendon1", "tendon")
					c.ref(q, "tendon2", "tendon", false)
				case "flex":
					c.mustRef(q, "flex", "flex")
				}
			}
		case "tendon":
			for t := range sec.ChildElementsSeq() {
				c.classRef(t)
				c.ref(t, "material", "material", true)
				c.tendonLimits(t)
				n := 0
				for w := range t.ChildElementsSeq() {
					n++
					switch w.Tag {
					case "site":
						c.mustRef(w, "site", "site")
					case "geom":
						c.mustRef(w, "geom", "geom")
						c.ref(w, "sidesite", "site", false)
					case "joint":
						c.mustRef(w, "joint", "joint")
					}
				}
				if n == 0 {
					c.m.errorf(t, "mjcf-tendon", "tendon has no path: add <site>/<geom> (spatial) or <joint> (fixed) elements")
				}
				if t.Tag == "spatial" {
					c.spatialPath(t)
				}
			}
		case "actuator":
			for a := range sec.ChildElementsSeq() {
				c.actuator(a)
			}
		case "sensor":
			for s := range sec.ChildElementsSeq() {
				c.sensor(s)
			}
		}
	}
}

func (c *checker) classRef(e *etree.Element) {
	if a := e.SelectAttr("class"); a != nil {
		if _, ok := c.classes[a.Value]; !ok {
			c.m.errorf(e, "mjcf-default", "unknown default class name '%s'; define it in <default>", a.Value)
		}
	}
}

func (c *checker) tendonLimits(t *etree.Element) {
	limited := c.attrOr(t, "limited", "auto")
	rng, hasRange := c.numsOf(t, "range")
	nonzero := hasRange && len(rng) == 2 && !(rng[0] == 0 && rng[1] == 0)
	if limited == "auto" && nonzero && !c.comp.autolimits {
		c.m.errorf(t, "mjcf-limited", "tendon has 'range' but not 'limited': set limited, or compiler autolimits=\"true\"")
	}
	if limited == "true" && len(rng) == 2 && rng[0] >= rng[1] {
		c.m.errorf(t, "mjcf-range", "invalid limits in tendon: range lower %g must be below upper %g", rng[0], rng[1])
	}
}

func (c *checker) actuator(a *etree.Element) {
	c.classRef(a)
	c.nu++
	targets, present := 0, 0
	for _, t := range []struct{ attr, kind string }{
		{"joint", "joint"}, {"jointinparent", "joint"}, {"tendon", "tendon"}, {"site", "site"}, {"body", "body"}, {"cranksite", "site"},
	} {
		at := a.SelectAttr(t.attr)
		if at == nil {
			continue
		}
		present++
		if at.Value == "" {
			continue
		}
		targets++
		if !c.has(t.kind, at.Value) {
			c.m.errorf(a, "mjcf-ref", "unknown transmission target '%s' for actuator (attribute '%s' of <%s>): no %s of that name", at.Value, t.attr, a.Tag, t.kind)
		}
	}
	c.ref(a, "slidersite", "site", false)
	c.ref(a, "refsite", "site", false)
	if a.SelectAttr("cranksite") != nil && a.SelectAttr("slidersite") == nil {
		c.m.errorf(a, "mjcf-actuator", "slider-crank actuator needs slidersite as well as cranksite")
	}
	if a.SelectAttr("cranksite") == nil && (a.SelectAttr("slidersite") != nil || a.SelectAttr("cranklength") != nil) {
		c.m.errorf(a, "mjcf-actuator", "cranklength and slidersite can only be used in a slider-crank transmission (with cranksite)")
	}
	if a.SelectAttr("refsite") != nil && a.SelectAttr("site") == nil {
		c.m.errorf(a, "mjcf-actuator", "refsite can only be used with a site transmission")
	}
	if targets == 0 && a.Tag != "plugin" {
		c.m.errorf(a, "mjcf-actuator", "actuator has no transmission target: set joint, tendon, site or body")
	}
	if present > 1 {
		c.m.errorf(a, "mjcf-actuator", "actuator has more than one transmission target; keep exactly one of joint, jointinparent, tendon, site, body, cranksite")
	}
	// activation states
	dyn := "none"
	switch a.Tag {
	case "general", "plugin":
		dyn = c.attrOr(a, "dyntype", "none")
	case "position":
		if v, ok := c.numsOf(a, "timeconst"); ok && v[0] > 0 {
			dyn = "filterexact"
		}
	case "intvelocity":
		dyn = "integrator"
	case "cylinder":
		dyn = "filter"
	case "muscle":
		dyn = "muscle"
	}
	na := 0
	if dyn != "none" {
		na = 1
	}
	if v, ok := c.numsOf(a, "actdim"); ok && (a.Tag == "general" || a.Tag == "plugin") && v[0] >= 0 {
		na = int(v[0])
	}
	c.na += na
	c.actuatorGains(a)
	// ranges
	for _, pr := range []struct{ lim, rng, what string }{
		{"ctrllimited", "ctrlrange", "control range"}, {"forcelimited", "forcerange", "force range"}, {"actlimited", "actrange", "actrange"},
	} {
		lim := c.attrOr(a, pr.lim, "auto")
		if (a.Tag == "damper" || a.Tag == "adhesion") && pr.lim == "ctrllimited" || a.Tag == "intvelocity" && pr.lim == "actlimited" {
			lim = "true"
		}
		r, ok := c.numsOf(a, pr.rng)
		nonzero := ok && len(r) == 2 && !(r[0] == 0 && r[1] == 0)
		if lim == "auto" && nonzero && !c.comp.autolimits {
			c.m.errorf(a, "mjcf-limited", "actuator has '%s' but not '%s': set %s, or compiler autolimits=\"true\"", pr.rng, pr.lim, pr.lim)
		}
		if pr.lim == "actlimited" && dyn == "none" && (lim == "true" || lim == "auto" && nonzero) {
			c.m.errorf(a, "mjcf-actuator", "actrange specified but dyntype is 'none' in actuator: set a dyntype or drop actrange/actlimited")
		}
		if v, ok := c.numsOf(a, "inheritrange"); ok && v[0] > 0 && (a.Tag == "position" && pr.lim == "ctrllimited" || a.Tag == "intvelocity" && pr.lim == "actlimited") {
			continue // the range comes from the joint's
		}
		if lim == "true" {
			if !ok || len(r) != 2 {
				r = []float64{0, 0}
			}
			if r[0] >= r[1] {
				c.m.errorf(a, "mjcf-range", "invalid %s for actuator: lower %g must be below upper %g", pr.what, r[0], r[1])
			}
		}
	}
}

var sensorObj = map[string]string{
	"touch": "site", "accelerometer": "site", "velocimeter": "site", "gyro": "site", "force": "site", "torque": "site",
	"magnetometer": "site", "camprojection": "site", "rangefinder": "site", "insidesite": "site",
	"jointpos": "joint", "jointvel": "joint", "jointactuatorfrc": "joint", "ballquat": "joint", "ballangvel": "joint",
	"jointlimitpos": "joint", "jointlimitvel": "joint", "jointlimitfrc": "joint",
	"tendonpos": "tendon", "tendonvel": "tendon", "tendonactuatorfrc": "tendon", "tendonlimitpos": "tendon",
	"tendonlimitvel": "tendon", "tendonlimitfrc": "tendon",
	"actuatorpos": "actuator", "actuatorvel": "actuator", "actuatorfrc": "actuator",
	"subtreecom": "body", "subtreelinvel": "body", "subtreeangmom": "body",
}

var objKinds = map[string]string{"body": "body", "xbody": "body", "geom": "geom", "site": "site", "camera": "camera"}

func (c *checker) sensor(s *etree.Element) {
	if kind, ok := sensorObj[s.Tag]; ok {
		if c.require(s, kind) {
			c.mustRef(s, kind, kind)
		}
	}
	if kind, ok := sensorObj[s.Tag]; ok && kind == "joint" {
		if j := c.names["joint"][s.SelectAttrValue("joint", "")]; j != nil {
			typ := c.jointType(j)
			switch s.Tag {
			case "jointpos", "jointvel", "jointactuatorfrc":
				if typ != "hinge" && typ != "slide" {
					c.m.errorf(s, "mjcf-sensor", "joint must be slide or hinge in sensor <%s> (joint '%s' is %s)", s.Tag, s.SelectAttrValue("joint", ""), typ)
				}
			case "ballquat", "ballangvel":
				if typ != "ball" {
					c.m.errorf(s, "mjcf-sensor", "joint must be ball in sensor <%s> (joint '%s' is %s)", s.Tag, s.SelectAttrValue("joint", ""), typ)
				}
			}
		}
	}
	switch s.Tag {
	case "camprojection":
		if c.require(s, "camera") {
			c.ref(s, "camera", "camera", false)
		}
	case "framepos", "framequat", "framexaxis", "frameyaxis", "framezaxis", "framelinvel", "frameangvel", "framelinacc", "frameangacc":
		c.frameRef(s, "objtype", "objname", true)
		c.frameRef(s, "reftype", "refname", false)
	case "distance", "normal", "fromto":
		c.ref(s, "geom1", "geom", false)
		c.ref(s, "geom2", "geom", false)
		c.ref(s, "body1", "body", false)
		c.ref(s, "body2", "body", false)
	case "contact":
		c.ref(s, "geom1", "geom", false)
		c.ref(s, "geom2", "geom", false)
		c.ref(s, "body1", "body", false)
		c.ref(s, "body2", "body", false)
		c.ref(s, "subtree1", "body", false)
		c.ref(s, "subtree2", "body", false)
		c.ref(s, "site", "site", false)
	case "tactile":
		c.ref(s, "geom", "geom", false)
		c.ref(s, "mesh", "mesh", false)
	}
}

func (c *checker) frameRef(s *etree.Element, typeAttr, nameAttr string, required bool) {
	t := s.SelectAttrValue(typeAttr, "")
	n := s.SelectAttrValue(nameAttr, "")
	if t == "" && n == "" {
		if required {
			c.m.errorf(s, "mjcf-required", "<%s> needs %s and %s naming the measured object", s.Tag, typeAttr, nameAttr)
		}
		return
	}
	kind, ok := objKinds[t]
	if !ok {
		c.m.errorf(s, "mjcf-keyword", "invalid keyword '%s' in attribute '%s' of <%s>; use body, xbody, geom, site or camera", t, typeAttr, s.Tag)
		return
	}
	if n == "" {
		c.m.errorf(s, "mjcf-required", "<%s> has %s but no %s", s.Tag, typeAttr, nameAttr)
		return
	}
	if !c.has(kind, n) {
		c.m.errorf(s, "mjcf-ref", "%s '%s' not found (attribute '%s' of <%s>)", kind, n, nameAttr, s.Tag)
	}
}
