package emulator

import (
	"crypto/subtle"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The API generations the emulator speaks (Config.API).
const (
	APIAlpha   = "alpha"
	APICurrent = "current"
)

// Defaults of CurrentOptions.
const (
	DefaultPingInterval = 15 * time.Second
	DefaultRateWindow   = time.Minute
	// DefaultMaxStream bounds one event stream of the live dialect, which
	// otherwise pings for as long as the client listens.
	DefaultMaxStream = 10 * time.Minute
)

// CurrentOptions configure the current generation (Config.API "current").
// What the vendor's documents leave open is the emulator's choice, written
// in the package documentation and kept configurable here.
type CurrentOptions struct {
	// Strict takes the strict side of the points the documents contradict
	// each other on: POST /v1/assets requires scene_id (422 without one;
	// otherwise a scene is made for the asset), and an export requires the
	// format in both the query and the body, the same in both (otherwise
	// either will do).
	Strict bool
	// LiveEvents speaks the event dialect seen on the live wire: job_queued,
	// job_started, one event per stage name, job_succeeded, job_failed or
	// job_cancelled, then pings until the client leaves (or MaxStream).
	// Otherwise the documented dialect: stage_start, stage_complete,
	// asset_ready, error, done, and the stream closes at the end.
	LiveEvents bool
	// PingInterval is the time between pings of an event stream with
	// nothing else to say (DefaultPingInterval when 0).
	PingInterval time.Duration
	// MaxStream bounds one event stream (DefaultMaxStream when 0).
	MaxStream time.Duration
	// DropStreamAfter, when positive, cuts every event stream after that
	// many events (pings not counted), mid-job, as a lost connection does.
	DropStreamAfter int
	// NoEvents answers 404 on the event stream route (clients fall back to
	// polling the job).
	NoEvents bool

	// RateLimit is the requests a key may make per RateWindow
	// (DefaultRateWindow when 0) before 429 rate_limit_exceeded; 0: no
	// limit. The window starts with the first request after the last one
	// ended. Every answer carries X-RateLimit-Limit, -Remaining and -Reset
	// (seconds until the window resets, rounded up; the Unix time of the
	// reset with ResetEpoch) unless NoRateHeaders; a 429 carries
	// Retry-After.
	RateLimit     int
	RateWindow    time.Duration
	NoRateHeaders bool
	ResetEpoch    bool

	// Credits, when positive, is what the account can spend: each create,
	// edit and export costs one; then 402 insufficient_credits. 0: no limit.
	Credits int64

	// CreateDelay holds the answer of a create (asset, scene, edit) this
	// long after the job is made, for tests of a client that times out
	// after the server accepted its request.
	CreateDelay time.Duration
}

// current is the state of the current generation, beside the assets.
type current struct {
	opts CurrentOptions

	mu        sync.Mutex
	jobs      map[string]*job
	scenes    []*scene // in creation order
	sceneByID map[string]*scene
	sceneOf   map[string]string // asset id → scene id
	jobOf     map[string]string // asset id → the job that made it
	rng       *mrand.Rand
	credits   int64 // left, when opts.Credits > 0
	windows   map[string]*window

	limited atomic.Int64 // 429 answers
	extra   [nCurrentRoutes]struct{ requests, errors atomic.Int64 }
}

type currentRoute int

const (
	routeWhoami currentRoute = iota
	routeJob
	routeEvents
	routeScene
	nCurrentRoutes
)

// CurrentStats are the counts the current generation adds to Stats.
type CurrentStats struct {
	Stats
	Whoami      RouteStats `json:"whoami"`
	Jobs        RouteStats `json:"jobs"`
	Events      RouteStats `json:"events"`
	Scenes      RouteStats `json:"scenes"`
	RateLimited int64      `json:"rate_limited"` // 429 answers
}

// CurrentStats returns Stats with the counts of the current generation's
// own routes; zero counts on an alpha server.
func (s *Server) CurrentStats() CurrentStats {
	out := CurrentStats{Stats: s.Stats()}
	if c := s.cur; c != nil {
		rs := func(r currentRoute) RouteStats {
			return RouteStats{Requests: c.extra[r].requests.Load(), Errors: c.extra[r].errors.Load()}
		}
		out.Whoami, out.Jobs, out.Events, out.Scenes = rs(routeWhoami), rs(routeJob), rs(routeEvents), rs(routeScene)
		out.RateLimited = c.limited.Load()
	}
	return out
}

// newCurrent sets up the current generation and groups the seeded assets
// into scenes.
func newCurrent(s *Server) (*current, error) {
	o := s.cfg.Current
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.MaxStream <= 0 {
		o.MaxStream = DefaultMaxStream
	}
	if o.RateWindow <= 0 {
		o.RateWindow = DefaultRateWindow
	}
	if o.RateLimit < 0 || o.Credits < 0 || o.DropStreamAfter < 0 || o.CreateDelay < 0 {
		return nil, errors.New("emulator: rate limit, credits, drop-stream-after and create delay must not be negative")
	}
	c := &current{
		opts:      o,
		jobs:      make(map[string]*job),
		sceneByID: make(map[string]*scene),
		sceneOf:   make(map[string]string),
		jobOf:     make(map[string]string),
		rng:       mrand.New(mrand.NewPCG(uint64(s.cfg.Seed), 0x2545f4914f6cdd1d)),
		credits:   o.Credits,
		windows:   make(map[string]*window),
	}
	s.mu.Lock()
	recs := append([]*record(nil), s.assets...)
	s.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.savedCur != nil {
		c.restoreLocked(s.savedCur)
		return c, nil
	}
	for i := 0; i < len(recs); i += assetsPerSeededScene {
		group := recs[i:min(len(recs), i+assetsPerSeededScene)]
		p := scenePrompts[(i/assetsPerSeededScene)%len(scenePrompts)]
		sc := &scene{ID: c.newSceneIDLocked(), Prompt: p, Name: defaultName("", p), CreatedAt: group[0].CreatedAt}
		for _, r := range group {
			sc.Assets = append(sc.Assets, r.ID)
			c.sceneOf[r.ID] = sc.ID
		}
		c.addSceneLocked(sc)
	}
	return c, nil
}

// assetsPerSeededScene is how many seeded assets one seeded scene holds.
const assetsPerSeededScene = 4

// scenePrompts are the prompts of seeded scenes.
var scenePrompts = []string{
	"A warehouse picking cell with a robot arm, a conveyor and two shelves",
	"A kitchen with an articulated cabinet and a mobile manipulator",
	"A test field with a quadruped and a few boxes to step over",
	"An assembly bench with a collaborative arm and a parts tray",
}

// currentRoutes serves the current generation under /v1/.
func (s *Server) currentRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/whoami", s.cAPI(routeOther, routeWhoami, false, s.handleWhoami))
	mux.Handle("GET /v1/usage", s.cAPI(routeOther, routeWhoami, false, s.handleUsage))
	mux.Handle("GET /v1/assets", s.cAPI(routeList, -1, false, s.handleCurrentList))
	mux.Handle("POST /v1/assets", s.cAPI(routeCreate, -1, true, s.handleCurrentCreate))
	mux.Handle("GET /v1/assets/{id}", s.cAPI(routeGet, -1, false, s.handleCurrentGet))
	mux.Handle("POST /v1/assets/{id}/export", s.cAPI(routeExport, -1, true, s.handleAssetExport))
	mux.Handle("GET /v1/scenes", s.cAPI(routeOther, routeScene, false, s.handleSceneList))
	mux.Handle("POST /v1/scenes", s.cAPI(routeCreate, -1, true, s.handleSceneCreate))
	mux.Handle("GET /v1/scenes/{id}", s.cAPI(routeOther, routeScene, false, s.handleSceneGet))
	mux.Handle("GET /v1/scenes/{id}/status", s.cAPI(routeOther, routeScene, false, s.handleSceneStatus))
	mux.Handle("POST /v1/scenes/{id}/edit", s.cAPI(routeCreate, -1, true, s.handleSceneEdit))
	mux.Handle("POST /v1/scenes/{id}/export", s.cAPI(routeExport, -1, true, s.handleSceneExport))
	mux.Handle("GET /v1/jobs/{id}", s.cAPI(routeOther, routeJob, false, s.handleJob))
	mux.Handle("POST /v1/jobs/{id}/cancel", s.cAPI(routeOther, routeJob, true, s.handleJobCancel))
	mux.Handle("GET /v1/jobs/{id}/events", s.cAPI(routeOther, routeEvents, false, s.handleEvents))
	mux.HandleFunc("GET /_emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.CurrentStats())
	})
	mux.Handle("/", s.counted(routeOther, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nestedError(w, http.StatusNotFound, "route_not_found", fmt.Sprintf("no route %s %s (this server speaks the current generation, under /v1/)", r.Method, r.URL.Path))
	})))
	return mux
}

