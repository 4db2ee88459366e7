// Package validate checks robot model files (URDF, MJCF, USD) for the errors a
// simulator would hit at load time, and reports each with file, line and a
// stable rule id.
//
// The per-format checkers live below it (validate/urdf, validate/mjcf,
// validate/usd); internal/xmlpos recovers line numbers that etree does not
// keep; internal/reference runs the simulators' own parsers (urdfdom's
// check_urdf, MuJoCo) for the conformance tests. This package imports neither
// the cache nor the sync engine.
package validate
