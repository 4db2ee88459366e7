package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/cache"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/prepare"
)

// Remote is what the agent needs from the Gizmo API: what the sync engine
// and prepare need. *api.Client satisfies it.
type Remote interface {
	gsync.Remote
	prepare.Remote
}

// Config says what the agent keeps ready and how often.
type Config struct {
	CacheDir string
	// Registry is the list of registered projects; an empty Path means
	// none (only Projects).
	Registry Registry
	// Projects are kept ready besides the registered ones (--project).
	Projects []string
	Interval time.Duration // DefaultInterval when 0
	// Rescan is how often every project is checked whatever the events
	// (DefaultRescan when 0).
	Rescan time.Duration
	// MaxBackoff caps the delay after failed passes (DefaultMaxBackoff
	// when 0).
	MaxBackoff time.Duration
	// Fallback is how often a project that could not be watched is
	// checked (FallbackRescan when 0).
	Fallback time.Duration
	// Sync narrows what the account sync fetches (Formats, Tags) and sets
	// its Concurrency and Validator.
	Sync    gsync.Options
	Version string
}

// DefaultRescan is how often the agent checks every project even when no
// event came: the safety net for lost events.
const DefaultRescan = 10 * time.Minute

// FallbackRescan is how often a project is checked when its folders could
// not all be watched (the OS watch limit).
const FallbackRescan = 10 * time.Second

// Deps are what the agent is wired to; cmd/gizmo passes the real ones,
// tests their own.
type Deps struct {
	OpenCache func() (*cache.Cache, error)
	// Remote makes the API client; called again after a reload (a key
	// file may have changed).
	Remote func() (Remote, error)
	// Validate checks the models prepare places (prepare.Options.Validate).
	Validate gsync.Validator
	Log      *slog.Logger
	Clock    Clock
	Metrics  *Metrics // nil: a new one
	Notify   *Notifier
}

// Agent keeps projects ready. Make one with New; Run or Once it.
type Agent struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	clock   Clock
	metrics *Metrics
	started time.Time

	cacheMu sync.Mutex
	cache   *cache.Cache

	remoteMu sync.Mutex
	remote   Remote

	mu       sync.Mutex // guards the fields below
	projects map[string]*proj
	cancel   map[string]context.CancelFunc // stops each project's worker
	ready    bool
	lastSync *SyncRun
	goodSync time.Time
	nextSync time.Time
	syncing  bool
	queued   int
	active   map[string]bool // "id format" of running downloads
	errors   []ErrorEntry
	regErr   string // the registry error last logged

	trigger chan struct{}
	watch   *watcher // nil in Once
	// wrapAdd, when set, wraps the watcher's add (tests inject the OS
	// watch limit).
	wrapAdd func(add func(string) error) func(string) error
	workers context.Context
	wg      sync.WaitGroup
}