// nestedError answers with the current generation's error envelope.
func nestedError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
}

// notFound answers 404 for the kind of object (asset, scene, job) the
// current generation has no id of.
func notFound(w http.ResponseWriter, kind, id string) {
	nestedError(w, http.StatusNotFound, kind+"_not_found", fmt.Sprintf("no %s %q", kind, id))
}

// lookup finds the object of kind with the request's {id} in the current
// generation's tables (get runs under its lock), or answers 404.
func lookup[T any](s *Server, w http.ResponseWriter, r *http.Request, kind string, get func(c *current, id string) *T) (*T, bool) {
	id := r.PathValue("id")
	s.cur.mu.Lock()
	v := get(s.cur, id)
	s.cur.mu.Unlock()
	if v == nil {
		notFound(w, kind, id)
		return nil, false
	}
	return v, true
}

// validationError answers 422 in the web framework's own shape, as the
// documents say body validation may.
func validationError(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{
		{"loc": []string{"body", field}, "msg": msg, "type": "value_error"},
	}})
}

// cAPI wraps a handler of the current generation: counting (rt for Stats,
// extra for CurrentStats when ≥ 0), authentication (write: the read-only
// key is refused), the rate limit and its headers, then injected 5xx.
func (s *Server) cAPI(rt route, extra currentRoute, write bool, h http.HandlerFunc) http.Handler {
	c := s.cur
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		key, ok := strings.CutPrefix(auth, "Bearer ")
		full := ok && subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.APIKey)) == 1
		readOnly := ok && s.cfg.ReadOnlyAPIKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.ReadOnlyAPIKey)) == 1
		switch {
		case auth == "":
			nestedError(w, http.StatusUnauthorized, "authentication_required", "send the API key as Authorization: Bearer gzm_k1_...")
			return
		case !full && !readOnly:
			nestedError(w, http.StatusUnauthorized, "authentication_required", "the API key is invalid or expired")
			return
		}
		if !c.admit(w, key, s.now()) {
			return
		}
		if s.injectError() {
			nestedError(w, http.StatusServiceUnavailable, "service_unavailable", "the service is temporarily unavailable (injected fault)")
			return
		}
		if !full && write {
			nestedError(w, http.StatusForbidden, "insufficient_scope", "this API key may only read: it cannot create, edit or export")
			return
		}
		h(w, r)
	})
	counted := s.counted(rt, inner)
	if extra < 0 {
		return counted
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.extra[extra].requests.Add(1)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if sw.status/100 != 2 {
				c.extra[extra].errors.Add(1)
			}
		}()
		counted.ServeHTTP(sw, r)
	})
}

