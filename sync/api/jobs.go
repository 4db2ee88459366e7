package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Job is a job of the current generation: a generation or an edit.
type Job struct {
	ID         string
	Status     string // queued, running, succeeded, failed, cancelled (others kept)
	Mode       string // asset, scene, edit
	SceneID    string
	AssetID    string // from the result, once there is one
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Error      string
	Result     map[string]any // the result as the server sent it (undocumented)
}

// Terminal reports whether the job has ended.
func (j *Job) Terminal() bool {
	switch j.Status {
	case "succeeded", "failed", "cancelled", "canceled":
		return true
	}
	return false
}

// JobRequest is the body of POST /v1/assets, POST /v1/scenes and POST
// /v1/scenes/{id}/edit.
type JobRequest struct {
	Prompt   string `json:"prompt"`
	SceneID  string `json:"scene_id,omitempty"`       // assets only
	Model    string `json:"model,omitempty"`          // the generation model, when chosen
	Pipeline string `json:"asset_pipeline,omitempty"` // auto, gizmo or cad
	Persist  *bool  `json:"persist,omitempty"`        // the server's default when nil
}

// Accepted is a create's answer: the job and the scene it works on.
type Accepted struct {
	JobID   string `json:"job_id"`
	SceneID string `json:"scene_id"`
	Status  string `json:"status"`
	// Recovered is true when the create's answer was lost (a timeout after
	// the server may have acted) and the job was found afterwards instead
	// of creating a second one.
	Recovered bool `json:"recovered,omitempty"`
	// AssetID is the asset found when Recovered (the job is then
	// AssetJobID's).
	AssetID string `json:"asset_id,omitempty"`
}

// The kinds of job a create makes.
const (
	JobAsset = "asset"
	JobScene = "scene"
	JobEdit  = "edit"
)

// CreateJob starts a generation: an asset (kind JobAsset, POST /v1/assets),
// a scene (JobScene, POST /v1/scenes) or an edit of scene sceneID (JobEdit,
// POST /v1/scenes/{id}/edit). The POST is never retried blindly, since it
// creates and may charge: when its answer is lost (a timeout, a cut
// connection, a 5xx) after the server may have acted, CreateJob looks for
// what it created (an asset or scene with the same prompt, made since the
// request went out) and returns that, Recovered; only when nothing is found
// does it send the POST once more.
func (c *Client) CreateJob(ctx context.Context, kind, sceneID string, r JobRequest) (*Accepted, error) {
	if c.gen != GenerationCurrent {
		what := "scenes generated from a prompt"
		if kind == JobEdit {
			what = "scene edits in words"
		}
		if kind == JobAsset {
			what = "generation jobs"
		}
		return nil, fmt.Errorf("%w: the alpha generation of the API has no %s; this server speaks alpha", ErrNotInGeneration, what)
	}
	var path, op string
	switch kind {
	case JobAsset:
		path, op = "/v1/assets", "create asset"
	case JobScene:
		path, op = "/v1/scenes", "create scene"
		r.SceneID = ""
	case JobEdit:
		if sceneID == "" {
			return nil, errors.New("edit scene: empty scene id")
		}
		path, op = "/v1/scenes/"+url.PathEscape(sceneID)+"/edit", "edit scene "+sceneID
		r.SceneID, r.Pipeline = "", ""
	default:
		return nil, fmt.Errorf("create: unknown kind of job %q", kind)
	}
	if strings.TrimSpace(r.Prompt) == "" {
		return nil, fmt.Errorf("%s: the prompt is empty", op)
	}
	for try := 1; ; try++ {
		sent := c.retry.now()
		var a Accepted
		err := c.do(ctx, call{op: op, method: http.MethodPost, path: path, body: r, out: &a, create: true})
		if err == nil {
			if a.JobID == "" {
				return nil, fmt.Errorf("%s: %w: the server accepted it without a job_id; %s", op, ErrNotAPI, notAPIHint)
			}
			return &a, nil
		}
		if !mayHaveActed(err) || ctx.Err() != nil || kind == JobEdit {
			if kind == JobEdit && mayHaveActed(err) {
				return nil, fmt.Errorf("%w (not sent again: the edit may be under way; check 'gizmo status %s' first)", err, sceneID)
			}
			return nil, err
		}
		found, ferr := c.findCreated(ctx, kind, r, sent)
		if ferr != nil {
			return nil, fmt.Errorf("%w; then looking for what it may have created: %v (not sent again: check 'gizmo ls' before trying again)", err, ferr)
		}
		if found != nil {
			c.log.Info("gizmo api: the create's answer was lost; found what it created", "op", op, "job", found.JobID)
			return found, nil
		}
		if try >= 2 {
			return nil, fmt.Errorf("%w (sent twice; nothing was created the first time; not sent again)", err)
		}
		c.log.Info("gizmo api: the create's answer was lost and nothing was created: sending it again", "op", op)
		if err := c.retry.sleep(ctx, c.retry.backoff(1)); err != nil {
			return nil, err
		}
	}
}

