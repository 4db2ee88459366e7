package prepare

import (
	"fmt"
	"strings"

	"github.com/antimlabs/gizmo/formats"
)

// LockedError is what --locked returns when what would be placed differs
// from gizmo.lock; Diff names each asset.
// With Pinned, it is a plain prepare refusing to place what differs from
// what gizmo.lock pins (the lock edited by hand, or an export changed on
// Gizmo): the lock is rewritten only with --update.
type LockedError struct {
	Diff   []string
	Pinned bool
}

func (e *LockedError) Error() string {
	if e.Pinned {
		return "gizmo.lock pins what cannot be placed (edited by hand, or the export changed on Gizmo); nothing was changed. Restore gizmo.lock, or run 'gizmo prepare --update' to accept what Gizmo serves now and commit gizmo.lock:\n  " + strings.Join(e.Diff, "\n  ")
	}
	return "what would be placed differs from gizmo.lock (run 'gizmo prepare --update' and commit gizmo.lock if the change is wanted):\n  " + strings.Join(e.Diff, "\n  ")
}

// InvalidError is a model that fails validation; its problems carry
// file:line each.
type InvalidError struct {
	Asset    string
	Format   formats.Format
	Problems []string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("asset %s (%s) is not valid, not placed (ask Gizmo to regenerate it, or remove it from gizmo.toml):\n  %s", e.Asset, e.Format.Short(), strings.Join(e.Problems, "\n  "))
}

// MissingError lists what an offline prepare needs that the cache lacks.
type MissingError struct{ Missing []string }

func (e *MissingError) Error() string {
	return "offline, and the cache lacks what the project needs (run 'gizmo prepare' without --offline, or 'gizmo sync'):\n  " + strings.Join(e.Missing, "\n  ")
}

// NotFoundError is an asset the manifest names that does not exist.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What }
