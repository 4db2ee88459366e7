package sync

import (
	"context"
	"io"
	"io/fs"
)

// Validator checks a stored model file (URDF or MJCF) and tells whether it
// is valid, with its error and warning counts and a few summary lines. It
// reads the model at path, and the files it references, through files:
// the download shown as its tree, which need not be unpacked on disk. The
// command wires the validators in; this package does not import them.
type Validator func(ctx context.Context, path string, files Files) Validation

// Files is where a Validator reads: names are operating-system paths.
type Files interface {
	Open(name string) (io.ReadCloser, error)
	Stat(name string) (fs.FileInfo, error)
}

// Validation is a Validator's verdict.
type Validation struct {
	Valid            bool
	Errors, Warnings int
	Summary          []string
	// Err is set when the model could not be checked at all (it cannot be
	// read, or the check was stopped): no verdict on the model. The
	// engine records such a result as invalid, with Summary; prepare
	// reports Err and records nothing.
	Err error
}
