package procgen

import (
	"encoding/xml"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The three exports must describe the same kinematics. These tests read
// each rendering back (URDF and MJCF with encoding/xml, USDA with regular
// expressions over its fixed layout) into one comparable form and compare
// it with the model.

// kin is a rendering's kinematics: per joint (by child link) its type,
// parent, origin, axis and limits; per link its mass, COM and inertia.
type kin struct {
	joints map[string]kinJoint
	links  map[string]kinLink
}

type kinJoint struct {
	typ, parent  string
	origin, axis vec3
	lower, upper float64
	limited      bool
}

type kinLink struct {
	mass         float64
	com, inertia vec3
}

func parseVec(t *testing.T, s string) vec3 {
	t.Helper()
	f := strings.Fields(strings.NewReplacer(",", " ", "(", " ", ")", " ").Replace(s))
	if len(f) != 3 {
		t.Fatalf("vector %q", s)
	}
	var v vec3
	for i := range v {
		x, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			t.Fatalf("vector %q: %v", s, err)
		}
		v[i] = x
	}
	return v
}

func parseNum(t *testing.T, s string) float64 {
	t.Helper()
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return x
}

// near compares with the 6 significant digits the exports carry.
func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-5*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func nearVec(a, b vec3) bool { return near(a[0], b[0]) && near(a[1], b[1]) && near(a[2], b[2]) }

// modelKin is the model's own kinematics in the comparable form.
func modelKin(r *Robot) kin {
	k := kin{joints: map[string]kinJoint{}, links: map[string]kinLink{}}
	for _, j := range r.Joints {
		kj := kinJoint{typ: string(j.Type), parent: j.Parent, origin: j.Origin}
		if j.Type != Fixed {
			kj.axis[j.Axis] = 1
		}
		if j.limited() {
			kj.limited, kj.lower, kj.upper = true, j.Lower, j.Upper
		}
		k.joints[j.Child] = kj
	}
	for _, l := range r.Links {
		k.links[l.Name] = kinLink{mass: l.Mass, com: l.COM, inertia: l.Inertia}
	}
	return k
}

func urdfKin(t *testing.T, doc []byte) kin {
	var u struct {
		Links []struct {
			Name     string `xml:"name,attr"`
			Inertial struct {
				Origin struct {
					XYZ string `xml:"xyz,attr"`
				} `xml:"origin"`
				Mass struct {
					Value string `xml:"value,attr"`
				} `xml:"mass"`
				Inertia struct {
					Ixx string `xml:"ixx,attr"`
					Iyy string `xml:"iyy,attr"`
					Izz string `xml:"izz,attr"`
				} `xml:"inertia"`
			} `xml:"inertial"`
		} `xml:"link"`
		Joints []struct {
			Name   string `xml:"name,attr"`
			Type   string `xml:"type,attr"`
			Parent struct {
				Link string `xml:"link,attr"`
			} `xml:"parent"`
			Child struct {
				Link string `xml:"link,attr"`
			} `xml:"child"`
			Origin struct {
				XYZ string `xml:"xyz,attr"`
				RPY string `xml:"rpy,attr"`
			} `xml:"origin"`
			Axis *struct {
				XYZ string `xml:"xyz,attr"`
			} `xml:"axis"`
			Limit *struct {
				Lower string `xml:"lower,attr"`
				Upper string `xml:"upper,attr"`
			} `xml:"limit"`
		} `xml:"joint"`
	}
	if err := xml.Unmarshal(doc, &u); err != nil {
		t.Fatal(err)
	}
	k := kin{joints: map[string]kinJoint{}, links: map[string]kinLink{}}
	for _, l := range u.Links {
		in := l.Inertial
		k.links[l.Name] = kinLink{
			mass: parseNum(t, in.Mass.Value), com: parseVec(t, in.Origin.XYZ),
			inertia: vec3{parseNum(t, in.Inertia.Ixx), parseNum(t, in.Inertia.Iyy), parseNum(t, in.Inertia.Izz)},
		}
	}
	for _, j := range u.Joints {
		if j.Origin.RPY != "0 0 0" {
			t.Errorf("joint %s: rpy %q, the model never turns joint frames", j.Name, j.Origin.RPY)
		}
		kj := kinJoint{typ: j.Type, parent: j.Parent.Link, origin: parseVec(t, j.Origin.XYZ)}
		if j.Axis != nil {
			kj.axis = parseVec(t, j.Axis.XYZ)
		}
		if j.Limit != nil && (j.Type == "revolute" || j.Type == "prismatic") {
			kj.limited, kj.lower, kj.upper = true, parseNum(t, j.Limit.Lower), parseNum(t, j.Limit.Upper)
		}
		k.joints[j.Child.Link] = kj
	}
	return k
}

