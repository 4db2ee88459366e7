package procgen

import (
	"fmt"
	"math"
)

// Axis is a principal axis of a link frame.
type Axis int

// The principal axes.
const (
	X Axis = iota
	Y
	Z
)

// token is the axis as UsdPhysics spells it.
func (a Axis) token() string { return [...]string{"X", "Y", "Z"}[a] }

type vec3 [3]float64

func (v vec3) add(w vec3) vec3 { return vec3{v[0] + w[0], v[1] + w[1], v[2] + w[2]} }

// Shape is a geometry primitive.
type Shape int

// The geometry primitives.
const (
	Box Shape = iota
	Cylinder
	Sphere
)

// Geom is the one geometry of a link, used for both visual and collision.
type Geom struct {
	Shape Shape
	// Size: box full extents (x, y, z); cylinder radius and full length in
	// Size[0], Size[1]; sphere radius in Size[0].
	Size vec3
	// Axis is the direction of a cylinder's length.
	Axis Axis
	// Pos is the geometry centre in the link frame.
	Pos vec3
	// Mesh, when not empty, is the stem of a generated STL mesh that
	// approximates the primitive (a box or a faceted cylinder); the
	// formats that can reference meshes (URDF, MJCF) use it instead of the
	// primitive, USD keeps the primitive.
	Mesh string
	RGBA [4]float64
}

// volume of the primitive in m³.
func (g Geom) volume() float64 {
	switch g.Shape {
	case Box:
		return g.Size[0] * g.Size[1] * g.Size[2]
	case Cylinder:
		return math.Pi * g.Size[0] * g.Size[0] * g.Size[1]
	default:
		r := g.Size[0]
		return 4 / 3.0 * math.Pi * r * r * r
	}
}

// inertia returns the principal moments of a solid primitive of mass m about
// its centre, in the link frame (the primitives are only ever turned by
// quarter turns, so the tensor stays diagonal).
func (g Geom) inertia(m float64) vec3 {
	switch g.Shape {
	case Box:
		x, y, z := g.Size[0], g.Size[1], g.Size[2]
		return vec3{m / 12 * (y*y + z*z), m / 12 * (x*x + z*z), m / 12 * (x*x + y*y)}
	case Cylinder:
		r, h := g.Size[0], g.Size[1]
		side := m / 12 * (3*r*r + h*h)
		var in vec3
		for i := range in {
			in[i] = side
		}
		in[g.Axis] = m / 2 * r * r
		return in
	default:
		i := 2 / 5.0 * m * g.Size[0] * g.Size[0]
		return vec3{i, i, i}
	}
}

// Link is a rigid body.
type Link struct {
	Name string
	Geom Geom
	// Mass in kg, COM in the link frame, Inertia the principal moments about
	// the COM along the link axes (kg·m²).
	Mass    float64
	COM     vec3
	Inertia vec3
}

// JointType is the kind of a joint.
type JointType string

// The joint types, spelled as URDF spells them.
const (
	Revolute   JointType = "revolute"
	Continuous JointType = "continuous"
	Prismatic  JointType = "prismatic"
	Fixed      JointType = "fixed"
)

// Joint connects a parent link to a child link. The child frame is the
// parent frame translated by Origin; the joint moves the child about or along
// Axis.
type Joint struct {
	Name          string
	Type          JointType
	Parent, Child string
	Origin        vec3
	Axis          Axis
	// Lower, Upper in rad (revolute) or m (prismatic); Effort in N·m or N;
	// Velocity in rad/s or m/s. Continuous joints have no position limits.
	Lower, Upper     float64
	Effort, Velocity float64
	Damping          float64
}

// actuated reports whether the joint is driven.
func (j *Joint) actuated() bool { return j.Type != Fixed }

// limited reports whether the joint has position limits.
func (j *Joint) limited() bool { return j.Type == Revolute || j.Type == Prismatic }

