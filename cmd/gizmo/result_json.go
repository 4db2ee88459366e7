package main

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/sync/agent"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/prepare"
	"github.com/antimlabs/gizmo/validate/check"
)

// preparedJSON is the --json result of place and prepare, in the glossary's
// names (README "JSON output"): paths absolute, counts named by what they
// count.
type preparedJSON struct {
	Project         string             `json:"project"`
	Placed          []placedJSON       `json:"placed"`
	NoOp            bool               `json:"noop"`
	FilesNew        int                `json:"files_new"`
	FoldersWritten  int                `json:"folders_written"`
	FoldersRepaired int                `json:"folders_repaired"`
	FoldersRemoved  int                `json:"folders_removed"`
	Notes           []string           `json:"notes,omitempty"`
	Unplaced        []prepare.Unplaced `json:"unplaced"`
}

// placedJSON is one placed model.
type placedJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Format    string `json:"format"`
	SHA256    string `json:"sha256"`
	Target    string `json:"target"` // the target's folder
	Layout    string `json:"layout"`
	Slug      string `json:"slug"`
	Model     string `json:"model"`                // the placed model file
	SceneFile string `json:"scene_file,omitempty"` // mujoco: the scene file beside it
}

// toPreparedJSON is res for --json; project is the project's absolute path.
func toPreparedJSON(project string, res *prepare.Result) preparedJSON {
	abs := func(rel string) string {
		if rel == "" {
			return ""
		}
		return filepath.Join(project, filepath.FromSlash(rel))
	}
	out := preparedJSON{
		Project: project, Placed: []placedJSON{}, NoOp: res.NoOp, FilesNew: res.Fetched,
		FoldersWritten: res.Placed, FoldersRepaired: res.Repaired, FoldersRemoved: res.Removed,
		Notes: res.Warnings, Unplaced: res.Unplaced,
	}
	if out.Unplaced == nil {
		out.Unplaced = []prepare.Unplaced{}
	}
	for _, it := range res.Items {
		out.Placed = append(out.Placed, placedJSON{
			ID: it.ID, Name: it.Name, Format: string(it.Format), SHA256: it.Hash,
			Target: abs(it.Target), Layout: string(it.Layout), Slug: it.Slug,
			Model: abs(it.Path), SceneFile: abs(it.Scene),
		})
	}
	return out
}

// exportJSON is export's result for --json: path (the file given with -o,
// or the model) and model absolute, the ETag without its quotes.
func exportJSON(res *exportResult) (exportResult, error) {
	out := *res
	for _, p := range []*string{&out.Path, &out.Model} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return out, err
		}
		*p = abs
	}
	out.ETag = plainETag(out.ETag)
	return out, nil
}

// plainETag is an ETag without the quotes HTTP puts around it
// ("abc" → abc, W/"abc" → W/abc).
func plainETag(etag string) string {
	weak, rest := "", etag
	if strings.HasPrefix(rest, "W/") {
		weak, rest = "W/", rest[2:]
	}
	if len(rest) >= 2 && rest[0] == '"' && rest[len(rest)-1] == '"' {
		rest = rest[1 : len(rest)-1]
	}
	return weak + rest
}

// validationJSON is a cached model's validation in cache ls --json: counts
// are named error_count and warning_count (errors and warnings are lists
// in validate's output).
type validationJSON struct {
	Valid        bool      `json:"valid"`
	ErrorCount   int       `json:"error_count"`
	WarningCount int       `json:"warning_count"`
	Checked      time.Time `json:"checked"`
	Summary      []string  `json:"summary,omitempty"`
}

func toValidationJSON(v *cache.Validation) *validationJSON {
	if v == nil {
		return nil
	}
	return &validationJSON{Valid: v.Valid, ErrorCount: v.Errors, WarningCount: v.Warnings, Checked: v.Checked, Summary: v.Summary}
}

// nonNil is s, or an empty list for nil: arrays in --json are never null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// agentProjectJSON is the result of agent add and agent remove.
type agentProjectJSON struct {
	Project    string `json:"project"`
	Registered bool   `json:"registered"`
	Added      bool   `json:"added,omitempty"` // add: it was not registered before
}

// agentInstallJSON is the result of agent install.
type agentInstallJSON struct {
	ServiceFile string `json:"service_file"` // the systemd unit or launchd plist written
	KeyFile     string `json:"key_file"`     // the API key file it reads
	Enable      string `json:"enable"`       // the shell command that starts it
}

