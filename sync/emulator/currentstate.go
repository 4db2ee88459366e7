package emulator

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// savedCurrent is the current generation's part of StateDir/state.json:
// its scenes and jobs, so that a restarted emulator still knows the scenes
// it generated and answers GET /v1/jobs/{id} for the jobs it ran. A job's
// state follows from its times, so a job that was running when the
// emulator stopped has ended when it comes back after its end time.
type savedCurrent struct {
	Scenes []savedScene `json:"scenes"`
	Jobs   []*job       `json:"jobs"`
}

// savedScene is a scene with its edits named by their jobs.
type savedScene struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Prompt    string      `json:"prompt"`
	CreatedAt time.Time   `json:"created_at"`
	Assets    []string    `json:"assets,omitempty"`
	Edits     []savedEdit `json:"edits,omitempty"`
	Job       string      `json:"job,omitempty"`
}

type savedEdit struct {
	Prompt string `json:"prompt"`
	Job    string `json:"job"`
}

// snapshot copies the scenes and jobs for the state file.
func (c *current) snapshot() *savedCurrent {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &savedCurrent{Scenes: make([]savedScene, 0, len(c.scenes)), Jobs: make([]*job, 0, len(c.jobs))}
	for _, sc := range c.scenes {
		ss := savedScene{ID: sc.ID, Name: sc.Name, Prompt: sc.Prompt, CreatedAt: sc.CreatedAt,
			Assets: append([]string(nil), sc.Assets...), Job: sc.Job}
		for _, e := range sc.Edits {
			ss.Edits = append(ss.Edits, savedEdit{Prompt: e.Prompt, Job: e.Job.ID})
		}
		out.Scenes = append(out.Scenes, ss)
	}
	for _, j := range c.jobs {
		cp := *j
		out.Jobs = append(out.Jobs, &cp)
	}
	// In creation order, so that the file reads (and diffs) the same way
	// every time.
	slices.SortFunc(out.Jobs, func(a, b *job) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// restoreLocked puts saved scenes and jobs back; the asset→scene and
// asset→job maps follow from them. An edit whose job is missing from the
// file (a hand-edited state) is dropped; a job naming an unknown asset
// keeps its id (GET /v1/jobs still answers it).
func (c *current) restoreLocked(st *savedCurrent) {
	for _, j := range st.Jobs {
		if j == nil || j.ID == "" {
			continue
		}
		cp := *j
		c.jobs[cp.ID] = &cp
		if cp.AssetID != "" {
			c.jobOf[cp.AssetID] = cp.ID
		}
	}
	for _, ss := range st.Scenes {
		if ss.ID == "" || c.sceneByID[ss.ID] != nil {
			continue
		}
		sc := &scene{ID: ss.ID, Name: ss.Name, Prompt: ss.Prompt, CreatedAt: ss.CreatedAt,
			Assets: append([]string(nil), ss.Assets...), Job: ss.Job}
		for _, e := range ss.Edits {
			if j := c.jobs[e.Job]; j != nil {
				sc.Edits = append(sc.Edits, edit{Prompt: e.Prompt, Job: j})
			}
		}
		for _, id := range sc.Assets {
			c.sceneOf[id] = sc.ID
		}
		c.addSceneLocked(sc)
	}
}

// saved writes the state after a job was made; false after answering 500
// when it could not be written.
func (s *Server) saved(w http.ResponseWriter) bool {
	if err := s.save(); err != nil {
		nestedError(w, http.StatusInternalServerError, "state_not_saved", err.Error())
		return false
	}
	return true
}