type mjBody struct {
	Name     string     `xml:"name,attr"`
	Pos      string     `xml:"pos,attr"`
	Joint    []mjJoint  `xml:"joint"`
	Free     []struct{} `xml:"freejoint"`
	Inertial struct {
		Pos         string `xml:"pos,attr"`
		Mass        string `xml:"mass,attr"`
		DiagInertia string `xml:"diaginertia,attr"`
	} `xml:"inertial"`
	Bodies []mjBody `xml:"body"`
	// A modular export's composition: replicated bodies and attached
	// modules in frames (see modular.go).
	Replicates []struct {
		Count  int      `xml:"count,attr"`
		Offset string   `xml:"offset,attr"`
		Bodies []mjBody `xml:"body"`
	} `xml:"replicate"`
	Frames []struct {
		Pos    string `xml:"pos,attr"`
		Attach []struct {
			Model  string `xml:"model,attr"`
			Body   string `xml:"body,attr"`
			Prefix string `xml:"prefix,attr"`
		} `xml:"attach"`
	} `xml:"frame"`
}

// expand resolves b's replicates (copy i named with suffix i and moved by
// i offsets) and attaches (the module's body, prefixed, at the frame's
// position) into plain child bodies, as MuJoCo does for these exports.
func (b *mjBody) expand(t *testing.T, modules map[string]mjBody) {
	t.Helper()
	for _, rep := range b.Replicates {
		off := parseVec(t, rep.Offset)
		for i := 0; i < rep.Count; i++ {
			for _, c := range rep.Bodies {
				p := parseVec(t, c.Pos)
				c.Name = fmt.Sprintf("%s%d", c.Name, i)
				c.Pos = fmt.Sprintf("%g %g %g", p[0]+float64(i)*off[0], p[1]+float64(i)*off[1], p[2]+float64(i)*off[2])
				b.Bodies = append(b.Bodies, c)
			}
		}
	}
	for _, f := range b.Frames {
		for _, a := range f.Attach {
			m, ok := modules[a.Model]
			if !ok || m.Name != a.Body {
				t.Fatalf("attach of %s/%s: no such module body", a.Model, a.Body)
			}
			m.Name = a.Prefix + m.Name
			m.Pos = f.Pos
			b.Bodies = append(b.Bodies, m)
		}
	}
	b.Replicates, b.Frames = nil, nil
	for i := range b.Bodies {
		b.Bodies[i].expand(t, modules)
	}
}

// mjcfKinOf reads the robot's MJCF export back, modules included.
func mjcfKinOf(t *testing.T, r *Robot) (kin, bool) {
	t.Helper()
	modules := map[string]mjBody{}
	if r.Modular() {
		var m struct {
			World struct {
				Bodies []mjBody `xml:"body"`
			} `xml:"worldbody"`
		}
		if err := xml.Unmarshal(r.wheelModuleMJCF(), &m); err != nil || len(m.World.Bodies) != 1 {
			t.Fatalf("wheel module: %v, %d bodies", err, len(m.World.Bodies))
		}
		modules["wheel"] = m.World.Bodies[0]
	}
	return mjcfKin(t, r.MJCF(), modules)
}

type mjJoint struct {
	Type    string `xml:"type,attr"`
	Axis    string `xml:"axis,attr"`
	Limited string `xml:"limited,attr"`
	Range   string `xml:"range,attr"`
}

func mjcfKin(t *testing.T, doc []byte, modules map[string]mjBody) (kin, bool) {
	var m struct {
		World struct {
			Bodies []mjBody `xml:"body"`
		} `xml:"worldbody"`
	}
	if err := xml.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.World.Bodies) != 1 {
		t.Fatalf("%d top-level bodies", len(m.World.Bodies))
	}
	m.World.Bodies[0].expand(t, modules)
	k := kin{joints: map[string]kinJoint{}, links: map[string]kinLink{}}
	var walk func(b mjBody, parent string)
	walk = func(b mjBody, parent string) {
		k.links[b.Name] = kinLink{mass: parseNum(t, b.Inertial.Mass), com: parseVec(t, b.Inertial.Pos), inertia: parseVec(t, b.Inertial.DiagInertia)}
		if parent != "" {
			kj := kinJoint{typ: "fixed", parent: parent, origin: parseVec(t, b.Pos)}
			if len(b.Joint) > 1 {
				t.Errorf("body %s: %d joints", b.Name, len(b.Joint))
			}
			if len(b.Joint) == 1 {
				j := b.Joint[0]
				kj.axis = parseVec(t, j.Axis)
				switch {
				case j.Type == "slide":
					kj.typ = "prismatic"
				case j.Limited == "true":
					kj.typ = "revolute"
				default:
					kj.typ = "continuous"
				}
				if j.Limited == "true" {
					f := strings.Fields(j.Range)
					kj.limited, kj.lower, kj.upper = true, parseNum(t, f[0]), parseNum(t, f[1])
				}
			}
			k.joints[b.Name] = kj
		}
		for _, c := range b.Bodies {
			walk(c, b.Name)
		}
	}
	walk(m.World.Bodies[0], "")
	return k, len(m.World.Bodies[0].Free) == 1
}