// mayHaveActed tells whether a failed create may have been carried out
// by the server: its answer was lost (a timeout, a connection cut after it
// was sent) or was a 5xx. A 4xx, a 429 and a connection never made are
// certain refusals.
func mayHaveActed(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode >= 500
	}
	return !errors.Is(err, context.Canceled)
}

// findCreated looks for what a create whose answer was lost made: the
// newest scene (JobScene) or asset (JobAsset) with the prompt, created at
// or after sent (less a second of clock rounding).
func (c *Client) findCreated(ctx context.Context, kind string, r JobRequest, sent time.Time) (*Accepted, error) {
	since := sent.Add(-2 * time.Second).Unix()
	prompt := strings.TrimSpace(r.Prompt)
	if kind == JobScene {
		scenes, _, err := c.ListScenes(ctx, 20, 0)
		if err != nil {
			return nil, err
		}
		for _, s := range scenes {
			if strings.TrimSpace(s.Prompt) == prompt && !s.CreatedAt.IsZero() && s.CreatedAt.Unix() >= since {
				return &Accepted{SceneID: s.ID, JobID: s.JobID, Status: string(s.Status), Recovered: true}, nil
			}
		}
		return nil, nil
	}
	// Assets are listed in creation order: the newest are on the last page.
	first, err := c.currentList(ctx, 1, 0)
	if err != nil {
		return nil, err
	}
	offset := max(0, first.Total-PageSize)
	page, err := c.currentList(ctx, PageSize, offset)
	if err != nil {
		return nil, err
	}
	for i := len(page.Assets) - 1; i >= 0; i-- {
		a := page.Assets[i]
		if strings.TrimSpace(a.Prompt) == prompt && a.CreatedAt.Unix() >= since && (r.SceneID == "" || a.SceneID == r.SceneID) {
			return &Accepted{SceneID: a.SceneID, JobID: a.JobID, AssetID: a.ID, Status: string(a.Status), Recovered: true}, nil
		}
	}
	return nil, nil
}

// wireJob is a job as GET /v1/jobs/{id} shows it.
type wireJob struct {
	ID         string          `json:"id"`
	JobID      string          `json:"job_id"`
	Status     string          `json:"status"`
	Mode       string          `json:"mode"`
	SceneID    string          `json:"scene_id"`
	AssetID    string          `json:"asset_id"`
	CreatedAt  json.RawMessage `json:"created_at"`
	StartedAt  json.RawMessage `json:"started_at"`
	FinishedAt json.RawMessage `json:"finished_at"`
	Error      json.RawMessage `json:"error"`
	Result     map[string]any  `json:"result"`
}

// GetJob reads GET /v1/jobs/{id}, with the result when withResult.
func (c *Client) GetJob(ctx context.Context, id string, withResult bool) (*Job, error) {
	if c.gen != GenerationCurrent {
		return nil, fmt.Errorf("get job %s: %w: the alpha generation has no jobs", id, ErrNotInGeneration)
	}
	p := "/v1/jobs/" + url.PathEscape(id)
	if withResult {
		p += "?include_result=true"
	}
	var ans struct {
		Job *wireJob `json:"job"`
		wireJob
	}
	op := "get job " + id
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: p, out: &ans}); err != nil {
		return nil, err
	}
	w := ans.wireJob
	if ans.Job != nil {
		w = *ans.Job
	}
	j := &Job{ID: w.ID, Status: w.Status, Mode: w.Mode, SceneID: w.SceneID, AssetID: w.AssetID, Result: w.Result,
		CreatedAt: epochTime(w.CreatedAt), StartedAt: epochTime(w.StartedAt), FinishedAt: epochTime(w.FinishedAt)}
	if j.ID == "" {
		j.ID = w.JobID
	}
	if j.ID == "" {
		j.ID = id
	}
	if j.Status == "" {
		return nil, fmt.Errorf("%s: %w: the job has no status; %s", op, ErrNotAPI, notAPIHint)
	}
	j.Error = errorText(w.Error)
	if j.AssetID == "" {
		j.AssetID = findString(w.Result, "asset_id", "assetId")
	}
	if j.SceneID == "" {
		j.SceneID = findString(w.Result, "scene_id", "sceneId")
	}
	return j, nil
}

