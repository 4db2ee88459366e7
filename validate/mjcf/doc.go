// Package mjcf checks MuJoCo MJCF models for the errors MuJoCo's XML reader
// and compiler would raise at load time, with the file and line of each.
//
// The reference is MuJoCo 3.3.x (3.3.8 as mujoco-js runs it): the element and
// attribute grammar is the table in schema.go; Check adds what the compiler
// checks after parsing (includes, default classes, names, references, files,
// sizes, masses and inertias, keyframe sizes). Tree and Includes expose the
// kinematic tree and the include closure of a model.
package mjcf