var (
	usdLinkRe  = regexp.MustCompile(`(?s)def Xform "(\w+)" \(\s*prepend apiSchemas = \["PhysicsRigidBodyAPI", "PhysicsMassAPI"\]\s*\)\s*\{(.*?)\n    \}`)
	usdJointRe = regexp.MustCompile(`(?s)def Physics(Revolute|Prismatic|Fixed)Joint "(\w+)"[^{]*\{(.*?)\n        \}`)
	usdAttrRe  = regexp.MustCompile(`(?m)^\s*(?:uniform )?(?:rel|\w+(?:\[\])?) ([\w:]+) = (.+)$`)
)

func usdAttrs(body string) map[string]string {
	out := map[string]string{}
	for _, m := range usdAttrRe.FindAllStringSubmatch(body, -1) {
		if _, ok := out[m[1]]; !ok { // the link's own attributes come before its geom's
			out[m[1]] = m[2]
		}
	}
	return out
}

func usdKin(t *testing.T, doc []byte, root string) (kin, bool) {
	s := string(doc)
	k := kin{joints: map[string]kinJoint{}, links: map[string]kinLink{}}
	for _, m := range usdLinkRe.FindAllStringSubmatch(s, -1) {
		a := usdAttrs(m[2])
		k.links[m[1]] = kinLink{mass: parseNum(t, a["physics:mass"]), com: parseVec(t, a["physics:centerOfMass"]), inertia: parseVec(t, a["physics:diagonalInertia"])}
	}
	anchored := false
	for _, m := range usdJointRe.FindAllStringSubmatch(s, -1) {
		a := usdAttrs(m[3])
		child := strings.TrimSuffix(strings.TrimPrefix(a["physics:body1"], "</"+root+"/"), ">")
		if a["physics:body0"] == "" {
			anchored = true
			continue
		}
		parent := strings.TrimSuffix(strings.TrimPrefix(a["physics:body0"], "</"+root+"/"), ">")
		kj := kinJoint{typ: strings.ToLower(m[1]), parent: parent, origin: parseVec(t, a["physics:localPos0"])}
		if ax, ok := a["physics:axis"]; ok {
			i := strings.Index("XYZ", strings.Trim(ax, `"`))
			if i < 0 {
				t.Fatalf("joint axis %s", ax)
			}
			kj.axis[i] = 1
		}
		if lo, ok := a["physics:lowerLimit"]; ok {
			kj.limited, kj.lower, kj.upper = true, parseNum(t, lo), parseNum(t, a["physics:upperLimit"])
			if kj.typ == "revolute" {
				kj.lower, kj.upper = kj.lower*math.Pi/180, kj.upper*math.Pi/180
			}
		} else if kj.typ == "revolute" {
			kj.typ = "continuous"
		}
		k.joints[child] = kj
	}
	return k, !anchored
}

// compareKin reports every difference between a rendering and the model.
func compareKin(t *testing.T, what string, want, got kin) {
	t.Helper()
	if len(got.joints) != len(want.joints) || len(got.links) != len(want.links) {
		t.Errorf("%s: %d joints, %d links; model has %d, %d", what, len(got.joints), len(got.links), len(want.joints), len(want.links))
	}
	for child, w := range want.joints {
		g, ok := got.joints[child]
		if !ok {
			t.Errorf("%s: no joint moves %s", what, child)
			continue
		}
		if g.typ != w.typ || g.parent != w.parent || !nearVec(g.origin, w.origin) || g.axis != w.axis ||
			g.limited != w.limited || !near(g.lower, w.lower) || !near(g.upper, w.upper) {
			t.Errorf("%s: joint of %s is %+v, model %+v", what, child, g, w)
		}
	}
	for name, w := range want.links {
		g, ok := got.links[name]
		if !ok {
			t.Errorf("%s: no link %s", what, name)
			continue
		}
		if !near(g.mass, w.mass) || !nearVec(g.com, w.com) || !nearVec(g.inertia, w.inertia) {
			t.Errorf("%s: link %s is %+v, model %+v", what, name, g, w)
		}
	}
}

// TestSameKinematics reads URDF, MJCF and USDA back and compares each with
// the model, for every kind and several ids.
func TestSameKinematics(t *testing.T) {
	for _, id := range sampleIDs {
		for _, s := range samplePrompts {
			r := Generate(id, s.name, s.prompt)
			t.Run(fmt.Sprintf("%s/%s", id, s.name), func(t *testing.T) {
				want := modelKin(r)
				compareKin(t, "URDF", want, urdfKin(t, r.URDF()))
				mk, free := mjcfKinOf(t, r)
				compareKin(t, "MJCF", want, mk)
				if free != r.Floating {
					t.Errorf("MJCF free joint %v, model floating %v", free, r.Floating)
				}
				uk, floating := usdKin(t, r.USDA(), usdPrimName(r.Slug()))
				compareKin(t, "USD", want, uk)
				if floating != r.Floating {
					t.Errorf("USD anchored to the world: %v, model floating %v", !floating, r.Floating)
				}
			})
		}
	}
}
