package urdf

import (
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/antimlabs/gizmo/validate"
)

// mjMINVAL is MuJoCo's smallest mass or inertia of a moving body.
const mjMINVAL = 1e-15

// checkPhysics warns about what urdfdom accepts but simulators mishandle:
// non-positive masses, inertias that are not physical, moving links without
// inertial. Under Target "mujoco" the ones MuJoCo refuses are errors.
func (m *model) checkPhysics() {
	mujoco := m.opts.Target == validate.TargetMuJoCo
	sev := validate.Warning
	if mujoco {
		sev = validate.Error
	}
	parentJoint := map[string]*joint{}
	for _, j := range m.joints {
		if _, has := parentJoint[j.child]; !has {
			parentJoint[j.child] = j
		}
	}
	for _, l := range m.links {
		in := l.inertial
		pj := parentJoint[l.name]
		moving := pj != nil && pj.typ != "fixed"
		if in == nil || !in.ok {
			if in == nil && moving {
				if mujoco && m.fusedMass(l) > mjMINVAL {
					continue
				}
				m.add(sev, l.el, "urdf-inertial-missing", "link %q moves (joint %q) but has no <inertial>; Isaac Sim substitutes a default mass and MuJoCo refuses massless moving bodies: give it <inertial> with mass and inertia", l.name, pj.name)
			}
			continue
		}
		if in.mass <= 0 {
			s := validate.Warning
			if mujoco && moving {
				s = validate.Error
			}
			m.add(s, in.el, "urdf-mass", "link %q has mass %g; urdfdom accepts it but physics engines need a positive mass", l.name, in.mass)
		}
		eig := validate.EigenSym3(in.ixx, in.iyy, in.izz, in.ixy, in.ixz, in.iyz)
		scale := math.Max(math.Abs(eig[0]), math.Max(math.Abs(eig[1]), math.Abs(eig[2])))
		tol := 1e-9 * scale
		switch {
		case eig[0] < -tol:
			m.add(sev, in.el, "urdf-inertia", "link %q: the inertia tensor is not positive definite (principal moments %.4g, %.4g, %.4g); it is not physical", l.name, eig[0], eig[1], eig[2])
		case eig[0]+eig[1] < eig[2]-1e-6*scale:
			m.add(sev, in.el, "urdf-inertia", "link %q: the principal moments of inertia %.4g, %.4g, %.4g break the triangle inequality (A + B >= C); MuJoCo refuses this and other engines misbehave", l.name, eig[0], eig[1], eig[2])
		case eig[0] <= tol && in.mass > 0 && moving:
			m.warnf(in.el, "urdf-inertia", "link %q moves but has a zero principal moment of inertia; simulators may be unstable: give it a positive inertia", l.name)
		}
	}
}

// fusedMass is the mass of l plus that of every link attached below it by
// fixed joints, as MuJoCo's fusestatic sees it.
func (m *model) fusedMass(l *link) float64 {
	total := 0.0
	seen := map[string]bool{}
	var walk func(*link)
	walk = func(x *link) {
		if seen[x.name] {
			return
		}
		seen[x.name] = true
		if x.inertial != nil && x.inertial.ok {
			total += x.inertial.mass
		}
		for _, j := range m.joints {
			if j.parent == x.name && j.typ == "fixed" {
				if c := m.linkByName[j.child]; c != nil {
					walk(c)
				}
			}
		}
	}
	walk(l)
	return total
}

// checkMeshes reports every mesh file that does not resolve the way Isaac
// Sim's importer resolves it (see resolve).
func (m *model) checkMeshes() {
	for _, l := range m.links {
		for _, ms := range l.meshes {
			if _, ok := resolve(ms.filename, m.dir, m.opts.PackagePaths, m.opts); ok {
				continue
			}
			m.errorf(ms.el, "urdf-mesh-missing", "link %q: mesh %q not found (looked in the URDF's folder and each folder above it, --package-path and ROS_PACKAGE_PATH); Isaac Sim's importer skips geometry it cannot find: fix the path or add the file%s", l.name, ms.filename, hint(ms.filename))
		}
	}
}