// CancelJob asks for a job to be cancelled (POST /v1/jobs/{id}/cancel).
func (c *Client) CancelJob(ctx context.Context, id string) error {
	if c.gen != GenerationCurrent {
		return fmt.Errorf("cancel job %s: %w", id, ErrNotInGeneration)
	}
	return c.do(ctx, call{op: "cancel job " + id, method: http.MethodPost, path: "/v1/jobs/" + url.PathEscape(id) + "/cancel"})
}

// errorText reads an error that is a string or an object with a message.
func errorText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil {
		if o.Message != "" {
			return o.Message
		}
		return o.Code
	}
	return snippet(string(raw), 200)
}

// findString looks for the first string under one of the keys anywhere in
// v (maps and lists, depth first): the result's structure is undocumented.
func findString(v any, keys ...string) string {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range keys {
			if s, ok := x[k].(string); ok && s != "" {
				return s
			}
		}
		for _, sub := range x {
			if s := findString(sub, keys...); s != "" {
				return s
			}
		}
	case []any:
		for _, sub := range x {
			if s := findString(sub, keys...); s != "" {
				return s
			}
		}
	}
	return ""
}

// JobEvent is one event of a job's stream, in either dialect.
type JobEvent struct {
	Seq   int            `json:"seq,omitempty"` // the SSE id; 0 when the event had none
	Type  string         `json:"type"`          // the event name
	Stage string         `json:"stage,omitempty"`
	Data  map[string]any `json:"data,omitempty"`
	// Terminal marks the event that ends the job: done, job_succeeded,
	// job_failed, job_cancelled.
	Terminal bool `json:"terminal,omitempty"`
}

// terminalEvents are the event names that end a job, in both dialects.
var terminalEvents = map[string]bool{
	"done": true, "job_succeeded": true, "job_failed": true, "job_cancelled": true, "job_canceled": true,
	"job_completed": true, "job_done": true,
}

// FollowOptions tune FollowJob.
type FollowOptions struct {
	// After is the sequence number to resume after (0: from the start).
	After int
	// OnEvent sees every event but pings, once each, in order.
	OnEvent func(JobEvent)
	// MaxReconnects bounds the reconnections of a stream that drops
	// without its terminal event before FollowJob polls instead (default 8).
	MaxReconnects int
}

// FollowJob follows a job until it ends: from its event stream (GET
// /v1/jobs/{id}/events), resuming after the last sequence number seen when
// the connection drops, tolerant of both dialects (the documented one that
// closes after done, the live one that pings on after job_succeeded: the
// terminal event ends the reading either way). When the stream route
// fails (404, not an event stream) or drops too often, it polls the job
// with a growing, jittered delay instead. The end is confirmed by one read
// of the job, with its result, which FollowJob returns. ctx bounds it all.
func (c *Client) FollowJob(ctx context.Context, id string, o FollowOptions) (*Job, error) {
	if c.gen != GenerationCurrent {
		return nil, fmt.Errorf("follow job %s: %w", id, ErrNotInGeneration)
	}
	if o.MaxReconnects <= 0 {
		o.MaxReconnects = 8
	}
	after := o.After
	seen := map[int]bool{}
	emit := func(e JobEvent) {
		if e.Seq > 0 {
			if seen[e.Seq] || e.Seq <= o.After {
				return
			}
			seen[e.Seq] = true
			after = max(after, e.Seq)
		}
		if o.OnEvent != nil {
			o.OnEvent(e)
		}
	}
	drops := 0
	for drops <= o.MaxReconnects {
		ended, err := c.readEvents(ctx, id, after, emit)
		if ended {
			break
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("follow job %s: %w", id, ctx.Err())
		}
		if errors.Is(err, errNoStream) {
			c.log.Info("gizmo api: no event stream; polling the job", "job", id, "cause", err)
			return c.pollJob(ctx, id)
		}
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests {
				return nil, err // 401, 404 for the job...: polling will not help
			}
		}
		drops++
		c.log.Info("gizmo api: event stream dropped; resuming", "job", id, "after", after, "drop", drops, "cause", err)
		if err := c.retry.sleep(ctx, c.retry.backoff(drops)); err != nil {
			return nil, fmt.Errorf("follow job %s: %w", id, err)
		}
	}
	if drops > o.MaxReconnects {
		c.log.Info("gizmo api: event stream keeps dropping; polling the job", "job", id)
		return c.pollJob(ctx, id)
	}
	return c.GetJob(ctx, id, true)
}

