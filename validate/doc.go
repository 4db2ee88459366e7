// Package validate checks robot model files (URDF, MJCF, USD, SDF) for the
// errors a simulator would hit at load time, and reports each with file,
// line and a stable rule id.
//
// This package holds what every checker shares and checks nothing itself:
// Report and Problem, Options (the file system a check reads through),
// the kinematic TreeNode, the inertia arithmetic and the text form of
// reports. The per-format checkers live below it
// (validate/urdf, validate/mjcf, validate/usd, validate/sdf), and the front
// door that takes a path (a file, a folder, a zip), detects each file's
// format and hands it to its checker is validate/check: callers that
// have a path use check (check.Path); a checker uses validate.
//
// internal/xmlpos recovers line numbers that etree does not keep;
// internal/reference runs the simulators' own parsers (urdfdom's check_urdf,
// MuJoCo) for the conformance tests. This package imports neither the cache
// nor the sync engine.
package validate