// New makes an agent.
func New(cfg Config, deps Deps) *Agent {
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Clock == nil {
		deps.Clock = RealClock{}
	}
	if deps.Metrics == nil {
		deps.Metrics = &Metrics{}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Rescan <= 0 {
		cfg.Rescan = DefaultRescan
	}
	if cfg.Fallback <= 0 {
		cfg.Fallback = FallbackRescan
	}
	return &Agent{cfg: cfg, deps: deps, log: deps.Log, clock: deps.Clock, metrics: deps.Metrics,
		started: deps.Clock.Now(), projects: map[string]*proj{}, cancel: map[string]context.CancelFunc{},
		active: map[string]bool{}, trigger: make(chan struct{}, 1)}
}

// openCache opens the cache once; the handle is shared by every run (the
// cache holds no file open between operations).
func (a *Agent) openCache() (*cache.Cache, error) {
	a.cacheMu.Lock()
	defer a.cacheMu.Unlock()
	if a.cache == nil {
		c, err := a.deps.OpenCache()
		if err != nil {
			return nil, err
		}
		a.cache = c
	}
	return a.cache, nil
}

func (a *Agent) api() (Remote, error) {
	a.remoteMu.Lock()
	defer a.remoteMu.Unlock()
	if a.remote == nil {
		r, err := a.deps.Remote()
		if err != nil {
			return nil, err
		}
		a.remote = r
	}
	return a.remote, nil
}

func (a *Agent) prepareOptions(dir string, log *slog.Logger) prepare.Options {
	return prepare.Options{
		Dir:       dir,
		OpenCache: func() (prepare.Cache, error) { return a.openCache() },
		Remote:    func() (prepare.Remote, error) { return a.api() },
		Validate:  a.deps.Validate,
		Log: func(format string, args ...any) {
			log.Info(fmt.Sprintf(format, args...))
		},
	}
}

// loadProjects reads the registry and adds Config.Projects; it starts and
// stops project workers to match when the agent runs.
func (a *Agent) loadProjects() []*proj {
	var dirs []string
	if a.cfg.Registry.Path != "" {
		list, err := a.cfg.Registry.List()
		a.mu.Lock()
		if err != nil && err.Error() != a.regErr {
			a.log.Error("cannot read the project list; keeping the projects known", "err", err.Error())
		}
		if err != nil {
			a.regErr = err.Error()
			a.mu.Unlock()
			return a.projectList()
		}
		a.regErr = ""
		a.mu.Unlock()
		dirs = list
	}
	for _, d := range a.cfg.Projects {
		abs, err := ProjectDir(d)
		if err == nil && !slices.Contains(dirs, abs) {
			dirs = append(dirs, abs)
		}
	}
	a.mu.Lock()
	var added, removed []*proj
	for _, d := range dirs {
		if a.projects[d] == nil {
			p := newProj(a, d)
			a.projects[d] = p
			added = append(added, p)
		}
	}
	for d, p := range a.projects {
		if !slices.Contains(dirs, d) {
			delete(a.projects, d)
			removed = append(removed, p)
			if c := a.cancel[d]; c != nil {
				c()
				delete(a.cancel, d)
			}
		}
	}
	running := a.workers != nil
	a.mu.Unlock()
	for _, p := range removed {
		a.log.Info("project removed", "project", p.dir)
		if a.watch != nil {
			a.watch.forget(p)
		}
	}
	for _, p := range added {
		if running {
			a.log.Info("project added", "project", p.dir)
			a.startWorker(p)
		}
	}
	return a.projectList()
}

func (a *Agent) startWorker(p *proj) {
	a.mu.Lock()
	ctx, cancel := context.WithCancel(a.workers)
	a.cancel[p.dir] = cancel
	a.mu.Unlock()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		p.worker(ctx)
	}()
	if a.watch != nil {
		a.watch.watchProject(p)
	}
	p.wantCheck()
}

// projectList is the projects in folder order.
func (a *Agent) projectList() []*proj {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*proj, 0, len(a.projects))
	for _, p := range a.projects {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dir < out[j].dir })
	return out
}

func (a *Agent) recordError(where string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.clock.Now()
	for i := len(a.errors) - 1; i >= 0; i-- {
		if a.errors[i].Where == where {
			if a.errors[i].Message == err.Error() {
				// The same error again: one entry, counted.
				e := a.errors[i]
				e.Time, e.Count = now, e.Count+1
				a.errors = append(append(a.errors[:i], a.errors[i+1:]...), e)
				return
			}
			break
		}
	}
	a.errors = append(a.errors, ErrorEntry{Time: now, Where: where, Message: err.Error(), Count: 1})
	if len(a.errors) > maxErrors {
		a.errors = a.errors[len(a.errors)-maxErrors:]
	}
}

// refreshWatches re-reads a project's folders into the watch set after a
// run wrote into them.
func (a *Agent) refreshWatches(p *proj) {
	if a.watch != nil {
		a.watch.watchProject(p)
	}
}