// charge spends one credit; false (after answering 402) when none is left.
func (c *current) charge(w http.ResponseWriter, what string) bool {
	if c.opts.Credits <= 0 {
		return true
	}
	c.mu.Lock()
	ok := c.credits > 0
	if ok {
		c.credits--
	}
	c.mu.Unlock()
	if !ok {
		nestedError(w, http.StatusPaymentRequired, "insufficient_credits", fmt.Sprintf("%s needs a credit and the account has none left: add credits to the account", what))
	}
	return ok
}

// SetCredits sets the credits left (Config.Current.Credits must be positive
// for them to count).
func (s *Server) SetCredits(n int64) {
	if s.cur == nil {
		return
	}
	s.cur.mu.Lock()
	s.cur.credits = n
	s.cur.mu.Unlock()
}

func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	c := s.cur
	key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	scopes := []string{"assets:read", "assets:write", "scenes:read", "scenes:write", "exports"}
	if s.cfg.ReadOnlyAPIKey != "" && key == s.cfg.ReadOnlyAPIKey {
		scopes = []string{"assets:read", "scenes:read"}
	}
	body := map[string]any{
		"ok":         true,
		"user":       map[string]any{"id": "usr_emulator", "email": "emulator@localhost"},
		"key":        map[string]any{"id": "key_" + fmt.Sprintf("%08x", len(key)*2654435761%0xffffffff), "scopes": scopes},
		"rate_limit": map[string]any{"limit": c.opts.RateLimit, "window_seconds": c.opts.RateWindow.Seconds()},
	}
	if c.opts.Credits > 0 {
		c.mu.Lock()
		body["credits"] = map[string]any{"remaining": c.credits}
		c.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request) {
	st := s.CurrentStats()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "requests": st.List.Requests + st.Get.Requests + st.Create.Requests + st.Export.Requests + st.Whoami.Requests + st.Jobs.Requests + st.Events.Requests + st.Scenes.Requests,
		"rate_limit": map[string]any{"limit": s.cur.opts.RateLimit, "window_seconds": s.cur.opts.RateWindow.Seconds()}})
}
