package agent

import (
	"context"
	"fmt"
	"sync"

	gsync "github.com/antimlabs/gizmo/sync"
)

// syncAccount mirrors the account into the cache with the sync engine, as
// gizmo sync does, and records the outcome for /status. Its error is one
// that stopped the whole sync (the API unreachable, the key refused); files
// that failed are in the summary.
func (a *Agent) syncAccount(ctx context.Context) (*gsync.Summary, error) {
	run := &SyncRun{Started: a.clock.Now()}
	a.mu.Lock()
	a.syncing, a.queued = true, 0
	clear(a.active)
	a.mu.Unlock()
	sum, err := a.runSync(ctx)
	run.Finished = a.clock.Now()
	if sum != nil {
		run.Assets, run.New, run.Failed, run.Bytes = sum.Seen, sum.New, sum.Failed, sum.Bytes
	}
	run.OK = err == nil
	if err != nil {
		run.Error = err.Error()
	}
	a.mu.Lock()
	a.syncing, a.queued = false, 0
	clear(a.active)
	if ctx.Err() == nil {
		a.lastSync = run
		if err == nil {
			a.goodSync = run.Finished
		}
	}
	a.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		a.metrics.syncErrors.Add(1)
		a.recordError("sync", err)
	}
	if sum != nil {
		for _, f := range sum.Failures {
			a.recordError("sync", fmt.Errorf("asset %s %s: %s", f.ID, f.Format.Short(), f.Reason))
		}
	}
	return sum, err
}

func (a *Agent) runSync(ctx context.Context) (*gsync.Summary, error) {
	remote, err := a.api()
	if err != nil {
		return nil, err
	}
	store, err := a.openCache()
	if err != nil {
		return nil, err
	}
	opts := a.cfg.Sync
	opts.OnEvent = a.syncEvent
	sum, err := gsync.Run(ctx, remote, store, opts)
	if err != nil {
		return sum, fmt.Errorf("sync: %w", err)
	}
	return sum, nil
}

// syncEvent follows the running sync for /status: the queue and the
// downloads in flight.
func (a *Agent) syncEvent(e gsync.Event) {
	key := e.ID + " " + e.Format.Short()
	a.mu.Lock()
	defer a.mu.Unlock()
	switch e.Type {
	case gsync.EventQueued:
		a.queued++
	case gsync.EventStart:
		a.active[key] = true
	case gsync.EventDone, gsync.EventFail:
		if e.Type == gsync.EventDone || e.Format != "" { // a file, not a whole asset
			a.queued = max(0, a.queued-1)
		}
		delete(a.active, key)
	}
}

// pass is one run of the loop: sync the account, then bring every project
// up to date, several at once. Its error is the sync's: a project's errors
// are its own (in /status and the log) and do not slow the loop.
func (a *Agent) pass(ctx context.Context) error {
	start := a.clock.Now()
	projects := a.loadProjects()
	_, syncErr := a.syncAccount(ctx)
	listing := ""
	if syncErr == nil {
		listing = a.listingDigest()
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, p := range projects {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, _ := a.updateProject(ctx, p, syncErr == nil, listing)
			if res != nil && !res.NoOp {
				a.refreshWatches(p)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	a.metrics.pass(a.clock.Now().Sub(start), syncErr == nil)
	a.mu.Lock()
	first := !a.ready
	a.ready = true
	a.mu.Unlock()
	if first {
		a.log.Info("ready: first pass done", "projects", len(projects), "took", a.clock.Now().Sub(start).Round(1e6).String())
		a.deps.Notify.Ready()
	}
	return syncErr
}