// resolve finds a mesh file as Isaac Sim's URDF importer does: everything up
// to "://" is dropped (package://pkg/a.stl → pkg/a.stl, file:///x → /x); an
// absolute path must exist; a relative one is tried against dir and each
// folder above it, then each of packagePaths, then each entry of
// ROS_PACKAGE_PATH (for a package path that is the package folder itself,
// the package name is dropped too). It returns the file found. Files are
// looked for through opts.FS.
func resolve(uri, dir string, packagePaths []string, opts validate.Options) (string, bool) {
	p := uri
	if i := strings.Index(p, "://"); i >= 0 {
		p = p[i+3:]
	}
	if p == "" {
		return "", false
	}
	if filepath.IsAbs(p) {
		return p, opts.IsFile(p)
	}
	rel := filepath.FromSlash(p)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	for d := dir; ; {
		if c := filepath.Join(d, rel); opts.IsFile(c) {
			return c, true
		}
		up := filepath.Dir(d)
		if up == d {
			break
		}
		d = up
	}
	roots := append([]string(nil), packagePaths...)
	if env := os.Getenv("ROS_PACKAGE_PATH"); env != "" {
		roots = append(roots, filepath.SplitList(env)...)
	}
	first, rest, hasRest := strings.Cut(filepath.ToSlash(p), "/")
	for _, root := range roots {
		if root == "" {
			continue
		}
		if c := filepath.Join(root, rel); opts.IsFile(c) {
			return c, true
		}
		if hasRest && filepath.Base(filepath.Clean(root)) == first {
			if c := filepath.Join(root, filepath.FromSlash(rest)); opts.IsFile(c) {
				return c, true
			}
		}
	}
	return "", false
}

// isaacMeshFormats are the mesh files Isaac Sim's importer converts or
// references.
var isaacMeshFormats = map[string]bool{".stl": true, ".obj": true, ".dae": true, ".fbx": true, ".gltf": true, ".glb": true, ".usd": true, ".usda": true, ".usdc": true}

// mujocoMeshFormats are the mesh files MuJoCo 3 loads.
var mujocoMeshFormats = map[string]bool{".stl": true, ".obj": true, ".msh": true}

// checkTarget adds the checks of one simulator's importer.
func (m *model) checkTarget() {
	switch m.opts.Target {
	case validate.TargetIsaac:
		for _, j := range m.joints {
			if j.typ == "planar" {
				m.errorf(j.el, "isaac-joint-planar", "joint %q is planar, which Isaac Sim's URDF importer does not support: use two prismatic joints and a revolute one", j.name)
			}
			if j.mimic != "" && m.jointByName[j.mimic] == nil {
				m.errorf(j.mimicEl, "isaac-mimic-joint", "joint %q mimics joint %q, which is not defined", j.name, j.mimic)
			}
		}
		for _, l := range m.links {
			for _, ms := range l.meshes {
				ext := strings.ToLower(filepath.Ext(ms.filename))
				if !isaacMeshFormats[ext] {
					m.errorf(ms.el, "isaac-mesh-format", "link %q: mesh %q: Isaac Sim's importer reads .stl, .obj, .dae, .fbx, .gltf/.glb and USD meshes, not %q", l.name, ms.filename, ext)
				}
			}
		}
	case validate.TargetMuJoCo:
		meshDir := m.dir
		if mj := child(m.robot, "mujoco"); mj != nil {
			if c := child(mj, "compiler"); c != nil {
				if d, ok := attr(c, "meshdir"); ok {
					if !filepath.IsAbs(d) {
						d = filepath.Join(m.dir, d)
					}
					meshDir = d
				}
			}
		}
		for _, l := range m.links {
			for _, ms := range l.meshes {
				if ms.visual {
					continue // MuJoCo reads URDF with discardvisual
				}
				ext := strings.ToLower(filepath.Ext(ms.filename))
				if !mujocoMeshFormats[ext] {
					m.errorf(ms.el, "mujoco-mesh-format", "link %q: mesh %q: MuJoCo loads .stl, .obj and .msh meshes, not %q: convert it", l.name, ms.filename, ext)
					continue
				}
				// MuJoCo reads URDF with strippath: only the file name counts,
				// looked up in meshdir (the URDF's folder by default).
				base := ms.filename
				if i := strings.LastIndexAny(base, "/\\"); i >= 0 {
					base = base[i+1:]
				}
				if !m.opts.IsFile(filepath.Join(meshDir, base)) {
					m.errorf(ms.el, "mujoco-mesh-path", "link %q: MuJoCo reads URDF meshes by file name only (strippath) and finds no %q in %s: put the meshes next to the URDF or add <mujoco><compiler meshdir=\"...\"/></mujoco> to <robot>", l.name, base, meshDir)
				}
			}
		}
	}
	// Mimic and transmission references: urdfdom does not check them.
	for _, j := range m.joints {
		if j.mimic != "" && m.jointByName[j.mimic] == nil && m.opts.Target != validate.TargetIsaac {
			m.warnf(j.mimicEl, "urdf-mimic-joint", "joint %q mimics joint %q, which is not defined; urdfdom accepts it, Isaac Sim's importer cannot: fix the name", j.name, j.mimic)
		}
	}
	for _, t := range children(m.robot, "transmission") {
		for _, tj := range children(t, "joint") {
			name, _ := attr(tj, "name")
			if m.jointByName[name] == nil {
				m.warnf(tj, "urdf-transmission-joint", "transmission names joint %q, which is not defined; controllers that read transmissions will fail: fix the name", name)
			}
		}
	}
}
