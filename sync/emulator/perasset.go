package emulator

import (
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// perAsset counts the requests of each asset on each per-asset route (get,
// export, download; and, in the current generation, a job's or a scene's
// routes, counted as "other") in one-second windows, keeps the busiest window, and,
// with Config.MaxPerAssetRate, refuses a request beyond the rate with 429:
// a client polling or retrying in a tight loop shows in the stats and is
// stopped, whatever the other faults are.
type perAsset struct {
	mu     sync.Mutex
	counts map[assetRoute]*assetCount
}

type assetRoute struct {
	id string
	rt route
}

type assetCount struct {
	requests, refused int64
	window            time.Time // start of the current one-second window
	inWindow          int64
	peak              int64 // the most requests seen in one window
}

// AssetRouteStats counts one asset's requests on one route.
type AssetRouteStats struct {
	Requests int64 `json:"requests"`
	// PeakPerSecond is the most requests seen in one second (windows
	// aligned on the second).
	PeakPerSecond int64 `json:"peak_per_second"`
	// Refused counts the requests answered 429 for going beyond
	// Config.MaxPerAssetRate.
	Refused int64 `json:"refused,omitempty"`
}

// PerAssetStats is the per-asset part of Stats.
type PerAssetStats struct {
	// Peak is the highest PeakPerSecond of any asset on any route.
	Peak int64 `json:"peak_per_second"`
	// Refused sums the requests refused for going beyond the rate.
	Refused int64 `json:"refused"`
	// Limit is Config.MaxPerAssetRate (0: no limit).
	Limit int `json:"limit"`
	// Assets maps an asset id to its routes ("get", "export", "download").
	Assets map[string]map[string]AssetRouteStats `json:"assets"`
}

var routeNames = [nRoutes]string{routeList: "list", routeGet: "get", routeCreate: "create", routeExport: "export", routeDownload: "download", routeOther: "other"}

// admit counts a request of asset id on rt at now and tells whether it is
// within max requests in its second (max 0: no limit).
func (p *perAsset) admit(id string, rt route, now time.Time, max int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counts == nil {
		p.counts = make(map[assetRoute]*assetCount)
	}
	k := assetRoute{id, rt}
	c := p.counts[k]
	if c == nil {
		c = &assetCount{}
		p.counts[k] = c
	}
	w := now.Truncate(time.Second)
	if !w.Equal(c.window) {
		c.window, c.inWindow = w, 0
	}
	c.requests++
	c.inWindow++
	c.peak = max64(c.peak, c.inWindow)
	if max > 0 && c.inWindow > int64(max) {
		c.refused++
		return false
	}
	return true
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func (p *perAsset) stats(limit int) PerAssetStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := PerAssetStats{Limit: limit, Assets: map[string]map[string]AssetRouteStats{}}
	keys := make([]assetRoute, 0, len(p.counts))
	for k := range p.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].id < keys[j].id })
	for _, k := range keys {
		c := p.counts[k]
		m := st.Assets[k.id]
		if m == nil {
			m = map[string]AssetRouteStats{}
			st.Assets[k.id] = m
		}
		m[routeNames[k.rt]] = AssetRouteStats{Requests: c.requests, PeakPerSecond: c.peak, Refused: c.refused}
		st.Peak = max64(st.Peak, c.peak)
		st.Refused += c.refused
	}
	return st
}

func (p *perAsset) reset() {
	p.mu.Lock()
	p.counts = nil
	p.mu.Unlock()
}

// perAssetGate counts a per-asset request and answers 429 (Retry-After: 1)
// when it goes beyond Config.MaxPerAssetRate; it reports whether the
// request may go on.
func (s *Server) perAssetGate(w http.ResponseWriter, r *http.Request, rt route) bool {
	id := r.PathValue("id")
	if id == "" {
		return true
	}
	if s.perAsset.admit(id, rt, s.now(), s.cfg.MaxPerAssetRate) {
		return true
	}
	w.Header().Set("Retry-After", "1")
	msg := "too many requests for asset " + id + " on this route: at most " + strconv.Itoa(s.cfg.MaxPerAssetRate) + " a second (a client polling or retrying in a tight loop)"
	if s.cfg.API == APICurrent {
		nestedError(w, http.StatusTooManyRequests, "rate_limit_exceeded", msg)
	} else if rt == routeDownload {
		xmlError(w, http.StatusTooManyRequests, "SlowDown", msg)
	} else {
		apiError(w, http.StatusTooManyRequests, "rate_limited", "per_asset_rate_exceeded", msg)
	}
	return false
}
