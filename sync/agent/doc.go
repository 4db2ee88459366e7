// Package agent is gizmo's background sync agent: it keeps every registered
// simulation project ready, the way a user would by running gizmo sync from
// cron and gizmo prepare before each simulation, but continuously.
//
// It is built from the parts the commands use, sharing the cache with every
// other gizmo process:
//
//   - loop.go: every interval (± 10 % jitter) a pass (pass.go) syncs the account
//     through the sync engine (gsync.Run), then brings each project up to
//     date through prepare (prepare.Run with Update). A failed pass backs off
//     (capped, jittered, honouring Retry-After); a repeated error is logged
//     once, and the recovery is logged too. The logger and the clock are
//     passed in, so the schedule is tested with a fake clock.
//   - project.go: one project's state (last good manifest, last result and
//     error) and its runs of prepare: a full update after a sync, a check
//     after a file event or a rescan. A check costs what gizmo prepare's
//     fast path costs (stats of the placed files) unless something is
//     damaged, and then repairs from the cache without a request.
//   - watch.go: fsnotify watches on directories (never single files;
//     editors save by rename): each project's root (for gizmo.toml), its
//     target folders and its placed version folders. Events are debounced
//     per project; the agent's own writes cause at most one more check,
//     which finds nothing to do. A periodic rescan is the safety net for
//     lost events; when the OS watch limit is hit the project falls back to
//     frequent rescans.
//   - registry.go: the list of registered projects, a small file in the
//     user's configuration directory; a running agent watches it.
//   - control.go, metrics.go: the control API, plain HTTP on a unix socket
//     in the cache directory (mode 0600): /status, /healthz, /readyz,
//     /metrics (Prometheus text format), POST /sync.
//   - lock.go: one agent per cache (agent.lock, agent.pid in the cache).
//   - notify.go: the sd_notify protocol for systemd (READY, STOPPING,
//     RELOADING, WATCHDOG).
//   - install.go: the systemd user unit and the launchd agent plist.
//   - run.go: Run wires them together and stops within StopGrace of its
//     context ending; agent.go holds the state /status shows, and Once,
//     the single pass of gizmo agent run --once.
//
// The package imports prepare and the sync engine; only cmd/gizmo imports it.
package agent
