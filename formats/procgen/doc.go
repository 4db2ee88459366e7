// Package procgen generates the robots the Gizmo emulator serves.
//
// A robot is generated from its prompt (which decides the kind: an arm with N
// degrees of freedom, a parallel jaw gripper, an arm carrying a gripper, a
// quadruped, a humanoid, a wheeled mobile base or an articulated cabinet) and
// deterministically from its id (which seeds every dimension, colour and
// limit). One internal kinematic model — links with a box, cylinder, sphere or
// mesh geometry and a mass and inertia computed from that shape, joints with
// an axis, limits, effort and velocity — is rendered to the three Gizmo
// export formats:
//
//   - isaac_sim_urdf: a zip holding <slug>.urdf and meshes/*.stl;
//   - mujoco_mjcf: a zip holding <slug>.xml and assets/*.stl;
//   - isaac_sim_usd: one <slug>.usda text file using UsdPhysics joints.
//
// Exports are byte-identical across calls and processes: zip entries are
// written in sorted order with a fixed modification time, and no map
// iteration order reaches the output.
//
// Conventions that keep the three renderings equivalent: joint frames are
// never rotated relative to their parent link (only translated), so every
// joint axis is +X, +Y or +Z in both the parent and the child frame, which
// is all UsdPhysics' axis token can say; geometry may be turned so that a
// cylinder lies along X or Y (wheels), and meshes are generated already
// oriented and centred on their geometry origin.
package procgen
