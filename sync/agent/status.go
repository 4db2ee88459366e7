package agent

import (
	"errors"
	"time"

	"github.com/antimlabs/gizmo/formats/project"
)

// Status is what GET /status answers and gizmo agent status prints. Its
// JSON form is documented in the README; arrays are never null.
type Status struct {
	PID       int             `json:"pid"`
	Version   string          `json:"version"`
	Started   time.Time       `json:"started"`
	Ready     bool            `json:"ready"` // the first pass is done
	CacheDir  string          `json:"cache_dir"`
	Registry  string          `json:"registry,omitempty"`
	Interval  string          `json:"interval"`
	LastSync  *SyncRun        `json:"last_sync,omitempty"`
	NextSync  time.Time       `json:"next_sync,omitzero"`
	Syncing   bool            `json:"syncing"`
	Queue     int             `json:"queue"`     // files queued by the running sync, not finished
	Downloads []string        `json:"downloads"` // "id format" of the downloads running now
	Watches   int             `json:"watches"`   // directories watched
	Projects  []ProjectStatus `json:"projects"`
	Errors    []ErrorEntry    `json:"errors"` // the last errors, oldest first
}

// SyncRun is the outcome of one account sync.
type SyncRun struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	OK       bool      `json:"ok"`
	Error    string    `json:"error,omitempty"`
	Assets   int       `json:"assets"`
	New      int       `json:"files_new"`
	Failed   int       `json:"files_failed"`
	Bytes    int64     `json:"bytes"`
}

// ProjectStatus is one registered project.
type ProjectStatus struct {
	Dir string `json:"dir"`
	// OK is false while the last run of prepare failed or the manifest has
	// an error.
	OK            bool           `json:"ok"`
	Error         string         `json:"error,omitempty"`
	ManifestError *ManifestError `json:"manifest_error,omitempty"`
	Placed        int            `json:"placed"` // models in place
	LastRun       time.Time      `json:"last_run,omitzero"`
	Restores      int64          `json:"restores"`
	Watched       bool           `json:"watched"` // false: rescanned instead (see the log)
	Items         []PlacedModel  `json:"models"`
}

// PlacedModel is one placed model of a project.
type PlacedModel struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Format string `json:"format"`
	Path   string `json:"path"` // relative to the project
}

// ManifestError is an invalid gizmo.toml: the agent keeps the last good
// one meanwhile.
type ManifestError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// ErrorEntry is one logged error.
type ErrorEntry struct {
	Time    time.Time `json:"time"`  // the last time it happened
	Where   string    `json:"where"` // "sync" or a project folder
	Message string    `json:"message"`
	Count   int       `json:"count"` // times in a row
}

func manifestError(err error) *ManifestError {
	var pe *project.Error
	if errors.As(err, &pe) {
		return &ManifestError{File: pe.File, Line: pe.Line, Message: pe.Msg}
	}
	return &ManifestError{Message: err.Error()}
}

// maxErrors is how many recent errors the status keeps.
const maxErrors = 20
