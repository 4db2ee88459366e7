// Package exitcode is the one place that maps gizmo's outcomes to process exit
// codes. The README's "Exit codes" table mirrors it.
package exitcode

import (
	"errors"
	"fmt"
)

// The exit codes gizmo uses. They are part of the documented interface.
const (
	OK       = 0 // success
	Failure  = 1 // any failure not listed below
	Usage    = 2 // bad flags, arguments or configuration
	NotFound = 3 // the asset, file or cache entry does not exist
	Invalid  = 4 // a model, archive or manifest has errors (validation failed)
	Partial  = 5 // some items failed while others succeeded (sync, prepare)
	Auth     = 6 // the API key is missing, wrong or lacks permission
	Locked   = 7 // prepare --locked: what would be placed differs from gizmo.lock
	// NotRunning: gizmo agent status found no agent running on the cache.
	NotRunning = 8
	// Busy: another gizmo agent already runs on the cache.
	Busy = 9
)

// Error carries an exit code with an error. Commands return it (or wrap it)
// so that main maps outcomes to codes in one place.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// With wraps err so that the process exits with code. A nil err stays nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Silent makes an error that sets the exit code but prints nothing more: the
// command has already reported the details (a validation report, a summary).
func Silent(code int) error { return &Error{Code: code} }

// Of returns the exit code for err: the code of the outermost *Error in its
// chain, or Failure.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failure
}
