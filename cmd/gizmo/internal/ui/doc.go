// Package ui is how gizmo's commands draw on a terminal and print for
// people and programs: byte sizes, progress bars, the spinner, aligned
// tables, terminal detection, JSON, and the renderers of the sync engine's
// events. The engine and the other libraries only emit events and return
// results; every command prints through this package, so a size or a bar
// looks the same whichever command shows it.
package ui
