// Package project reads and writes a simulation project's gizmo files: the
// manifest gizmo.toml (which assets the project needs and the targets they go
// to) and the lock gizmo.lock (for each placed asset and format, its content
// hash and placed path), which makes prepared projects reproducible as go.sum
// makes builds.
//
// The manifest is strict: an unknown key is an error naming the key and its
// line. Edits gizmo makes to it (gizmo place) change only the lines they need,
// so the user's comments stay.
package project