// Robot is one generated robot: a tree of links joined by joints.
type Robot struct {
	id, name, prompt string
	kind             string
	dof              int
	withGripper      bool
	// modular: the MJCF export composes the robot with MuJoCo 3's
	// <attach> and <replicate> (see modular.go).
	modular bool
	slug    string
	// Links in tree order, the root first; every joint's parent comes
	// before its child.
	Links  []*Link
	Joints []*Joint
	// Floating robots (legged, wheeled) have a free root; the others are
	// fixed to the world at their root link's origin.
	Floating bool
	// RootZ is where a floating robot's root starts above the ground.
	RootZ float64
}

// Modular reports whether the MJCF export is composed from modules with
// MuJoCo 3's <attach> and <replicate> (a "modular" mobile base).
func (r *Robot) Modular() bool { return r.modular }

// Kind is the kind of robot the prompt asked for: "arm", "gripper",
// "quadruped", "humanoid", "mobile_base" or "cabinet".
func (r *Robot) Kind() string { return r.kind }

// ID is the asset id the robot was generated from.
func (r *Robot) ID() string { return r.id }

// Name is the asset name.
func (r *Robot) Name() string { return r.name }

// Slug is the file stem of the robot's model files.
func (r *Robot) Slug() string { return r.slug }

// DOF is the number of actuated joints.
func (r *Robot) DOF() int {
	n := 0
	for _, j := range r.Joints {
		if j.actuated() {
			n++
		}
	}
	return n
}

// HasGripper reports whether an arm carries a parallel jaw gripper.
func (r *Robot) HasGripper() bool { return r.withGripper }

// link returns the named link.
func (r *Robot) link(name string) *Link {
	for _, l := range r.Links {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// children returns the joints whose parent is the named link, in order.
func (r *Robot) children(name string) []*Joint {
	var out []*Joint
	for _, j := range r.Joints {
		if j.Parent == name {
			out = append(out, j)
		}
	}
	return out
}

// worldPos returns each link's origin in the robot frame at the zero pose.
func (r *Robot) worldPos() map[string]vec3 {
	pos := map[string]vec3{}
	if len(r.Links) > 0 {
		pos[r.Links[0].Name] = vec3{}
	}
	for _, j := range r.Joints {
		pos[j.Child] = pos[j.Parent].add(j.Origin)
	}
	return pos
}

// meshes returns the links that use a mesh, in link order.
func (r *Robot) meshes() []*Link {
	var out []*Link
	for _, l := range r.Links {
		if l.Geom.Mesh != "" {
			out = append(out, l)
		}
	}
	return out
}

// check verifies the invariants every renderer relies on; a failure is a
// bug in a builder.
func (r *Robot) check() error {
	seen := map[string]bool{}
	for _, l := range r.Links {
		if seen[l.Name] {
			return fmt.Errorf("duplicate link %q", l.Name)
		}
		seen[l.Name] = true
		if !(l.Mass > 0) {
			return fmt.Errorf("link %q: mass %g is not positive", l.Name, l.Mass)
		}
		a, b, c := l.Inertia[0], l.Inertia[1], l.Inertia[2]
		if !(a > 0 && b > 0 && c > 0) || a+b < c || a+c < b || b+c < a {
			return fmt.Errorf("link %q: inertia %v is not physical", l.Name, l.Inertia)
		}
	}
	placed := map[string]bool{r.Links[0].Name: true}
	joints := map[string]bool{}
	for _, j := range r.Joints {
		if joints[j.Name] {
			return fmt.Errorf("duplicate joint %q", j.Name)
		}
		joints[j.Name] = true
		if !placed[j.Parent] {
			return fmt.Errorf("joint %q: parent %q not placed before it", j.Name, j.Parent)
		}
		if placed[j.Child] || !seen[j.Child] {
			return fmt.Errorf("joint %q: child %q is unknown or has two parents", j.Name, j.Child)
		}
		placed[j.Child] = true
		if j.limited() && !(j.Lower < j.Upper) {
			return fmt.Errorf("joint %q: limits [%g, %g] are empty", j.Name, j.Lower, j.Upper)
		}
	}
	if len(placed) != len(r.Links) {
		return fmt.Errorf("%d links are not connected to the root", len(r.Links)-len(placed))
	}
	return nil
}

// xyz is the axis as a URDF/MJCF vector.
func (a Axis) xyz() string { return [...]string{"1 0 0", "0 1 0", "0 0 1"}[a] }
