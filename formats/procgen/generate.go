package procgen

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Generate builds the robot of an asset: the prompt decides the kind (see
// KindOf, DOFOf), the id seeds every dimension, colour and limit, so the same
// id and prompt always give the same robot.
func Generate(id, name, prompt string) *Robot {
	h := fnv.New64a()
	h.Write([]byte(id))
	s1 := h.Sum64()
	h.Write([]byte{0})
	h.Write([]byte(id))
	s2 := h.Sum64()
	b := &builder{
		rng: rand.New(rand.NewPCG(s1, s2)),
		r: &Robot{
			id: id, name: name, prompt: prompt,
			kind: KindOf(prompt),
			slug: Slug(name),
		},
	}
	if b.r.slug == "robot" && name == "" {
		b.r.slug = Slug(prompt)
	}
	switch b.r.kind {
	case KindGripper:
		b.gripper("", vec3{}, 1)
	case KindQuadruped:
		b.quadruped()
	case KindHumanoid:
		b.humanoid()
	case KindMobileBase:
		b.r.modular = wantsModular(prompt)
		b.mobileBase()
	case KindCabinet:
		b.cabinet()
	default:
		b.r.dof = DOFOf(prompt)
		b.r.withGripper = wantsGripper(prompt)
		b.arm(b.r.dof, b.r.withGripper)
	}
	if err := b.r.check(); err != nil {
		panic(fmt.Sprintf("procgen: %s robot for %q is inconsistent: %v", b.r.kind, id, err))
	}
	return b.r
}

type builder struct {
	rng *rand.Rand
	r   *Robot
	hue float64
}

// between returns a uniform number in [lo, hi), rounded to the millimetre
// (or milli-unit) so the exports stay short and readable.
func (b *builder) between(lo, hi float64) float64 {
	return math.Round((lo+(hi-lo)*b.rng.Float64())*1000) / 1000
}

// densities in kg/m³: aluminium-ish structure, plastic shells, wood.
const (
	metal   = 2700.0
	plastic = 1100.0
	wood    = 600.0
)

// palette colours: each robot picks a main hue from its id.
func (b *builder) color(shade float64) [4]float64 {
	if b.hue == 0 {
		b.hue = 0.05 + 0.9*b.rng.Float64()
	}
	// hue to RGB, fixed saturation, value by shade.
	h := b.hue * 6
	c := 0.6 * shade
	x := c * (1 - math.Abs(math.Mod(h, 2)-1))
	var rgb [3]float64
	switch int(h) {
	case 0:
		rgb = [3]float64{c, x, 0}
	case 1:
		rgb = [3]float64{x, c, 0}
	case 2:
		rgb = [3]float64{0, c, x}
	case 3:
		rgb = [3]float64{0, x, c}
	case 4:
		rgb = [3]float64{x, 0, c}
	default:
		rgb = [3]float64{c, 0, x}
	}
	m := shade - c
	out := [4]float64{1, 1, 1, 1}
	for i := range rgb {
		out[i] = math.Round((rgb[i]+m)*1000) / 1000
	}
	return out
}

var (
	grey  = [4]float64{0.35, 0.35, 0.38, 1}
	dark  = [4]float64{0.12, 0.12, 0.12, 1}
	light = [4]float64{0.85, 0.85, 0.82, 1}
)

// link adds a link whose mass and inertia come from its geometry at the
// given density.
func (b *builder) link(name string, g Geom, density float64) *Link {
	m := g.volume() * density
	l := &Link{Name: name, Geom: g, Mass: m, COM: g.Pos, Inertia: g.inertia(m)}
	b.r.Links = append(b.r.Links, l)
	return l
}

func (b *builder) joint(j Joint) {
	jj := j
	b.r.Joints = append(b.r.Joints, &jj)
}

func box(x, y, z float64, pos vec3, rgba [4]float64) Geom {
	return Geom{Shape: Box, Size: vec3{x, y, z}, Pos: pos, RGBA: rgba}
}

func cyl(r, h float64, axis Axis, pos vec3, rgba [4]float64) Geom {
	return Geom{Shape: Cylinder, Size: vec3{r, h, 0}, Axis: axis, Pos: pos, RGBA: rgba}
}

func sphere(r float64, pos vec3, rgba [4]float64) Geom {
	return Geom{Shape: Sphere, Size: vec3{r, 0, 0}, Pos: pos, RGBA: rgba}
}

// meshed marks a geometry to be exported as a generated mesh named stem.
func meshed(g Geom, stem string) Geom {
	g.Mesh = stem
	return g
}

// armAxes is the joint axis pattern of an arm: a base yaw, then pitches and
// wrist yaws as in common 6-axis arms.
var armAxes = [MaxDOF]Axis{Z, Y, Y, Z, Y, Z, Y, Z, Y, Z, Y, Z}

// arm builds a fixed-base serial arm with dof revolute joints, ending in a
// flange or a parallel jaw gripper.
func (b *builder) arm(dof int, gripper bool) {
	baseR := b.between(0.07, 0.11)
	baseH := b.between(0.06, 0.12)
	b.link("base_link", meshed(cyl(baseR, baseH, Z, vec3{0, 0, baseH / 2}, dark), "base_link"), metal)
	parent := "base_link"
	top := vec3{0, 0, baseH}
	r := baseR * 0.7
	reach := b.between(0.6, 1.1)
	effort := b.between(80, 200)
	for i := 1; i <= dof; i++ {
		name := fmt.Sprintf("link%d", i)
		length := math.Round(reach/float64(dof)*(0.7+0.6*b.rng.Float64())*1000) / 1000
		length = max(length, 0.05)
		g := cyl(r, length, Z, vec3{0, 0, length / 2}, b.color(1))
		switch i % 3 {
		case 1:
			g = meshed(g, name)
		case 0:
			g = box(r*1.6, r*1.6, length, vec3{0, 0, length / 2}, b.color(0.8))
		}
		b.link(name, g, metal*0.4) // hollow links: 40% of solid aluminium
		lim := math.Round(b.between(0.5, 1.0)*math.Pi*1000) / 1000
		b.joint(Joint{
			Name: fmt.Sprintf("joint%d", i), Type: Revolute, Parent: parent, Child: name,
			Origin: top, Axis: armAxes[i-1], Lower: -lim, Upper: lim,
			Effort: math.Round(effort), Velocity: b.between(1.5, 3.2), Damping: 0.5,
		})
		parent, top = name, vec3{0, 0, length}
		r = max(r*0.88, 0.02)
		effort = max(effort*0.75, 5)
	}
	if gripper {
		b.gripper(parent, top, r/0.035)
		return
	}
	b.link("flange", cyl(r, 0.01, Z, vec3{0, 0, 0.005}, grey), metal)
	b.joint(Joint{Name: "flange_joint", Type: Fixed, Parent: parent, Child: "flange", Origin: top})
}

// gripper builds a parallel jaw gripper: a palm and two prismatic fingers
// closing along Y. With parent empty the palm is the (fixed) root; otherwise
// it is fixed to parent at origin. scale sizes the palm.
func (b *builder) gripper(parent string, origin vec3, scale float64) {
	scale = min(max(scale, 0.8), 1.6)
	pw := math.Round(b.between(0.08, 0.12)*scale*1000) / 1000 // palm width (Y)
	pd := math.Round(0.04*scale*1000) / 1000                  // palm depth (X)
	ph := math.Round(b.between(0.04, 0.06)*scale*1000) / 1000 // palm height (Z)
	b.link("gripper_base", meshed(box(pd, pw, ph, vec3{0, 0, ph / 2}, dark), "gripper_base"), metal*0.5)
	if parent != "" {
		b.joint(Joint{Name: "gripper_mount", Type: Fixed, Parent: parent, Child: "gripper_base", Origin: origin})
	}
	fl := b.between(0.04, 0.07) * scale
	fl = math.Round(fl*1000) / 1000
	ft := 0.012
	travel := math.Round((pw/2-ft-0.004)*1000) / 1000
	effort := math.Round(b.between(20, 80))
	for _, side := range []struct {
		name string
		y    float64
	}{{"left_finger", 1}, {"right_finger", -1}} {
		g := box(0.02, ft, fl, vec3{0, 0, fl / 2}, light)
		if side.y > 0 {
			g = meshed(g, "finger")
		}
		b.link(side.name, g, metal)
		lo, hi := -travel, 0.0
		if side.y < 0 {
			lo, hi = 0, travel
		}
		b.joint(Joint{
			Name: side.name + "_joint", Type: Prismatic, Parent: "gripper_base", Child: side.name,
			Origin: vec3{0, side.y * (pw/2 - ft/2), ph}, Axis: Y, Lower: lo, Upper: hi,
			Effort: effort, Velocity: 0.1, Damping: 2,
		})
	}
}

// quadruped builds a floating trunk with four three-joint legs.
func (b *builder) quadruped() {
	r := b.r
	r.Floating = true
	tl := b.between(0.45, 0.8)
	tw := b.between(0.2, 0.3)
	th := b.between(0.1, 0.16)
	b.link("trunk", meshed(box(tl, tw, th, vec3{}, b.color(1)), "trunk"), plastic*0.5)
	thigh := b.between(0.18, 0.3)
	calf := math.Round(thigh*b.between(0.95, 1.1)*1000) / 1000
	footR := 0.025
	// Legs straight down at the zero pose, feet just above the ground.
	r.RootZ = math.Round((thigh+calf+footR)*1000)/1000 + 0.005
	effort := math.Round(b.between(20, 45))
	for _, leg := range []struct {
		name string
		x, y float64
	}{{"fl", 1, 1}, {"fr", 1, -1}, {"rl", -1, 1}, {"rr", -1, -1}} {
		hip, th, cf, ft := leg.name+"_hip", leg.name+"_thigh", leg.name+"_calf", leg.name+"_foot"
		b.link(hip, cyl(0.045, 0.08, X, vec3{}, dark), metal*0.5)
		b.joint(Joint{Name: hip + "_joint", Type: Revolute, Parent: "trunk", Child: hip,
			Origin: vec3{leg.x * (tl/2 - 0.04), leg.y * (tw/2 - 0.03), 0}, Axis: X,
			Lower: -0.8, Upper: 0.8, Effort: effort, Velocity: 20, Damping: 0.2})
		g := box(0.04, 0.035, thigh, vec3{0, 0, -thigh / 2}, b.color(0.8))
		if leg.name == "fl" || leg.name == "rl" {
			g = meshed(g, "thigh_l")
		} else {
			g = meshed(g, "thigh_r")
		}
		b.link(th, g, metal*0.5)
		b.joint(Joint{Name: th + "_joint", Type: Revolute, Parent: hip, Child: th,
			Origin: vec3{0, leg.y * 0.07, 0}, Axis: Y,
			Lower: -1.6, Upper: 1.6, Effort: effort, Velocity: 20, Damping: 0.2})
		b.link(cf, cyl(0.018, calf, Z, vec3{0, 0, -calf / 2}, grey), metal*0.5)
		b.joint(Joint{Name: cf + "_joint", Type: Revolute, Parent: th, Child: cf,
			Origin: vec3{0, 0, -thigh}, Axis: Y,
			Lower: -2.7, Upper: 0, Effort: math.Round(effort * 1.5), Velocity: 15, Damping: 0.2})
		b.link(ft, sphere(footR, vec3{}, dark), 1100)
		b.joint(Joint{Name: ft + "_joint", Type: Fixed, Parent: cf, Child: ft, Origin: vec3{0, 0, -calf}})
	}
}

// humanoid builds a floating pelvis with a waist, head, two three-joint arms
// and two four-joint legs.
func (b *builder) humanoid() {
	r := b.r
	r.Floating = true
	scale := b.between(0.8, 1.1)
	s := func(v float64) float64 { return math.Round(v*scale*1000) / 1000 }
	pw, ph := s(0.26), s(0.12)
	b.link("pelvis", meshed(box(0.16*scale, pw, ph, vec3{}, b.color(1)), "pelvis"), plastic)
	tw, th := s(0.34), s(0.4)
	b.link("torso", meshed(box(0.2*scale, tw, th, vec3{0, 0, th / 2}, b.color(1)), "torso"), plastic*0.6)
	b.joint(Joint{Name: "waist_joint", Type: Revolute, Parent: "pelvis", Child: "torso",
		Origin: vec3{0, 0, ph / 2}, Axis: Z, Lower: -1, Upper: 1, Effort: 150, Velocity: 6, Damping: 1})
	hr := s(0.1)
	b.link("head", sphere(hr, vec3{0, 0, hr}, light), plastic*0.5)
	b.joint(Joint{Name: "neck_joint", Type: Revolute, Parent: "torso", Child: "head",
		Origin: vec3{0, 0, th + 0.02}, Axis: Z, Lower: -1.2, Upper: 1.2, Effort: 20, Velocity: 6, Damping: 0.2})
	ua, fa := s(b.between(0.25, 0.3)), s(b.between(0.22, 0.28))
	for _, side := range []struct {
		p string
		y float64
	}{{"left", 1}, {"right", -1}} {
		sh, up, fo, ha := side.p+"_shoulder", side.p+"_upper_arm", side.p+"_forearm", side.p+"_hand"
		b.link(sh, sphere(s(0.05), vec3{}, grey), metal*0.5)
		b.joint(Joint{Name: sh + "_pitch", Type: Revolute, Parent: "torso", Child: sh,
			Origin: vec3{0, side.y * (tw/2 + s(0.07)), th - s(0.05)}, Axis: Y,
			Lower: -3, Upper: 3, Effort: 80, Velocity: 8, Damping: 0.5})
		g := cyl(s(0.04), ua, Z, vec3{0, 0, -ua / 2}, b.color(0.8))
		if side.y > 0 {
			g = meshed(g, "upper_arm")
		}
		b.link(up, g, plastic)
		b.joint(Joint{Name: sh + "_roll", Type: Revolute, Parent: sh, Child: up,
			Axis: X, Lower: 0, Upper: 2.5, Effort: 80, Velocity: 8, Damping: 0.5})
		if side.y < 0 {
			j := b.r.Joints[len(b.r.Joints)-1]
			j.Lower, j.Upper = -2.5, 0
		}
		b.link(fo, cyl(s(0.035), fa, Z, vec3{0, 0, -fa / 2}, b.color(0.8)), plastic)
		b.joint(Joint{Name: side.p + "_elbow", Type: Revolute, Parent: up, Child: fo,
			Origin: vec3{0, 0, -ua}, Axis: Y, Lower: -2.5, Upper: 0, Effort: 50, Velocity: 8, Damping: 0.5})
		b.link(ha, box(s(0.05), s(0.03), s(0.09), vec3{0, 0, -s(0.045)}, light), plastic)
		b.joint(Joint{Name: side.p + "_wrist", Type: Fixed, Parent: fo, Child: ha, Origin: vec3{0, 0, -fa}})
	}
	tl, sl := s(b.between(0.38, 0.45)), s(b.between(0.36, 0.43))
	fh := s(0.05)
	for _, side := range []struct {
		p string
		y float64
	}{{"left", 1}, {"right", -1}} {
		hip, thi, shin, foot := side.p+"_hip", side.p+"_thigh", side.p+"_shin", side.p+"_foot"
		b.link(hip, sphere(s(0.06), vec3{}, grey), metal*0.5)
		b.joint(Joint{Name: hip + "_roll", Type: Revolute, Parent: "pelvis", Child: hip,
			Origin: vec3{0, side.y * pw / 3, -ph / 2}, Axis: X, Lower: -0.6, Upper: 0.6, Effort: 200, Velocity: 8, Damping: 1})
		g := cyl(s(0.055), tl, Z, vec3{0, 0, -tl / 2}, b.color(0.8))
		if side.y > 0 {
			g = meshed(g, "thigh")
		}
		b.link(thi, g, plastic)
		b.joint(Joint{Name: hip + "_pitch", Type: Revolute, Parent: hip, Child: thi,
			Axis: Y, Lower: -2, Upper: 1, Effort: 200, Velocity: 8, Damping: 1})
		b.link(shin, cyl(s(0.045), sl, Z, vec3{0, 0, -sl / 2}, b.color(0.8)), plastic)
		b.joint(Joint{Name: side.p + "_knee", Type: Revolute, Parent: thi, Child: shin,
			Origin: vec3{0, 0, -tl}, Axis: Y, Lower: 0, Upper: 2.5, Effort: 250, Velocity: 8, Damping: 1})
		b.link(foot, box(s(0.22), s(0.1), fh, vec3{s(0.04), 0, -fh / 2}, dark), plastic)
		b.joint(Joint{Name: side.p + "_ankle", Type: Revolute, Parent: shin, Child: foot,
			Origin: vec3{0, 0, -sl}, Axis: Y, Lower: -0.8, Upper: 0.8, Effort: 100, Velocity: 8, Damping: 1})
	}
	r.RootZ = math.Round((ph/2+tl+sl+fh)*1000)/1000 + 0.01
}

// mobileBase builds a floating chassis on two driven wheels and a caster,
// or four driven wheels, with a sensor mast.
func (b *builder) mobileBase() {
	r := b.r
	r.Floating = true
	l, w, h := b.between(0.4, 0.8), b.between(0.3, 0.6), b.between(0.12, 0.25)
	wr := b.between(0.06, 0.12)
	b.link("chassis", meshed(box(l, w, h, vec3{}, b.color(1)), "chassis"), plastic*0.4)
	four := b.rng.IntN(2) == 0
	if r.modular {
		// Two driven wheels (one module, attached twice) and two casters
		// (one body, replicated).
		four = false
	}
	type wheel struct {
		name string
		x, y float64
	}
	wheels := []wheel{{"left_wheel", 0, 1}, {"right_wheel", 0, -1}}
	if four {
		wheels = []wheel{{"front_left_wheel", 1, 1}, {"front_right_wheel", 1, -1}, {"rear_left_wheel", -1, 1}, {"rear_right_wheel", -1, -1}}
	}
	effort := math.Round(b.between(10, 40))
	wt := 0.04
	for i, wh := range wheels {
		g := cyl(wr, wt, Y, vec3{}, dark)
		if i == 0 || r.modular {
			g = meshed(g, "wheel")
		}
		b.link(wh.name, g, 1100)
		b.joint(Joint{Name: wh.name + "_joint", Type: Continuous, Parent: "chassis", Child: wh.name,
			Origin: vec3{wh.x * (l/2 - wr), wh.y * (w/2 + wt/2 + 0.005), -h / 2}, Axis: Y,
			Effort: effort, Velocity: b.between(10, 20), Damping: 0.05})
	}
	if r.modular {
		// Casters front and back, named as <replicate> names its copies.
		cr := max(math.Round(wr*0.5*1000)/1000, 0.02)
		x := l/2 - cr - 0.02
		for i, sx := range []float64{-x, x} {
			name := fmt.Sprintf("caster%d", i)
			b.link(name, sphere(cr, vec3{}, grey), metal*0.3)
			b.joint(Joint{Name: name + "_joint", Type: Fixed, Parent: "chassis", Child: name,
				Origin: vec3{sx, 0, -h/2 - (wr - cr)}})
		}
	} else if !four {
		// A caster ball half the wheel radius, its bottom level with the
		// wheels' bottoms.
		cr := max(math.Round(wr*0.5*1000)/1000, 0.02)
		b.link("caster", sphere(cr, vec3{}, grey), metal*0.3)
		b.joint(Joint{Name: "caster_joint", Type: Fixed, Parent: "chassis", Child: "caster",
			Origin: vec3{-(l/2 - cr - 0.02), 0, -h/2 - (wr - cr)}})
	}
	mh := b.between(0.1, 0.3)
	b.link("mast", cyl(0.03, mh, Z, vec3{0, 0, mh / 2}, grey), metal*0.3)
	b.joint(Joint{Name: "mast_joint", Type: Fixed, Parent: "chassis", Child: "mast", Origin: vec3{l / 4, 0, h / 2}})
	b.link("lidar", meshed(cyl(0.05, 0.05, Z, vec3{0, 0, 0.025}, dark), "lidar"), plastic)
	b.joint(Joint{Name: "lidar_joint", Type: Fixed, Parent: "mast", Child: "lidar", Origin: vec3{0, 0, mh}})
	r.RootZ = math.Round((wr+h/2)*1000)/1000 + 0.005
}

// cabinet builds a fixed cabinet: a carcass with a column of prismatic
// drawers above one or two revolute doors. The front faces +X.
func (b *builder) cabinet() {
	d, w, h := b.between(0.35, 0.6), b.between(0.5, 1.0), b.between(0.6, 1.4)
	b.link("carcass", meshed(box(d, w, h, vec3{0, 0, h / 2}, b.color(0.9)), "carcass"), wood*0.25)
	drawers := 1 + b.rng.IntN(4)
	doors := b.rng.IntN(3)
	if doors == 0 && drawers == 0 {
		drawers = 1
	}
	// The drawers share the top half (or all of it without doors).
	split := h / 2
	if doors == 0 {
		split = 0.02
	}
	dh := math.Round((h-0.02-split)/float64(drawers)*1000) / 1000
	ft := 0.02 // front panel thickness
	for i := range drawers {
		name := fmt.Sprintf("drawer%d", i+1)
		zc := split + dh*(float64(i)+0.5)
		dd := math.Round(d*0.85*1000) / 1000
		g := box(dd, w*0.9, dh*0.85, vec3{-dd / 2, 0, 0}, light)
		if i == 0 {
			g = meshed(g, "drawer")
		}
		b.link(name, g, wood*0.3)
		b.joint(Joint{Name: name + "_joint", Type: Prismatic, Parent: "carcass", Child: name,
			Origin: vec3{d/2 + ft/2, 0, zc}, Axis: X, Lower: 0, Upper: math.Round(dd*0.8*1000) / 1000,
			Effort: 50, Velocity: 0.5, Damping: 5})
	}
	if doors == 0 {
		return
	}
	dw := math.Round((w/float64(doors)-0.005)*1000) / 1000
	doorH := math.Round((split-0.03)*1000) / 1000
	for i := range doors {
		name := fmt.Sprintf("door%d", i+1)
		// Door 1 hinges on the left (+Y) edge and opens with a positive
		// angle; door 2 on the right edge with a negative one.
		side := 1.0
		lo, hi := 0.0, 1.9
		if i == 1 {
			side, lo, hi = -1, -1.9, 0
		}
		b.link(name, box(ft, dw, doorH, vec3{0, -side * dw / 2, 0}, b.color(0.7)), wood)
		b.joint(Joint{Name: name + "_hinge", Type: Revolute, Parent: "carcass", Child: name,
			Origin: vec3{d/2 + ft/2, side * w / 2, 0.015 + doorH/2}, Axis: Z, Lower: lo, Upper: hi,
			Effort: 20, Velocity: 2, Damping: 1})
	}
}
