package sync

import (
	"encoding/json"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
)

// EventType names what an Event reports. The values are part of the
// documented `gizmo sync --json` output.
type EventType string

// The events Run reports, in the order they usually come.
const (
	// EventListed: the listing finished. Count is the number of distinct
	// assets seen; Complete tells whether the listing is trustworthy enough
	// to mark missing assets as vanished.
	EventListed EventType = "listed"
	// EventPending: a pending or processing asset, left for the next sync
	// (or waited for with Options.Wait). Status is its status.
	EventPending EventType = "pending"
	// EventGenerationFailed: an asset whose generation failed; Reason is the
	// server's reason when it gave one.
	EventGenerationFailed EventType = "generation_failed"
	// EventUnknownStatus: an asset with a status this version does not know;
	// it is recorded and skipped.
	EventUnknownStatus EventType = "unknown_status"
	// EventPlan: with Options.DryRun, a file that would be fetched. Reason
	// says why (ReasonNew, ReasonMissing); Size is its size when known, 0
	// otherwise (a listing gives none).
	EventPlan EventType = "would_fetch"
	// EventQueued: a file is due for fetching; Count is the number of files
	// queued so far. The JSON and line reporters leave it out.
	EventQueued EventType = "queued"
	// EventStart: a download starts.
	EventStart EventType = "start"
	// EventProgress: bytes of a running download (Bytes done of Size, Size 0
	// when unknown). Frequent; the JSON reporter leaves them out.
	EventProgress EventType = "progress"
	// EventRetry: an attempt at a file failed and is retried; Reason says why.
	EventRetry EventType = "retry"
	// EventDone: a file was fetched, verified and stored. Size, SHA256 and
	// Path describe it; Valid is set when a validator checked it.
	EventDone EventType = "done"
	// EventSkip: a wanted file needs nothing (already cached) or cannot be
	// had (the asset does not offer the format); Reason says which.
	EventSkip EventType = "skip"
	// EventFail: a file (or an asset, Format empty) could not be synced;
	// Reason says why and what to do.
	EventFail EventType = "fail"
	// EventVanished: an asset the cache knows is no longer in the account.
	EventVanished EventType = "vanished"
	// EventPruned: with Options.Prune, a vanished asset removed from the cache.
	EventPruned EventType = "pruned"
	// EventSummary: the last event; Summary is set.
	EventSummary EventType = "summary"
)

// Event is one thing Run did or found. Fields that do not apply are zero and
// left out of the JSON form.
type Event struct {
	Type     EventType      `json:"event"`
	Time     time.Time      `json:"time"`
	ID       string         `json:"id,omitempty"`
	Name     string         `json:"name,omitempty"`
	Format   formats.Format `json:"format,omitempty"`
	Status   api.Status     `json:"status,omitempty"`
	Bytes    int64          `json:"bytes,omitempty"`
	Size     int64          `json:"size,omitempty"`
	SHA256   string         `json:"sha256,omitempty"`
	Path     string         `json:"model,omitempty"` // the model file in the cache
	Valid    *bool          `json:"valid,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Count    int            `json:"count,omitempty"`
	Complete bool           `json:"complete,omitempty"`
	Summary  *Summary       `json:"summary,omitempty"`
}

// Summary is the outcome of a Run. Files are (asset, format) pairs.
type Summary struct {
	Seen int `json:"assets_seen"` // distinct assets listed
	// Scenes counts the scenes listed (Options.Scenes); the counts below
	// count them with the assets.
	Scenes    int `json:"scenes_seen,omitempty"`
	Ready     int `json:"assets_ready"`      // of them, ready
	Pending   int `json:"assets_pending"`    // pending or processing, left for the next sync
	GenFailed int `json:"generation_failed"` // whose generation failed
	Vanished  int `json:"assets_vanished"`   // known to the cache, gone from the account
	Pruned    int `json:"assets_pruned"`     // vanished and removed (Options.Prune)

	New     int `json:"files_new"`     // fetched and stored by this run
	Skipped int `json:"files_skipped"` // already in the cache
	Failed  int `json:"files_failed"`  // could not be synced (see Failures)
	Planned int `json:"files_planned"` // DryRun: would be fetched
	// PlannedBytes sums the sizes of the planned files that are known.
	PlannedBytes int64 `json:"bytes_planned,omitempty"`
	// NotOffered counts wanted formats (Options.Formats) an asset does not offer.
	NotOffered int `json:"files_not_offered"`
	// UnknownFormat counts the files not mirrored because their format is
	// one gizmo does not check or place (UnknownFormats names them); a
	// format Options.Formats names is mirrored.
	UnknownFormat  int              `json:"files_unknown_format"`
	UnknownFormats []formats.Format `json:"unknown_formats,omitempty"`
	Bytes          int64            `json:"bytes"` // downloaded by this run

	Duration time.Duration `json:"-"` // in the JSON form: duration_seconds
	// Complete is false when the listing stopped early or changed under
	// the run; vanished assets are then neither marked nor pruned.
	Complete bool `json:"listing_complete"`
	// ScenePages counts the pages of the scene listing read (for the
	// request count of a full sync).
	ScenePages int `json:"-"`
	// Failures lists every failed file or asset with its reason.
	Failures []Failure `json:"failures,omitempty"`
}

// MarshalJSON gives the summary's JSON form: every field, and the
// duration in seconds (duration_seconds), as every duration of gizmo's
// --json output is.
func (s Summary) MarshalJSON() ([]byte, error) {
	type fields Summary // without this method
	return json.Marshal(struct {
		fields
		Seconds float64 `json:"duration_seconds"`
	}{fields(s), s.Duration.Seconds()})
}

// OK reports whether everything wanted is in the cache: nothing failed.
func (s *Summary) OK() bool { return len(s.Failures) == 0 }

// Failure is one file (or asset, with Format empty) that could not be synced.
type Failure struct {
	ID     string         `json:"id"`
	Format formats.Format `json:"format,omitempty"`
	Reason string         `json:"reason"`
}
