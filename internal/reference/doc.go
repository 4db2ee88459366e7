// Package reference runs the reference parsers that decide whether a model
// file really loads: urdfdom's check_urdf, MuJoCo 2.2.2's mujoco-compile
// (Debian libmujoco-samples) and MuJoCo 3.x through its official WebAssembly
// build (npm mujoco-js, driven by mujocojs/check.mjs under Node.js).
//
// Each function returns a Verdict (accepted or not, the tool's error and
// warning lines, its whole output) and returns an error only when the tool
// could not be run at all; Have tells whether a tool is installed and, if
// not, how to install it. The verdict rules follow the tools' real
// behaviour, which their exit codes hide:
//
//   - check_urdf exits 0 whenever urdfdom returns a model, even after
//     logging errors, and 255 when it does not: a file is accepted when
//     the tool printed "Successfully Parsed XML" and no line containing
//     "Error".
//   - mujoco-compile exits 0 even when compilation fails: a file is
//     accepted when it printed "Done".
//   - mujoco-js throws a C++ exception whose message lives in WebAssembly
//     memory; check.mjs reads it there and prints one JSON line per model.
//
// Package reftest holds the test helper that skips a test when a tool is
// missing.
package reference
