// Package mjcf checks MuJoCo MJCF models for the errors MuJoCo's XML reader
// and compiler would raise at load time, with the file and line of each.
//
// The reference is MuJoCo 3.3.8, the release npm's mujoco-js 0.0.7 runs. The
// element and attribute grammar is the table in schema.go (from the MJCF[]
// table of MuJoCo 3.3's xml_native_reader.cc, checked element by element and
// attribute by attribute against mujoco-js by TestSchemaAgainstMuJoCo3).
// Check then does what MuJoCo's reader and compiler do after the schema:
// includes (spliced as MuJoCo's preprocessor does, problems keeping the
// included file's own path and lines), compiler settings (meshdir,
// texturedir, assetdir, angle, autolimits, strippath, inertia options),
// default classes, names per object kind, references, asset files (binary
// STL, flat meshes, PNG headers), sizes, joints and limits, masses and
// inertias, actuators, sensors, tendons, equalities and keyframe sizes.
// MuJoCo 3's model composition (<attach> with <model> assets, <replicate>,
// <frame>, the names <composite> and <flexcomp> generate) is expanded
// before the checks that depend on the body tree, names, references and
// masses (compose.go), as MuJoCo 3.3.8 expands it, quirks included; every
// problem carries the chain that brought its element in (Problem.Via), and
// the error MuJoCo would report first is marked (Problem.First, first.go).
// Every rule has a variant in testdata/conformance whose verdict
// TestConformanceMuJoCo3 checks against MuJoCo (and records in
// testdata/conformance/mujoco-3.3.8.txt for TestRecordedVerdicts, which
// runs without Node); TestMutantsMuJoCo3
// (opt-in) compares the two on random mutations of accepted models.
//
// MuJoCo's quirks are kept, not corrected: inside <frame> and <replicate>
// MuJoCo 3.3 checks no attributes (gizmo warns), a <body> directly in <mujoco> is ignored
// (gizmo warns), an inverted range with limited="auto" leaves a joint
// unlimited (gizmo warns). What gizmo cannot judge goes to
// Report.NotChecked. Tree and Includes expose the kinematic tree (with the
// composition expanded) and the file closure of a model (included files
// and the models its <model> assets name).
package mjcf