// Status is the agent's state now.
func (a *Agent) Status() Status {
	projects := a.projectList()
	a.mu.Lock()
	s := Status{PID: os.Getpid(), Version: a.cfg.Version, Started: a.started, Ready: a.ready, CacheDir: a.cfg.CacheDir,
		Registry: a.cfg.Registry.Path, Interval: a.cfg.Interval.String(), LastSync: a.lastSync, NextSync: a.nextSync,
		Syncing: a.syncing, Queue: a.queued, Downloads: []string{}, Errors: slices.Clone(a.errors), Projects: []ProjectStatus{}}
	for k := range a.active {
		s.Downloads = append(s.Downloads, k)
	}
	w := a.watch
	a.mu.Unlock()
	sort.Strings(s.Downloads)
	if s.Errors == nil {
		s.Errors = []ErrorEntry{}
	}
	for _, p := range projects {
		s.Projects = append(s.Projects, p.status())
	}
	if w != nil {
		s.Watches = w.count()
	}
	return s
}

func (a *Agent) gauges() gauges {
	st := a.Status()
	a.mu.Lock()
	defer a.mu.Unlock()
	return gauges{ready: st.Ready, projects: len(st.Projects), watches: st.Watches, downloads: len(st.Downloads), queue: st.Queue, lastSync: a.goodSync}
}

// Report is the outcome of Once: the sync's and each project's.
type Report struct {
	SyncErr  error
	Sync     *gsync.Summary
	Projects []ProjectReport
}

// ProjectReport is one project's outcome in a Report.
type ProjectReport struct {
	Dir    string
	Result *prepare.Result
	Err    error
}

// Once runs one full pass (sync, then every project) and reports it: what
// gizmo agent run --once does, for cron, CI and tests.
func (a *Agent) Once(ctx context.Context) *Report {
	projects := a.loadProjects()
	rep := &Report{}
	rep.Sync, rep.SyncErr = a.syncAccount(ctx)
	for _, p := range projects {
		res, err := a.updateProject(ctx, p, rep.SyncErr == nil, "")
		rep.Projects = append(rep.Projects, ProjectReport{Dir: p.dir, Result: res, Err: err})
	}
	return rep
}

// updateProject brings a project up to date after a sync: prepare
// --update from the fresh listing when the sync succeeded and the listing
// changed since the project's last update (listing is its digest, "" when
// unknown); otherwise a check, which repairs from the cache without the API.
func (a *Agent) updateProject(ctx context.Context, p *proj, synced bool, listing string) (*prepare.Result, error) {
	if !synced {
		return p.run(ctx, modeCheck, false)
	}
	p.st.Lock()
	same := listing != "" && p.updatedFor == listing
	p.st.Unlock()
	if same {
		// Nothing in the account changed: what gizmo.toml selects is what
		// gizmo.lock pins (a changed gizmo.toml is resolved by a check).
		return p.run(ctx, modeCheck, false)
	}
	res, err := p.run(ctx, modeUpdate, true)
	if err == nil {
		p.st.Lock()
		p.updatedFor = listing
		p.st.Unlock()
	}
	return res, err
}

// listingDigest sums up what the cache knows of the account (the listing
// a sync just recorded), so that a pass after which nothing changed costs
// each project a check instead of an update; "" when the cache cannot say.
func (a *Agent) listingDigest() string {
	c, err := a.openCache()
	if err != nil {
		return ""
	}
	metas, err := c.Assets()
	if err != nil {
		return ""
	}
	sort.Slice(metas, func(i, j int) bool { return metas[i].ID < metas[j].ID })
	h := sha256.New()
	for _, m := range metas {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%v\x00%v\x00%v\n", m.ID, m.Name, m.Status, m.Error, m.Tags, m.Formats, m.Vanished)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ErrNoProjects is what Run and Once say when nothing is registered.
var ErrNoProjects = errors.New("no projects to keep ready: register one with 'gizmo agent add DIR' or pass --project DIR")
