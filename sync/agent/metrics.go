package agent

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics are the agent's counters, served at /metrics in the Prometheus
// text format. Safe for concurrent use.
type Metrics struct {
	syncsOK, syncsFailed   atomic.Int64
	requests               sync.Map // status class ("2xx", "error", ...) → *atomic.Int64
	bytes                  atomic.Int64
	restores               atomic.Int64
	placed                 atomic.Int64
	syncErrors, projErrors atomic.Int64

	mu          sync.Mutex
	passSeconds float64 // sum of pass durations
	passes      int64
	lastPass    float64
}

func (m *Metrics) counter(class string) *atomic.Int64 {
	v, _ := m.requests.LoadOrStore(class, new(atomic.Int64))
	return v.(*atomic.Int64)
}

func (m *Metrics) pass(d time.Duration, ok bool) {
	if ok {
		m.syncsOK.Add(1)
	} else {
		m.syncsFailed.Add(1)
	}
	m.mu.Lock()
	m.passSeconds += d.Seconds()
	m.passes++
	m.lastPass = d.Seconds()
	m.mu.Unlock()
}

// Transport counts every request that rt sends and the response bytes read,
// by status class. The agent's API client is built on it.
func (m *Metrics) Transport(rt http.RoundTripper) http.RoundTripper {
	return countingTransport{rt: rt, m: m}
}

type countingTransport struct {
	rt http.RoundTripper
	m  *Metrics
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err != nil {
		c.m.counter("error").Add(1)
		return resp, err
	}
	c.m.counter(strconv.Itoa(resp.StatusCode/100) + "xx").Add(1)
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.m.bytes}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// gauges are the values of the moment that /metrics shows beside the
// counters.
type gauges struct {
	ready     bool
	projects  int
	watches   int
	downloads int
	queue     int
	lastSync  time.Time
}

// write prints the metrics in the Prometheus text exposition format.
func (m *Metrics) write(w io.Writer, g gauges) {
	metric := func(name, typ, help string, lines ...string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	metric("gizmo_agent_syncs_total", "counter", "Passes of the account sync, by result.",
		fmt.Sprintf(`gizmo_agent_syncs_total{result="ok"} %d`, m.syncsOK.Load()),
		fmt.Sprintf(`gizmo_agent_syncs_total{result="error"} %d`, m.syncsFailed.Load()))
	var reqs []string
	for _, class := range []string{"2xx", "3xx", "4xx", "5xx", "error"} {
		reqs = append(reqs, fmt.Sprintf(`gizmo_agent_requests_total{class=%q} %d`, class, m.counter(class).Load()))
	}
	metric("gizmo_agent_requests_total", "counter", "HTTP requests sent to the API and download hosts, by status class (error: no answer).", reqs...)
	metric("gizmo_agent_bytes_total", "counter", "Response body bytes received from the API and download hosts.",
		fmt.Sprintf("gizmo_agent_bytes_total %d", m.bytes.Load()))
	metric("gizmo_agent_restores_total", "counter", "Placed asset folders restored after a file was deleted or modified.",
		fmt.Sprintf("gizmo_agent_restores_total %d", m.restores.Load()))
	metric("gizmo_agent_placed_total", "counter", "Asset folders written into projects (new, changed or restored).",
		fmt.Sprintf("gizmo_agent_placed_total %d", m.placed.Load()))
	metric("gizmo_agent_errors_total", "counter", "Errors, by where they happened.",
		fmt.Sprintf(`gizmo_agent_errors_total{where="sync"} %d`, m.syncErrors.Load()),
		fmt.Sprintf(`gizmo_agent_errors_total{where="project"} %d`, m.projErrors.Load()))
	m.mu.Lock()
	sum, n, last := m.passSeconds, m.passes, m.lastPass
	m.mu.Unlock()
	metric("gizmo_agent_pass_duration_seconds", "summary", "Duration of full passes (sync and every project).",
		fmt.Sprintf("gizmo_agent_pass_duration_seconds_sum %g", sum),
		fmt.Sprintf("gizmo_agent_pass_duration_seconds_count %d", n))
	metric("gizmo_agent_last_pass_duration_seconds", "gauge", "Duration of the last full pass.",
		fmt.Sprintf("gizmo_agent_last_pass_duration_seconds %g", last))
	var lastSync float64
	if !g.lastSync.IsZero() {
		lastSync = float64(g.lastSync.UnixNano()) / 1e9
	}
	metric("gizmo_agent_last_sync_timestamp_seconds", "gauge", "When the last successful sync ended (Unix time; 0: none yet).",
		fmt.Sprintf("gizmo_agent_last_sync_timestamp_seconds %g", lastSync))
	metric("gizmo_agent_ready", "gauge", "1 once the first pass is done.", fmt.Sprintf("gizmo_agent_ready %d", b(g.ready)))
	metric("gizmo_agent_projects", "gauge", "Registered projects.", fmt.Sprintf("gizmo_agent_projects %d", g.projects))
	metric("gizmo_agent_watches", "gauge", "Directories watched for changes.", fmt.Sprintf("gizmo_agent_watches %d", g.watches))
	metric("gizmo_agent_downloads_in_flight", "gauge", "Downloads running now.", fmt.Sprintf("gizmo_agent_downloads_in_flight %d", g.downloads))
	metric("gizmo_agent_queue", "gauge", "Files queued for download and not finished.", fmt.Sprintf("gizmo_agent_queue %d", g.queue))
}
