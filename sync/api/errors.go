package api

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors callers branch on with errors.Is. Every *Error matches the
// one for its status.
var (
	ErrUnauthorized = errors.New("unauthorized")                    // 401
	ErrForbidden    = errors.New("forbidden")                       // 403 from the API
	ErrNotFound     = errors.New("not found")                       // 404
	ErrNotReady     = errors.New("asset not ready")                 // 409
	ErrRateLimited  = errors.New("rate limited")                    // 429
	ErrServer       = errors.New("server error")                    // 5xx
	ErrBadRequest   = errors.New("invalid request")                 // 400 and other 4xx
	ErrURLExpired   = errors.New("download URL expired or refused") // 403 on a download URL
	ErrTruncated    = errors.New("download cut short")
	// ErrGenerationFailed is what WaitReady returns (with the asset) when
	// the generation ended in status failed.
	ErrGenerationFailed = errors.New("generation failed")
)

// Error is a non-2xx answer of the API or of a download URL. It never holds
// the API key or a signed URL's query string.
type Error struct {
	Op         string        // what was attempted, e.g. "export ast_1/mujoco_mjcf"
	StatusCode int           // HTTP status
	Category   string        // the body's "error" field, if any
	Code       string        // the body's "code" field, if any
	Message    string        // the body's "message" field, or a snippet of a non-JSON body
	RetryAfter time.Duration // from a 429's Retry-After header
	Hint       string        // what to do, when the client knows
	kind       error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.Op, e.StatusCode)
	if e.Code != "" {
		s += " " + e.Code
	} else if e.Category != "" {
		s += " " + e.Category
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Is matches the sentinel error for the status.
func (e *Error) Is(target error) bool { return e.kind == target }

// Unwrap returns the sentinel for the status.
func (e *Error) Unwrap() error { return e.kind }
