package api

import (
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// Status is an asset's generation status. Unknown values are kept as they come.
type Status string

// The statuses the API documents.
const (
	StatusPending    Status = "pending"
	StatusProcessing Status = "processing"
	StatusReady      Status = "ready"
	StatusFailed     Status = "failed"
)

// Settled reports whether the status will not change any more.
func (s Status) Settled() bool { return s == StatusReady || s == StatusFailed }

// Asset is an asset as the API describes it. List pages leave Formats empty.
type Asset struct {
	ID        string           `json:"id"`
	Status    Status           `json:"status"`
	Name      string           `json:"name"`
	Prompt    string           `json:"prompt"`
	Tags      []string         `json:"tags,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	Formats   []formats.Format `json:"formats,omitempty"`
	// Error is the reason a failed generation gives, when the server sends one.
	Error string `json:"error,omitempty"`
	// SceneID and JobID: the scene the asset belongs to and the job that
	// made it (current generation only).
	SceneID string `json:"scene_id,omitempty"`
	JobID   string `json:"job_id,omitempty"`
	// Revision is a scene's (Scene.Revision), when the asset is a scene
	// seen as one.
	Revision string `json:"revision,omitempty"`
}

// CreateRequest is the body of POST /assets.
type CreateRequest struct {
	Prompt string   `json:"prompt"`
	Name   string   `json:"name,omitempty"`
	Tags   []string `json:"tags,omitempty"`
}

// Page is one page of GET /assets.
type Page struct {
	Assets []Asset `json:"assets"`
	Total  int     `json:"total"`
	Limit  int     `json:"limit"`
	Offset int     `json:"offset"`
}

// Export is the answer of POST /assets/{id}/export.
type Export struct {
	URL       string    `json:"download_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Download describes a finished download.
type Download struct {
	Size     int64  // bytes written
	ETag     string // the ETag header, quotes kept as sent
	Filename string // the Content-Disposition filename hint: untrusted, never a path
	Resumed  bool   // the server sent only the bytes after those already held (206)
}
