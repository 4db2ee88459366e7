package agent

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// StopGrace is how long Run waits, once its context ends, for the work in
// flight to stop before it returns anyway: a download abandoned then
// leaves nothing at a final path (the cache's write protocol), and its
// temp file is removed by the store that made it or by the next store's
// sweep.
const StopGrace = 4 * time.Second

// Run keeps the projects ready until ctx ends: a pass at once, then one
// every interval; a check of a project on every change of its files and
// every rescan; reloads when reload receives (SIGHUP) or the registry
// changes. serve, when set, is started once the agent is set up and
// stopped when it ends (the control API). Run returns nil when ctx ended.
func (a *Agent) Run(ctx context.Context, reload <-chan struct{}, serve func(ctx context.Context) error) error {
	w, err := newWatcher(a)
	if err != nil {
		a.log.Error("cannot watch files; the agent rescans every project every "+a.cfg.Fallback.String()+" instead", "err", err.Error())
	} else {
		a.mu.Lock()
		a.watch = w
		a.mu.Unlock()
		if a.wrapAdd != nil {
			w.add = a.wrapAdd(w.add)
		}
		defer w.close()
		w.watchRegistry(a.cfg.Registry.Path)
	}

	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	a.mu.Lock()
	a.workers = wctx
	a.mu.Unlock()
	projects := a.loadProjects()
	if len(projects) == 0 {
		a.log.Warn(ErrNoProjects.Error() + "; waiting for one")
	}
	for _, p := range projects {
		a.startWorker(p)
	}

	var bg sync.WaitGroup
	bgCtx, stopBG := context.WithCancel(ctx)
	defer stopBG()
	if serve != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			if err := serve(bgCtx); err != nil && bgCtx.Err() == nil {
				a.log.Error("control API stopped", "err", err.Error())
			}
		}()
	}
	bg.Add(1)
	go func() { defer bg.Done(); a.deps.Notify.Watchdog(bgCtx) }()
	if a.watch != nil {
		bg.Add(1)
		go func() { defer bg.Done(); a.events(bgCtx) }()
	}
	bg.Add(1)
	go func() { defer bg.Done(); a.rescans(bgCtx) }()
	bg.Add(1)
	go func() {
		defer bg.Done()
		for {
			select {
			case <-bgCtx.Done():
				return
			case <-reload:
				a.reload("SIGHUP")
			}
		}
	}()

	loop := &Loop{Interval: a.cfg.Interval, MaxBackoff: a.cfg.MaxBackoff, Pass: a.pass, Trigger: a.trigger,
		Clock: a.clock, Log: a.log, OnSchedule: func(next time.Time) {
			a.mu.Lock()
			a.nextSync = next
			a.mu.Unlock()
		}}
	loopDone := make(chan struct{})
	go func() { defer close(loopDone); loop.Run(ctx) }()

	<-ctx.Done()
	a.log.Info("stopping")
	a.deps.Notify.Stopping()
	stopWorkers()
	stopBG()
	done := make(chan struct{})
	go func() {
		<-loopDone
		a.wg.Wait()
		bg.Wait()
		close(done)
	}()
	t := time.NewTimer(StopGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		a.log.Warn("work in flight did not stop in time; leaving it (nothing partial is at a final path)")
	}
	return nil
}

// SyncNow asks for a pass now (POST /sync); false when one was already
// asked for.
func (a *Agent) SyncNow() bool {
	select {
	case a.trigger <- struct{}{}:
		return true
	default:
		return false
	}
}

// reload re-reads the project list, makes a new API client (a key file may
// have changed) and checks every project (re-reading gizmo.toml).
func (a *Agent) reload(why string) {
	a.log.Info("reloading", "why", why)
	a.deps.Notify.Reloading()
	a.remoteMu.Lock()
	a.remote = nil
	a.remoteMu.Unlock()
	for _, p := range a.loadProjects() {
		if a.watch != nil {
			a.watch.watchProject(p)
		}
		p.wantCheck()
	}
	a.deps.Notify.Ready()
}

// events routes the watcher's events until ctx ends.
func (a *Agent) events(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-a.watch.fs.Events:
			if !ok {
				return
			}
			a.watch.handle(ev)
		case err, ok := <-a.watch.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				a.watch.overflow()
				continue
			}
			a.log.Warn("file watch error", "err", err.Error())
		}
	}
}

// rescans checks every project every Rescan, and the projects that could
// not be watched every Fallback.
func (a *Agent) rescans(ctx context.Context) {
	var since time.Duration
	tick := min(a.cfg.Fallback, a.cfg.Rescan)
	for {
		t := a.clock.NewTimer(tick)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		since += tick
		full := since >= a.cfg.Rescan
		if full {
			since = 0
		}
		for _, p := range a.projectList() {
			p.st.Lock()
			watched := p.watched && a.watch != nil
			p.st.Unlock()
			if full || !watched {
				if a.watch != nil {
					a.watch.watchProject(p)
				}
				p.wantCheck()
			}
		}
	}
}
