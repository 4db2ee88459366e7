package emulator

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/procgen"
	"github.com/antimlabs/gizmo/sync/api"
)

// scene is a scene of the current generation: assets generated from a
// prompt, edited in words. Its exports are made by the procedural generator
// from its prompt and the edits done so far.
type scene struct {
	ID        string
	Name      string
	Prompt    string
	CreatedAt time.Time
	Assets    []string // asset ids, in the order they joined
	Edits     []edit
	Job       string // the job that generated it ("" for a seeded one)
}

// edit is a natural-language edit, in effect once its job ends.
type edit struct {
	Prompt string
	Job    *job
}

func (c *current) newSceneIDLocked() string {
	const digits = "abcdefghijklmnopqrstuvwxyz0123456789"
	for {
		b := make([]byte, 16)
		for i := range b {
			b[i] = digits[c.rng.IntN(len(digits))]
		}
		if _, dup := c.sceneByID[string(b)]; !dup {
			return string(b)
		}
	}
}

func (c *current) addSceneLocked(sc *scene) {
	c.scenes = append(c.scenes, sc)
	c.sceneByID[sc.ID] = sc
}

// status is the scene's status at now: that of the job that made it, or of
// its pending edit, as an asset status.
func (c *current) sceneStatusLocked(sc *scene, now time.Time) string {
	st := jobSucceeded
	if j := c.jobs[sc.Job]; j != nil {
		st = j.state(now)
	}
	for _, e := range sc.Edits {
		if es := e.Job.state(now); !terminal(es) {
			st = es
		}
	}
	switch st {
	case jobSucceeded, jobCancelled:
		return string(api.StatusReady)
	}
	return st
}

// revisionLocked is the prompt the scene's export is made from: its
// prompt and the edits that have ended, succeeded.
func (sc *scene) revisionLocked(now time.Time) (prompt string, n int) {
	parts := []string{sc.Prompt}
	for _, e := range sc.Edits {
		if e.Job.state(now) == jobSucceeded {
			parts = append(parts, e.Prompt)
			n++
		}
	}
	return strings.Join(parts, "; "), n
}

// updatedLocked is when the scene last changed: its creation, or the end
// of its latest edit that succeeded.
func (sc *scene) updatedLocked(now time.Time) time.Time {
	t := sc.CreatedAt
	for _, e := range sc.Edits {
		if e.Job.state(now) == jobSucceeded && e.Job.EndsAt.After(t) {
			t = e.Job.EndsAt
		}
	}
	return t
}

func (c *current) sceneViewLocked(sc *scene, now time.Time, withRecord bool) map[string]any {
	_, rev := sc.revisionLocked(now)
	v := map[string]any{"id": sc.ID, "name": sc.Name, "prompt": sc.Prompt, "status": c.sceneStatusLocked(sc, now),
		"created_at": sc.CreatedAt.Unix(), "updated_at": sc.updatedLocked(now).Unix(), "asset_count": len(sc.Assets), "revision": rev}
	if withRecord {
		v["assets"] = append([]string{}, sc.Assets...)
		var edits []string
		for _, e := range sc.Edits {
			edits = append(edits, e.Prompt)
		}
		v["edits"] = edits
	}
	if st := v["status"]; st == string(api.StatusReady) {
		v["formats"] = []string{"mjcf", "usd", "sdf"}
	}
	return v
}

// handleSceneList answers GET /v1/scenes, newest first.
func (s *Server) handleSceneList(w http.ResponseWriter, r *http.Request) {
	limit, offset, ok := pageParams(w, r)
	if !ok {
		return
	}
	now := s.now()
	c := s.cur
	c.mu.Lock()
	total := len(c.scenes)
	views := []map[string]any{}
	for i := offset; i < min(total, offset+limit); i++ {
		views = append(views, c.sceneViewLocked(c.scenes[total-1-i], now, false))
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "scenes": views, "total": total, "limit": limit, "offset": offset})
}

func (s *Server) scene(w http.ResponseWriter, r *http.Request) (*scene, bool) {
	return lookup(s, w, r, "scene", func(c *current, id string) *scene { return c.sceneByID[id] })
}

func (s *Server) handleSceneGet(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.scene(w, r)
	if !ok {
		return
	}
	withRecord := r.URL.Query().Get("include_record") != "false"
	s.cur.mu.Lock()
	v := s.cur.sceneViewLocked(sc, s.now(), withRecord)
	s.cur.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "scene": v})
}

// handleSceneStatus answers GET /v1/scenes/{id}/status: the pipeline's
// status and its stages, of the latest job on the scene.
func (s *Server) handleSceneStatus(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.scene(w, r)
	if !ok {
		return
	}
	now := s.now()
	c := s.cur
	c.mu.Lock()
	j := c.jobs[sc.Job]
	if len(sc.Edits) > 0 {
		j = sc.Edits[len(sc.Edits)-1].Job
	}
	status := c.sceneStatusLocked(sc, now)
	_, rev := sc.revisionLocked(now)
	updated := sc.updatedLocked(now).Unix()
	var stageList []map[string]any
	if j != nil {
		done := map[string]bool{}
		for _, e := range j.timeline(false) {
			if e.Name == "stage_complete" && !e.At.After(now) {
				done[e.Data["stage"].(string)] = true
			}
		}
		for _, st := range stages {
			state := "pending"
			if done[st.doc] {
				state = "complete"
			}
			stageList = append(stageList, map[string]any{"name": st.doc, "status": state})
		}
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "scene_id": sc.ID, "pipeline_status": status, "pipeline_stages": stageList,
		"revision": rev, "updated_at": updated})
}