// absPath is p made absolute for --json, which prints absolute paths; "",
// "-" and "<stdin>" (standard input, and "<stdin>!/robot.urdf" in a zip
// read from it) stay as they are, as does a path whose absolute form
// cannot be had (no working directory).
func absPath(p string) string {
	if p == "" || p == "-" || p == check.StdinName || strings.HasPrefix(p, check.StdinName+"!/") || filepath.IsAbs(p) {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// sceneJSON is a scene in --json output: arrays never null, the job that
// made it named job as in a job's own output.
type sceneJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name,omitempty"`
	Prompt     string   `json:"prompt,omitempty"`
	Status     string   `json:"status"`
	CreatedAt  string   `json:"created_at,omitempty"`
	AssetCount int      `json:"asset_count"`
	Assets     []string `json:"assets"`
	Edits      []string `json:"edits"`
	Formats    []string `json:"formats"`
	Job        string   `json:"job,omitempty"`
}

func toSceneJSON(s api.Scene) sceneJSON {
	j := sceneJSON{ID: s.ID, Name: s.Name, Prompt: s.Prompt, Status: string(s.Status), AssetCount: s.AssetCount,
		Assets: nonNil(s.Assets), Edits: nonNil(s.Edits), Formats: []string{}, Job: s.JobID}
	if !s.CreatedAt.IsZero() {
		j.CreatedAt = s.CreatedAt.UTC().Format(time.RFC3339)
	}
	for _, f := range s.Formats {
		j.Formats = append(j.Formats, string(f))
	}
	return j
}

// agentStatusJSON is agent status --json: the control API's answer in the
// glossary's names (project folders as project, counts named by what they
// count, the interval in seconds, placed models by their absolute path).
type agentStatusJSON struct {
	PID             int                  `json:"pid"`
	Version         string               `json:"version"`
	Started         time.Time            `json:"started"`
	Ready           bool                 `json:"ready"`
	CacheDir        string               `json:"cache_dir"`
	Registry        string               `json:"registry,omitempty"`
	IntervalSeconds float64              `json:"interval_seconds"`
	LastSync        *agentSyncJSON       `json:"last_sync,omitempty"`
	NextSync        *time.Time           `json:"next_sync,omitempty"`
	Syncing         bool                 `json:"syncing"`
	Queue           int                  `json:"queue"`
	Downloads       []string             `json:"downloads"`
	Watches         int                  `json:"watches"`
	Projects        []agentProjectStatus `json:"projects"`
	Errors          []agent.ErrorEntry   `json:"errors"`
}

type agentSyncJSON struct {
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	OK          bool      `json:"ok"`
	Error       string    `json:"error,omitempty"`
	AssetsSeen  int       `json:"assets_seen"`
	FilesNew    int       `json:"files_new"`
	FilesFailed int       `json:"files_failed"`
	Bytes       int64     `json:"bytes"`
}

type agentProjectStatus struct {
	Project       string               `json:"project"`
	OK            bool                 `json:"ok"`
	Error         string               `json:"error,omitempty"`
	ManifestError *agent.ManifestError `json:"manifest_error,omitempty"`
	ModelsPlaced  int                  `json:"models_placed"`
	LastRun       *time.Time           `json:"last_run,omitempty"`
	Restores      int64                `json:"restores"`
	Watched       bool                 `json:"watched"`
	Models        []agentModelJSON     `json:"models"`
}

type agentModelJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Format string `json:"format"`
	Model  string `json:"model"`
}

func toAgentStatusJSON(st *agent.Status) agentStatusJSON {
	out := agentStatusJSON{
		PID: st.PID, Version: st.Version, Started: st.Started, Ready: st.Ready, CacheDir: absPath(st.CacheDir),
		Registry: absPath(st.Registry), Syncing: st.Syncing, Queue: st.Queue, Downloads: nonNil(st.Downloads),
		Watches: st.Watches, Projects: []agentProjectStatus{}, Errors: nonNil(st.Errors),
	}
	if d, err := time.ParseDuration(st.Interval); err == nil {
		out.IntervalSeconds = d.Seconds()
	}
	if !st.NextSync.IsZero() {
		out.NextSync = &st.NextSync
	}
	if s := st.LastSync; s != nil {
		out.LastSync = &agentSyncJSON{Started: s.Started, Finished: s.Finished, OK: s.OK, Error: s.Error,
			AssetsSeen: s.Assets, FilesNew: s.New, FilesFailed: s.Failed, Bytes: s.Bytes}
	}
	for _, p := range st.Projects {
		dir := absPath(p.Dir)
		ps := agentProjectStatus{Project: dir, OK: p.OK, Error: p.Error, ManifestError: p.ManifestError,
			ModelsPlaced: p.Placed, Restores: p.Restores, Watched: p.Watched, Models: []agentModelJSON{}}
		if !p.LastRun.IsZero() {
			ps.LastRun = &p.LastRun
		}
		for _, m := range p.Items {
			ps.Models = append(ps.Models, agentModelJSON{ID: m.ID, Name: m.Name, Format: m.Format,
				Model: filepath.Join(dir, filepath.FromSlash(m.Path))})
		}
		out.Projects = append(out.Projects, ps)
	}
	return out
}
