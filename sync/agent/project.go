package agent

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/sync/prepare"
)

// proj is one registered project: its last good manifest and what the last
// run of prepare did. Runs of one project are serialised by mu.
type proj struct {
	dir string
	a   *Agent

	mu          sync.Mutex // held across a run
	lastGood    *project.Manifest
	manifestErr error

	st        sync.Mutex // guards the fields below, read by /status
	lastRun   time.Time
	lastErr   error
	logged    string // the error last logged, so that a repeat is not
	items     []prepare.Item
	restores  int64
	watched   bool
	badManErr *ManifestError
	good      *project.Manifest // lastGood, for the watcher
	// updatedFor is the listing digest of the last good update.
	updatedFor string

	kick chan struct{} // a check is wanted (buffered 1)
}

func newProj(a *Agent, dir string) *proj {
	return &proj{dir: dir, a: a, kick: make(chan struct{}, 1)}
}

// runMode says what a run of prepare does.
type runMode int

const (
	// modeCheck: make the project match its lock (repair, or resolve a
	// changed manifest); gizmo prepare.
	modeCheck runMode = iota
	// modeUpdate: resolve the manifest again after a sync and place what
	// is new; gizmo prepare --update, from the listing just recorded.
	modeUpdate
)

// run runs prepare on the project. listed says the cache holds a fresh
// listing of the account (modeUpdate after a good sync).
func (p *proj) run(ctx context.Context, mode runMode, listed bool) (*prepare.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	log := p.a.log.With("project", p.dir)

	m, err := project.LoadManifest(p.dir)
	switch {
	case err != nil:
		if p.manifestErr == nil || p.manifestErr.Error() != err.Error() {
			if p.lastGood != nil {
				log.Error("gizmo.toml has an error; keeping the last good one", "err", err.Error())
			}
		}
		p.manifestErr = err
		p.setManifestErr(manifestError(err))
		if p.lastGood == nil {
			p.finish(nil, err, log)
			return nil, err
		}
		m = p.lastGood
	default:
		if p.manifestErr != nil {
			log.Info("gizmo.toml is valid again")
		}
		p.manifestErr = nil
		p.setManifestErr(nil)
		p.lastGood = m
		p.st.Lock()
		p.good = m
		p.st.Unlock()
	}

	o := p.a.prepareOptions(p.dir, log)
	o.Manifest = m
	o.Update = mode == modeUpdate
	o.Listed = listed
	res, err := prepare.Run(ctx, o)
	if ctx.Err() != nil && err != nil {
		return res, err // interrupted: not the project's fault
	}
	if err == nil && p.manifestErr != nil {
		// Placed from the last good manifest: the project still needs
		// its owner's attention.
		err = p.manifestErr
	}
	p.finish(res, err, log)
	return res, err
}

func (p *proj) setManifestErr(e *ManifestError) {
	p.st.Lock()
	p.badManErr = e
	p.st.Unlock()
}

// finish records a run's outcome, logging an error once while it repeats.
func (p *proj) finish(res *prepare.Result, err error, log *slog.Logger) {
	p.st.Lock()
	p.lastRun = p.a.clock.Now()
	p.lastErr = err
	if res != nil {
		p.items = res.Items
		p.restores += int64(res.Repaired)
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	repeat := msg == p.logged
	p.logged = msg
	p.st.Unlock()

	if res != nil {
		p.a.metrics.restores.Add(int64(res.Repaired))
		p.a.metrics.placed.Add(int64(res.Placed))
		if res.Placed > 0 || res.Removed > 0 {
			log.Info("project updated", "written", res.Placed, "repaired", res.Repaired, "removed", res.Removed, "fetched", res.Fetched, "models", len(res.Items))
		}
	}
	if err == nil {
		return
	}
	p.a.metrics.projErrors.Add(1)
	p.a.recordError(p.dir, err)
	if !repeat {
		log.Error("project not ready", "err", msg)
	}
}

// status is the project's part of /status.
func (p *proj) status() ProjectStatus {
	p.st.Lock()
	defer p.st.Unlock()
	s := ProjectStatus{Dir: p.dir, OK: p.lastErr == nil && p.badManErr == nil && !p.lastRun.IsZero(), LastRun: p.lastRun,
		Restores: p.restores, Watched: p.watched, ManifestError: p.badManErr, Items: []PlacedModel{}}
	if p.lastErr != nil {
		s.Error = p.lastErr.Error()
	}
	for _, it := range p.items {
		s.Items = append(s.Items, PlacedModel{ID: it.ID, Name: it.Name, Format: it.Format.Short(), Path: it.Path})
	}
	s.Placed = len(s.Items)
	return s
}

// check asks for a debounced check of the project (a file event, a rescan).
func (p *proj) wantCheck() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Debouncing of a project's file events.
const (
	// DebounceQuiet is how long a project's events must pause before a
	// check runs.
	DebounceQuiet = 50 * time.Millisecond
	// DebounceMax is the longest a check waits for a pause in a stream of
	// events.
	DebounceMax = 300 * time.Millisecond
)

// worker runs the project's checks as they are asked for, until ctx ends.
// After a check that wrote files it refreshes the project's watches, and
// the events of the agent's own writes cause one more check, which finds
// the project as it left it and does nothing.
func (p *proj) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		}
		if !p.debounce(ctx) {
			return
		}
		res, _ := p.run(ctx, modeCheck, false)
		if ctx.Err() != nil {
			return
		}
		if res != nil && !res.NoOp {
			p.a.refreshWatches(p)
		}
	}
}

// debounce waits until the project's events pause for DebounceQuiet, or
// DebounceMax after the first; false when ctx ended.
func (p *proj) debounce(ctx context.Context) bool {
	start := p.a.clock.Now()
	for {
		wait := min(DebounceQuiet, DebounceMax-p.a.clock.Now().Sub(start))
		if wait <= 0 {
			return true
		}
		t := p.a.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-p.kick:
			t.Stop()
		case <-t.C():
			return true
		}
	}
}

func (p *proj) String() string { return fmt.Sprintf("project %s", p.dir) }
