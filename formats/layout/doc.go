// Package layout places extracted exports into simulator project layouts.
//
// A target is a folder of a simulation project and a layout preset:
//
//   - mujoco (MuJoCo Menagerie's convention): <dir>/<slug>/<slug>.xml, a
//     <dir>/<slug>/scene.xml that includes it and adds a floor and a light,
//     and every mesh, texture, height field and skin in <dir>/<slug>/assets/,
//     with compiler meshdir/texturedir and file attributes rewritten so that
//     the model compiles from where it stands.
//   - isaac: <dir>/<slug>/<slug>.usda (or .usd for a binary crate) for the USD
//     export, and <dir>/<slug>/urdf/<slug>.urdf with urdf/meshes/ for Isaac
//     Sim's URDF importer, package:// and absolute mesh URIs rewritten to
//     paths relative to the URDF.
//
// On disk a target looks like this:
//
//	<dir>/<slug>                  symlink -> .gizmo/<slug>@<key>
//	<dir>/.gizmo/<slug>@<key>/    one immutable version of the asset's folder
//	<dir>/.gizmo/<slug>@<key>.json  what that version holds (to reuse it)
//	<dir>/.gizmo/state.json       what was placed: every file's size, mtime, sha256
//	<dir>/.gizmo/prepare.lock     held by gizmo prepare while it writes the target
//
// A new version is written beside the old one and switched in with one
// rename of a symlink, which is atomic on POSIX: a simulator that opens
// <dir>/<slug> sees the old version or the new one, never a mix. The version
// before the current one is kept (a reader that resolved the old link can
// finish); older ones are removed after each swap.
//
// Slugs come from asset names (lowercase, [a-z0-9_-], at most 48 bytes) and
// never name a path outside <dir>; names that slug alike are told apart by a
// short suffix made from the asset id, and a slug once given is kept.
//
// The package reads only the source trees it is given and writes only under
// the target folder; it imports neither the cache nor the sync engine.
package layout