// handleSceneCreate answers POST /v1/scenes: a new scene whose one asset
// is generated from the prompt, as a job.
func (s *Server) handleSceneCreate(w http.ResponseWriter, r *http.Request) {
	_, prompt, ok := readCreate(w, r)
	if !ok {
		return
	}
	c := s.cur
	if !c.charge(w, "generating a scene") {
		return
	}
	a, err := s.create(prompt, "", nil)
	if err != nil {
		nestedError(w, http.StatusInternalServerError, "state_not_saved", err.Error())
		return
	}
	rec, _ := s.record(a.ID)
	c.mu.Lock()
	sc := &scene{ID: c.newSceneIDLocked(), Prompt: prompt, Name: defaultName("", prompt), CreatedAt: rec.CreatedAt, Assets: []string{a.ID}}
	c.addSceneLocked(sc)
	c.sceneOf[a.ID] = sc.ID
	j := c.newJobLocked("scene", sc.ID, a.ID, prompt, rec, s.now())
	sc.Job = j.ID
	c.jobOf[a.ID] = j.ID
	c.mu.Unlock()
	if !s.saved(w) {
		return
	}
	s.accepted(w, r, j)
}

// handleSceneEdit answers POST /v1/scenes/{id}/edit: a job that, when it
// succeeds, changes what the scene exports.
func (s *Server) handleSceneEdit(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.scene(w, r)
	if !ok {
		return
	}
	_, prompt, ok := readCreate(w, r)
	if !ok {
		return
	}
	c := s.cur
	if !c.charge(w, "editing a scene") {
		return
	}
	now := s.now()
	// The edit takes the time a generation takes, and may fail as one.
	rec := record{Status: api.StatusReady}
	if d := s.cfg.GenDelay; d > 0 {
		rec.ProcessingAt, rec.SettleAt = now.Add(d/2), now.Add(d)
	}
	if s.chance(s.Faults().FailRate) {
		rec.Status = api.StatusFailed
	}
	c.mu.Lock()
	j := c.newJobLocked("edit", sc.ID, "", prompt, rec, now)
	sc.Edits = append(sc.Edits, edit{Prompt: prompt, Job: j})
	c.mu.Unlock()
	if !s.saved(w) {
		return
	}
	s.accepted(w, r, j)
}

// handleSceneExport answers POST /v1/scenes/{id}/export with a ZIP of the
// scene in the format asked for.
func (s *Server) handleSceneExport(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.scene(w, r)
	if !ok {
		return
	}
	_, f, ok := s.exportFormat(w, r)
	if !ok {
		return
	}
	now := s.now()
	c := s.cur
	c.mu.Lock()
	status := c.sceneStatusLocked(sc, now)
	prompt, rev := sc.revisionLocked(now)
	c.mu.Unlock()
	if status != string(api.StatusReady) && rev == 0 && status != jobRunning {
		nestedError(w, http.StatusConflict, "scene_not_ready", fmt.Sprintf("scene %s is %s; export it once it is ready", sc.ID, status))
		return
	}
	if !c.charge(w, "an export") {
		return
	}
	e, err := s.sceneExport(sc.ID, sc.Name, prompt, rev, f)
	if err != nil {
		nestedError(w, http.StatusInternalServerError, "export_failed", err.Error())
		return
	}
	s.serveZip(w, r, e)
}

// sceneExport is the ZIP of a scene at a revision in a format: the
// procedural generator's model of the scene's prompt and edits.
func (s *Server) sceneExport(id, name, prompt string, rev int, f formats.Format) (*exported, error) {
	key := exportKey{"scene:" + id + "@" + strconv.Itoa(rev), f}
	gid := id // each revision is generated afresh, from its own seed
	if rev > 0 {
		gid += "-r" + strconv.Itoa(rev)
	}
	return s.zipExport(key, func() ([]byte, string, error) {
		if f == formats.GazeboSDF {
			return sdfExport(gid, name, prompt)
		}
		return defaultGenerate(gid, name, prompt, f)
	})
}

// SceneIDs lists the scenes' ids, newest first; nil on an alpha server.
func (s *Server) SceneIDs() []string {
	if s.cur == nil {
		return nil
	}
	s.cur.mu.Lock()
	defer s.cur.mu.Unlock()
	var out []string
	for i := len(s.cur.scenes) - 1; i >= 0; i-- {
		out = append(out, s.cur.scenes[i].ID)
	}
	return out
}

// sdfExport renders an asset as SDFormat, zipped with its meshes.
func sdfExport(id, name, prompt string) ([]byte, string, error) {
	return procgen.Generate(id, name, prompt).ExportSDF()
}

// zipOne wraps one file in a zip.
func zipOne(name string, body []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o644)
	fw, err := zw.CreateHeader(h)
	if err == nil {
		_, err = fw.Write(body)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("emulator: zip %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
