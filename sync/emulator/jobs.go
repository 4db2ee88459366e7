package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/antimlabs/gizmo/sync/api"
)

// The job states of the current generation.
const (
	jobQueued    = "queued"
	jobRunning   = "running"
	jobSucceeded = "succeeded"
	jobFailed    = "failed"
	jobCancelled = "cancelled"
)

// job is a generation or an edit. Its state comes from the clock: queued
// until StartedAt, running until EndsAt, then Final.
type job struct {
	ID        string    `json:"id"`
	Mode      string    `json:"mode"` // "asset", "scene" or "edit"
	SceneID   string    `json:"scene_id"`
	AssetID   string    `json:"asset_id,omitempty"` // the asset it makes ("" for an edit)
	Prompt    string    `json:"prompt"`
	CreatedAt time.Time `json:"created_at"`
	StartedAt time.Time `json:"started_at"`
	EndsAt    time.Time `json:"ends_at"`
	Final     string    `json:"final"` // succeeded, failed or cancelled
}

// newJobLocked adds a job following rec's timing (the asset it makes, or,
// for an edit, a stand-in with the same timing).
func (c *current) newJobLocked(mode, sceneID, assetID, prompt string, rec record, now time.Time) *job {
	j := &job{ID: c.newJobIDLocked(), Mode: mode, SceneID: sceneID, AssetID: assetID, Prompt: prompt,
		CreatedAt: now, StartedAt: now, EndsAt: now, Final: jobSucceeded}
	if !rec.SettleAt.IsZero() {
		j.StartedAt, j.EndsAt = rec.ProcessingAt, rec.SettleAt
	}
	if rec.Status == api.StatusFailed {
		j.Final = jobFailed
	}
	c.jobs[j.ID] = j
	return j
}

func (c *current) newJobIDLocked() string {
	for {
		id := "job_" + fmt.Sprintf("%012s", strconv.FormatUint(c.rng.Uint64N(4738381338321616896), 36)) // 36^12
		if _, dup := c.jobs[id]; !dup {
			return id
		}
	}
}

// state is the job's state at now.
func (j *job) state(now time.Time) string {
	switch {
	case now.Before(j.StartedAt):
		return jobQueued
	case now.Before(j.EndsAt):
		return jobRunning
	}
	return j.Final
}

func terminal(state string) bool {
	return state == jobSucceeded || state == jobFailed || state == jobCancelled
}

// view is the job as GET /v1/jobs/{id} shows it.
func (j *job) view(now time.Time, withResult bool) map[string]any {
	st := j.state(now)
	v := map[string]any{"id": j.ID, "status": st, "mode": j.Mode, "scene_id": j.SceneID, "created_at": j.CreatedAt.Unix()}
	if st != jobQueued {
		v["started_at"] = j.StartedAt.Unix()
	}
	if terminal(st) {
		v["finished_at"] = j.EndsAt.Unix()
	}
	if st == jobFailed {
		v["error"] = map[string]any{"code": "generation_failed", "message": failReason}
	}
	if withResult && st == jobSucceeded {
		res := map[string]any{"scene_id": j.SceneID}
		if j.AssetID != "" {
			res["asset_id"] = j.AssetID
			res["assets"] = []map[string]any{{"asset_id": j.AssetID}}
		}
		v["result"] = res
	}
	return v
}

func (s *Server) job(w http.ResponseWriter, r *http.Request) (*job, bool) {
	return lookup(s, w, r, "job", func(c *current, id string) *job { return c.jobs[id] })
}

func (s *Server) handleJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	withResult, _ := strconv.ParseBool(r.URL.Query().Get("include_result"))
	s.cur.mu.Lock()
	v := j.view(s.now(), withResult)
	s.cur.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "job": v})
}

// handleJobCancel cancels a job that has not ended: it ends now, cancelled,
// and the asset it was making is removed.
func (s *Server) handleJobCancel(w http.ResponseWriter, r *http.Request) {
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	now := s.now()
	c := s.cur
	c.mu.Lock()
	st := j.state(now)
	drop := ""
	if !terminal(st) {
		j.Final, j.EndsAt = jobCancelled, now
		if j.StartedAt.After(now) {
			j.StartedAt = now
		}
		drop = j.AssetID
	}
	v := j.view(now, false)
	c.mu.Unlock()
	if terminal(st) {
		nestedError(w, http.StatusConflict, "job_finished", fmt.Sprintf("job %s has already ended (%s)", j.ID, st))
		return
	}
	if drop != "" {
		s.Delete(drop) // saves the state, the cancelled job with it
	} else if err := s.save(); err != nil {
		nestedError(w, http.StatusInternalServerError, "state_not_saved", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "job": v})
}
