package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// event is one event of a job's stream.
type event struct {
	Seq  int
	Name string // the SSE event name
	At   time.Time
	Data map[string]any
}

// stages are the pipeline stages a job goes through, with the name the live
// dialect gives each.
var stages = []struct{ doc, live string }{
	{"prompt", "prompt_parsed"},
	{"geometry", "geometry_generated"},
	{"physics", "physics_tuned"},
	{"export", "exports_built"},
}

// timeline is every event of j, in order, with the time each happens; only
// those at or before now have happened. A failed job fails in its third
// stage; a cancelled one ends where it was cancelled.
func (j *job) timeline(live bool) []event {
	var evs []event
	add := func(name string, at time.Time, data map[string]any) {
		if data == nil {
			data = map[string]any{}
		}
		data["job_id"] = j.ID
		data["type"] = name
		data["seq"] = len(evs) + 1
		data["time"] = at.Unix()
		evs = append(evs, event{Seq: len(evs) + 1, Name: name, At: at, Data: data})
	}
	if live {
		add("job_queued", j.CreatedAt, map[string]any{"status": jobQueued})
		add("job_started", j.StartedAt, map[string]any{"status": jobRunning})
	}
	span := j.EndsAt.Sub(j.StartedAt)
	n := len(stages)
	for i, st := range stages {
		start := j.StartedAt.Add(span * time.Duration(i) / time.Duration(n))
		end := j.StartedAt.Add(span * time.Duration(i+1) / time.Duration(n))
		if j.Final == jobCancelled && end.After(j.EndsAt) {
			break
		}
		if j.Final == jobFailed && i == 2 {
			break
		}
		if live {
			add(st.live, end, map[string]any{"stage": st.doc})
			continue
		}
		add("stage_start", start, map[string]any{"stage": st.doc})
		add("stage_complete", end, map[string]any{"stage": st.doc})
	}
	switch {
	case j.Final == jobSucceeded && live:
		add("job_succeeded", j.EndsAt, map[string]any{"status": jobSucceeded, "asset_id": j.AssetID, "scene_id": j.SceneID})
	case j.Final == jobSucceeded:
		if j.AssetID != "" {
			add("asset_ready", j.EndsAt, map[string]any{"asset_id": j.AssetID, "scene_id": j.SceneID})
		}
		add("done", j.EndsAt, map[string]any{"status": jobSucceeded, "scene_id": j.SceneID})
	case j.Final == jobFailed && live:
		add("job_failed", j.EndsAt, map[string]any{"status": jobFailed, "error": failReason})
	case j.Final == jobFailed:
		add("error", j.EndsAt, map[string]any{"code": "generation_failed", "message": failReason})
		add("done", j.EndsAt, map[string]any{"status": jobFailed})
	case live:
		add("job_cancelled", j.EndsAt, map[string]any{"status": jobCancelled})
	default:
		add("done", j.EndsAt, map[string]any{"status": jobCancelled})
	}
	return evs
}

// handleEvents streams a job's events as Server-Sent Events from after
// (the query's after, or the Last-Event-ID header): each event as it
// happens, a ping when there is nothing to say for PingInterval. The
// documented dialect closes the stream after its last event; the live one
// goes on pinging.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	c := s.cur
	if c.opts.NoEvents {
		nestedError(w, http.StatusNotFound, "route_not_found", "no event stream on this server: poll GET /v1/jobs/{id}")
		return
	}
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	after := 0
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			nestedError(w, http.StatusUnprocessableEntity, "invalid_request", fmt.Sprintf("after %q: want a sequence number", v))
			return
		}
		after = n
	} else if v := r.Header.Get("Last-Event-ID"); v != "" {
		after, _ = strconv.Atoi(v)
	}
	live := c.opts.LiveEvents
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	deadline := time.Now().Add(c.opts.MaxStream)
	sent := 0
	lastWrite := time.Now()
	for time.Now().Before(deadline) {
		c.mu.Lock()
		evs := j.timeline(live)
		c.mu.Unlock()
		now := s.now()
		next := time.Time{}
		for _, e := range evs {
			if e.Seq <= after {
				continue
			}
			if e.At.After(now) {
				next = e.At
				break
			}
			b, _ := json.Marshal(e.Data)
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Name, b); err != nil {
				return
			}
			rc.Flush()
			after, lastWrite = e.Seq, time.Now()
			sent++
			if d := c.opts.DropStreamAfter; d > 0 && sent >= d && e.Seq < len(evs) {
				panic(http.ErrAbortHandler) // the connection drops mid-job
			}
		}
		if after >= len(evs) && !live {
			return // the documented dialect closes at the end
		}
		wait := c.opts.PingInterval - time.Since(lastWrite)
		if !next.IsZero() {
			wait = min(wait, next.Sub(now))
		}
		if wait <= 0 {
			if _, err := fmt.Fprintf(w, "event: ping\ndata: {}\n\n"); err != nil {
				return
			}
			rc.Flush()
			lastWrite = time.Now()
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
}
