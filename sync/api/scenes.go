package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// Scene is a scene of the current generation.
type Scene struct {
	ID         string           `json:"id"`
	Name       string           `json:"name,omitempty"`
	Prompt     string           `json:"prompt,omitempty"`
	Status     Status           `json:"status"`
	CreatedAt  time.Time        `json:"created_at"`
	AssetCount int              `json:"asset_count,omitempty"`
	Assets     []string         `json:"assets,omitempty"`
	Edits      []string         `json:"edits,omitempty"`
	Formats    []formats.Format `json:"formats,omitempty"`
	JobID      string           `json:"job_id,omitempty"`
	// Revision tells one state of the scene from another: what the server
	// sends of updated_at, version, revision and etag, as it comes
	// (opaque: only compared for equality). "" when it sends none of them.
	// A scene edited since its export was cached has another revision.
	Revision string `json:"revision,omitempty"`
}

type wireScene struct {
	ID         string            `json:"id"`
	SceneID    string            `json:"scene_id"`
	Name       string            `json:"name"`
	Prompt     string            `json:"prompt"`
	Status     string            `json:"status"`
	CreatedAt  json.RawMessage   `json:"created_at"`
	AssetCount int               `json:"asset_count"`
	Assets     []json.RawMessage `json:"assets"`
	Edits      []string          `json:"edits"`
	Formats    []string          `json:"formats"`
	JobID      string            `json:"job_id"`
	UpdatedAt  json.RawMessage   `json:"updated_at"`
	Version    json.RawMessage   `json:"version"`
	Rev        json.RawMessage   `json:"revision"`
	ETag       json.RawMessage   `json:"etag"`
}

// revision joins what the scene tells of its state (revision).
func (w wireScene) revision() string {
	var parts []string
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"updated_at", w.UpdatedAt}, {"version", w.Version}, {"revision", w.Rev}, {"etag", w.ETag}} {
		if v := strings.TrimSpace(string(f.raw)); v != "" && v != "null" && v != `""` {
			parts = append(parts, f.name+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

func (w wireScene) scene() Scene {
	s := Scene{ID: w.ID, Name: w.Name, Prompt: w.Prompt, Status: CurrentStatus(w.Status), CreatedAt: epochTime(w.CreatedAt),
		AssetCount: w.AssetCount, Edits: w.Edits, JobID: w.JobID, Revision: w.revision()}
	if s.ID == "" {
		s.ID = w.SceneID
	}
	for _, raw := range w.Assets {
		var id string
		var obj struct {
			ID string `json:"id"`
		}
		switch {
		case json.Unmarshal(raw, &id) == nil:
		case json.Unmarshal(raw, &obj) == nil:
			id = obj.ID
		}
		if id != "" {
			s.Assets = append(s.Assets, id)
		}
	}
	if s.AssetCount == 0 {
		s.AssetCount = len(s.Assets)
	}
	for _, f := range w.Formats {
		s.Formats = append(s.Formats, formatOfWire(f))
	}
	return s
}

// AsAsset is the scene as an asset: its id, name, prompt, status and
// formats, SceneID set to its own id (which marks it). gizmo fetches,
// exports, lists and places a scene this way: its export's root model is
// the scene.
func (s Scene) AsAsset() Asset {
	name := s.Name
	if name == "" {
		name = s.Prompt
	}
	return Asset{ID: s.ID, Status: s.Status, Name: name, Prompt: s.Prompt, CreatedAt: s.CreatedAt,
		Formats: append([]formats.Format(nil), s.Formats...), SceneID: s.ID, JobID: s.JobID, Revision: s.Revision}
}

// IsScene tells whether an asset is a scene seen as one (AsAsset).
func (a Asset) IsScene() bool { return a.SceneID != "" && a.SceneID == a.ID }

// ListScenes reads one page of GET /v1/scenes (newest first) and the total
// when the server tells it (-1 when not).
func (c *Client) ListScenes(ctx context.Context, limit, offset int) ([]Scene, int, error) {
	if c.gen != GenerationCurrent {
		return nil, 0, fmt.Errorf("list scenes: %w: the alpha generation has no scenes to list", ErrNotInGeneration)
	}
	p := listPath("/v1/scenes", limit, offset)
	var ans struct {
		Scenes []wireScene `json:"scenes"`
		Items  []wireScene `json:"items"`
		Total  *int        `json:"total"`
	}
	if err := c.do(ctx, call{op: fmt.Sprintf("list scenes (offset %d)", offset), method: http.MethodGet, path: p, out: &ans}); err != nil {
		return nil, 0, err
	}
	items := ans.Scenes
	if items == nil {
		items = ans.Items
	}
	out := make([]Scene, 0, len(items))
	for _, w := range items {
		s := w.scene()
		if s.ID != "" {
			c.scenes.Store(s.ID, true)
		}
		out = append(out, s)
	}
	total := -1
	if ans.Total != nil {
		total = *ans.Total
	}
	return out, total, nil
}

// GetScene reads GET /v1/scenes/{id}, with its assets.
func (c *Client) GetScene(ctx context.Context, id string) (*Scene, error) {
	if c.gen != GenerationCurrent {
		return nil, fmt.Errorf("get scene %s: %w: the alpha generation's scenes are not served by gizmo", id, ErrNotInGeneration)
	}
	var ans struct {
		Scene *wireScene `json:"scene"`
		wireScene
	}
	if err := c.do(ctx, call{op: "get scene " + id, method: http.MethodGet, path: "/v1/scenes/" + url.PathEscape(id), out: &ans}); err != nil {
		return nil, err
	}
	w := ans.wireScene
	if ans.Scene != nil {
		w = *ans.Scene
	}
	s := w.scene()
	if s.ID == "" {
		s.ID = id
	}
	c.scenes.Store(id, true)
	return &s, nil
}

// Whoami reads GET /v1/whoami: what the server tells about the account and
// the key, as it comes (the shape is undocumented).
func (c *Client) Whoami(ctx context.Context) (map[string]any, error) {
	if c.gen != GenerationCurrent {
		return nil, fmt.Errorf("whoami: %w: the alpha generation has no whoami", ErrNotInGeneration)
	}
	var m map[string]any
	if err := c.do(ctx, call{op: "whoami", method: http.MethodGet, path: "/v1/whoami", out: &m}); err != nil {
		return nil, err
	}
	return m, nil
}