// errNoStream: the event stream route does not serve a stream.
var errNoStream = errors.New("no event stream")

// readEvents reads one connection of a job's event stream after seq
// after; ended is true once a terminal event came.
func (c *Client) readEvents(ctx context.Context, id string, after int, emit func(JobEvent)) (ended bool, err error) {
	if err := c.gate.wait(ctx, c.retry); err != nil {
		return false, err
	}
	if err := c.pace.wait(ctx); err != nil {
		return false, err
	}
	target := c.base + "/v1/jobs/" + url.PathEscape(id) + "/events"
	if after > 0 {
		target += "?after=" + strconv.Itoa(after)
	}
	// A stream may be quiet for long (a queued job): the idle deadline is
	// generous, pings reset it.
	sctx, watch := watchIdle(withAPIMark(ctx), max(c.idleTimeout, 2*time.Minute))
	defer watch.stop()
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, target, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if after > 0 {
		req.Header.Set("Last-Event-ID", strconv.Itoa(after))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return false, redactErr(err)
	}
	defer resp.Body.Close()
	c.pace.observe(resp)
	op := "events of job " + id
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented:
		e := readError(op, resp, false)
		if e.Code == "job_not_found" {
			return false, e
		}
		return false, fmt.Errorf("%w: %v", errNoStream, e)
	case resp.StatusCode == http.StatusTooManyRequests:
		e := readError(op, resp, false)
		c.gate.hold(c.retry.now(), c.retry.after429(resp.Header, 1))
		return false, e
	case resp.StatusCode != http.StatusOK:
		return false, readError(op, resp, false)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fmt.Errorf("%w: the route answered %q", errNoStream, resp.Header.Get("Content-Type"))
	}
	return parseSSE(watch.reader(resp.Body), emit)
}

// parseSSE reads Server-Sent Events until a terminal event (ended) or the
// end of the stream. Pings are dropped.
func parseSSE(r io.Reader, emit func(JobEvent)) (ended bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var name, id string
	var data []string
	flush := func() bool {
		defer func() { name, id, data = "", "", nil }()
		if name == "" && len(data) == 0 {
			return false
		}
		e := JobEvent{Type: name}
		if e.Type == "" {
			e.Type = "message"
		}
		e.Seq, _ = strconv.Atoi(id)
		if len(data) > 0 {
			var m map[string]any
			if json.Unmarshal([]byte(strings.Join(data, "\n")), &m) == nil {
				e.Data = m
				if t, ok := m["type"].(string); ok && e.Type == "message" {
					e.Type = t
				}
				if s, ok := m["stage"].(string); ok {
					e.Stage = s
				}
				if e.Seq == 0 {
					if n, ok := m["seq"].(float64); ok {
						e.Seq = int(n)
					}
				}
			}
		}
		if e.Type == "ping" || e.Type == "heartbeat" || e.Type == "keepalive" {
			return false
		}
		e.Terminal = terminalEvents[e.Type]
		emit(e)
		return e.Terminal
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if flush() {
				return true, nil
			}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			name = value
		case "id":
			id = value
		case "data":
			data = append(data, value)
		}
	}
	if flush() {
		return true, nil
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	return false, io.ErrUnexpectedEOF
}

// pollJob polls the job until it ends, with a growing, jittered delay.
func (c *Client) pollJob(ctx context.Context, id string) (*Job, error) {
	delay := c.pollInterval
	for {
		j, err := c.GetJob(ctx, id, true)
		if err != nil {
			return nil, err
		}
		if j.Terminal() {
			return j, nil
		}
		d := delay/2 + time.Duration(c.retry.jitter(int64(delay/2)+1))
		if err := c.retry.sleep(ctx, d); err != nil {
			return j, fmt.Errorf("wait for job %s (still %s): %w", id, j.Status, err)
		}
		delay = min(delay*3/2, c.pollMax)
	}
}
