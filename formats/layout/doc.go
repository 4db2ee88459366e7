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
//	<dir>/<slug>                   symlink -> .gizmo/<slug>@<key>.<rand>
//	<dir>/.gizmo/<slug>@<key>.<rand>/     one immutable version of the asset's folder
//	<dir>/.gizmo/<slug>@<key>.<rand>.json what it holds (to reuse it), and when
//	                               it stopped being current
//	<dir>/.gizmo/state.json        what was placed: every file's size, mtime, sha256
//	<dir>/.gizmo/prepare.lock      held by gizmo prepare while it switches versions
//	                               in and writes state.json
//
// A new version is written beside the old one and switched in with one
// rename of a symlink, which is atomic on POSIX. A version folder is never
// changed once named, never removed while current, and its name is never
// given to another folder; placing the same sources again switches back to
// the folder built for them if it is intact.
//
// What a reader sees: one that resolves <dir>/<slug> once (opens the folder
// and reads through that handle, or loads from its real path) reads one
// version whole, the old one or the new one, never a mix, provided it is
// done within Grace (ten minutes) of the swap, or before the asset is
// placed again or removed: the version a swap replaces stays until it is replaced in
// turn, and older ones are removed once superseded more than Grace ago, by
// a later Place, Remove or Collect. A reader slower than that finds its
// files gone (ENOENT), never other files in their place. A reader that
// opens file after file through <dir>/<slug> sees every file whole and from
// one of the versions, but if a swap falls inside its load it may get some
// files of each.
//
// Slugs come from asset names (lowercase, [a-z0-9_-], at most 48 bytes) and
// never name a path outside <dir>; names that slug alike are told apart by a
// short suffix made from the asset id, and a slug once given is kept.
//
// The package reads only the source trees it is given and writes only under
// the target folder; it imports neither the cache nor the sync engine.
package layout
