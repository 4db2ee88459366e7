package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
)

// currentStatus is an asset's status as the current generation names it.
func currentStatus(st api.Status) string {
	switch st {
	case api.StatusPending:
		return "queued"
	case api.StatusProcessing:
		return "running"
	}
	return string(st)
}

// currentFormats are the export formats of the current generation, and the
// project's name for each.
var currentFormats = []struct {
	wire string
	f    formats.Format
}{{"mjcf", formats.MuJoCo}, {"usd", formats.IsaacUSD}, {"sdf", formats.GazeboSDF}}

// assetView is an asset as the current generation shows it.
type assetView struct {
	ID        string   `json:"id"`
	SceneID   string   `json:"scene_id,omitempty"`
	JobID     string   `json:"job_id,omitempty"`
	Status    string   `json:"status"`
	Name      string   `json:"name"`
	Prompt    string   `json:"prompt"`
	Tags      []string `json:"tags,omitempty"`
	CreatedAt int64    `json:"created_at"`
	Formats   []string `json:"formats,omitempty"`
	Error     string   `json:"error,omitempty"`
}

func (s *Server) assetView(r *record, now time.Time) assetView {
	a := r.asset(now, true)
	c := s.cur
	c.mu.Lock()
	v := assetView{ID: a.ID, SceneID: c.sceneOf[a.ID], JobID: c.jobOf[a.ID], Status: currentStatus(a.Status), Name: a.Name,
		Prompt: a.Prompt, Tags: a.Tags, CreatedAt: a.CreatedAt.Unix(), Error: a.Error}
	c.mu.Unlock()
	if a.Status == api.StatusReady {
		for _, cf := range currentFormats {
			v.Formats = append(v.Formats, cf.wire)
		}
	}
	return v
}

// pageParams reads limit (1..100, default 20) and offset; false after
// answering 422.
func pageParams(w http.ResponseWriter, r *http.Request) (limit, offset int, ok bool) {
	q := r.URL.Query()
	limit = 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			nestedError(w, http.StatusUnprocessableEntity, "invalid_request", fmt.Sprintf("limit %q: want an integer from 1 to 100", v))
			return 0, 0, false
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			nestedError(w, http.StatusUnprocessableEntity, "invalid_request", fmt.Sprintf("offset %q: want an integer of 0 or more", v))
			return 0, 0, false
		}
		offset = n
	}
	return limit, offset, true
}

// handleCurrentList answers GET /v1/assets, in creation order, optionally
// those of one scene (scene_id).
func (s *Server) handleCurrentList(w http.ResponseWriter, r *http.Request) {
	limit, offset, ok := pageParams(w, r)
	if !ok {
		return
	}
	now := s.now()
	var recs []*record
	if sid := r.URL.Query().Get("scene_id"); sid != "" {
		s.cur.mu.Lock()
		sc := s.cur.sceneByID[sid]
		var ids []string
		if sc != nil {
			ids = append(ids, sc.Assets...)
		}
		s.cur.mu.Unlock()
		if sc == nil {
			notFound(w, "scene", sid)
			return
		}
		s.mu.Lock()
		for _, id := range ids {
			if rec := s.byID[id]; rec != nil {
				recs = append(recs, rec)
			}
		}
		s.mu.Unlock()
	} else {
		s.mu.Lock()
		recs = append(recs, s.assets...)
		s.mu.Unlock()
	}
	total := len(recs)
	views := []assetView{}
	for i := offset; i < min(total, offset+limit); i++ {
		views = append(views, s.assetView(recs[i], now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "assets": views, "total": total, "limit": limit, "offset": offset})
}

func (s *Server) handleCurrentGet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	rec := s.byID[id]
	s.mu.Unlock()
	if rec == nil {
		notFound(w, "asset", id)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "asset": s.assetView(rec, s.now())})
}

// createBody is the body of POST /v1/assets, /v1/scenes and
// /v1/scenes/{id}/edit.
type createBody struct {
	Prompt   *string `json:"prompt"`
	SceneID  string  `json:"scene_id"`
	Model    string  `json:"model"`
	Pipeline string  `json:"asset_pipeline"`
	Persist  *bool   `json:"persist"`
}

// readCreate reads and checks a create body; false after answering.
func readCreate(w http.ResponseWriter, r *http.Request) (createBody, string, bool) {
	var b createBody
	if msg := decodeBody(r, &b); msg != "" {
		nestedError(w, http.StatusBadRequest, "invalid_json", msg)
		return b, "", false
	}
	if b.Prompt == nil || strings.TrimSpace(*b.Prompt) == "" {
		validationError(w, "prompt", "field required: a prompt of at least 1 character")
		return b, "", false
	}
	p := strings.TrimSpace(*b.Prompt)
	if utf8.RuneCountInString(p) > maxPrompt {
		validationError(w, "prompt", fmt.Sprintf("ensure this value has at most %d characters", maxPrompt))
		return b, "", false
	}
	switch b.Pipeline {
	case "", "auto", "gizmo", "cad":
	default:
		validationError(w, "asset_pipeline", fmt.Sprintf("value %q is not one of auto, gizmo, cad", b.Pipeline))
		return b, "", false
	}
	return b, p, true
}

// accepted answers a create with its job, after CreateDelay.
func (s *Server) accepted(w http.ResponseWriter, r *http.Request, j *job) {
	if d := s.cur.opts.CreateDelay; d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"ok": true, "scene_id": j.SceneID, "job_id": j.ID, "status": "queued"})
}

func (s *Server) handleCurrentCreate(w http.ResponseWriter, r *http.Request) {
	b, prompt, ok := readCreate(w, r)
	if !ok {
		return
	}
	c := s.cur
	if b.SceneID == "" && c.opts.Strict {
		validationError(w, "scene_id", "field required: the scene the asset goes into (this server is strict)")
		return
	}
	if b.SceneID != "" {
		c.mu.Lock()
		_, ok := c.sceneByID[b.SceneID]
		c.mu.Unlock()
		if !ok {
			notFound(w, "scene", b.SceneID)
			return
		}
	}
	if !c.charge(w, "generating an asset") {
		return
	}
	a, err := s.create(prompt, "", nil)
	if err != nil {
		nestedError(w, http.StatusInternalServerError, "state_not_saved", err.Error())
		return
	}
	rec, _ := s.record(a.ID)
	c.mu.Lock()
	sid := b.SceneID
	made := sid == ""
	if made {
		sc := &scene{ID: c.newSceneIDLocked(), Prompt: prompt, Name: defaultName("", prompt), CreatedAt: rec.CreatedAt}
		c.addSceneLocked(sc)
		sid = sc.ID
	}
	sc := c.sceneByID[sid]
	sc.Assets = append(sc.Assets, a.ID)
	c.sceneOf[a.ID] = sid
	j := c.newJobLocked("asset", sid, a.ID, prompt, rec, s.now())
	c.jobOf[a.ID] = j.ID
	if made {
		sc.Job = j.ID // a scene made for the asset is generated with it
	}
	c.mu.Unlock()
	if !s.saved(w) {
		return
	}
	s.accepted(w, r, j)
}
