package emulator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
)

// Defaults of Config.
const (
	DefaultAPIKey     = "dev"
	DefaultURLTTL     = 15 * time.Minute
	DefaultCacheBytes = 256 << 20
)

// Config configures a Server. The zero value is a usable empty server with
// the API key "dev".
type Config struct {
	APIKey string // Bearer key the API expects; DefaultAPIKey when empty
	// ReadOnlyAPIKey, when set, is a second valid key that may list and
	// get but is refused (403 forbidden) on create and export.
	ReadOnlyAPIKey string
	Assets         int           // number of assets to seed
	Seed           int64         // seeds asset ids, seeded statuses and fault injection
	URLTTL         time.Duration // lifetime of minted download URLs; DefaultURLTTL when 0
	GenDelay       time.Duration // pending → processing at GenDelay/2 → ready at GenDelay

	// SeedSettle, when positive, lets the seeded pending and processing
	// assets finish as created ones do, counted from when they are seeded
	// (by New, or by a call to Seed): pending ones turn processing at
	// SeedSettle/2, and both end at SeedSettle ready, or failed for a
	// FailRate share of them that Seed chooses. Zero keeps every seeded
	// status fixed, for tests that need an asset to stay pending.
	SeedSettle time.Duration

	// Fault injection; SetFaults changes them at run time.
	ErrorRate    float64 // share of requests answered 5xx (0..1)
	RateLimit    int     // API requests per second before 429 (0: unlimited)
	TruncateRate float64 // share of downloads cut short (0..1)
	TruncateAt   float64 // where they are cut, as a share of the answer (0: a random point)
	Slow         int64   // download body bytes per second (0: unthrottled)
	FailRate     float64 // share of generations that end failed (0..1)

	// MaxPerAssetRate, when positive, answers 429 (Retry-After: 1) to a
	// request for one asset on one route (get, export, download) beyond
	// this many in a second: a client polling or retrying in a tight loop
	// is refused, and Stats counts it.
	MaxPerAssetRate int

	StateDir string           // keep state across restarts in StateDir/state.json
	Now      func() time.Time // clock for statuses and URL expiry; time.Now when nil

	// DownloadBaseURL is the scheme and host of minted download URLs, e.g.
	// "http://localhost:8750" to put downloads on another host name than the
	// API. Empty: the host the export request was sent to.
	DownloadBaseURL string

	// Generate makes an export body and its filename. Nil: the procedural
	// robot generator (formats/procgen).
	Generate func(id, name, prompt string, f formats.Format) (body []byte, filename string, err error)

	// CacheBytes bounds the export bodies kept in memory (DefaultCacheBytes
	// when 0).
	CacheBytes int64

	// Latency is added before every API answer and download, plus a
	// uniform random part of up to Jitter: a network between client and
	// server (network.go).
	Latency, Jitter time.Duration
	// BigEvery and BigSize: every BigEvery-th asset's zip exports carry a
	// payload of BigSize more bytes, generated as served, never held in
	// memory (big.go).
	BigEvery int
	BigSize  int64

	// API is the generation the server speaks: APIAlpha (also when empty)
	// or APICurrent, with its options in Current (current.go).
	API     string
	Current CurrentOptions
}

// Faults are the fault-injection knobs of a running server.
type Faults struct {
	ErrorRate    float64 `json:"error_rate"`
	RateLimit    int     `json:"rate_limit"`
	TruncateRate float64 `json:"truncate_rate"`
	Slow         int64   `json:"slow"`
	FailRate     float64 `json:"fail_rate"`
	// TruncateAt, when set (0..1), cuts a truncated body at that share of
	// what the answer serves; 0 cuts it at a random point.
	TruncateAt float64 `json:"truncate_at,omitempty"`
}

func (f Faults) check() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"error rate", f.ErrorRate}, {"truncate rate", f.TruncateRate}, {"fail rate", f.FailRate}, {"truncate at", f.TruncateAt}} {
		if r.v < 0 || r.v > 1 {
			return fmt.Errorf("emulator: %s %v: want a share between 0 and 1", r.name, r.v)
		}
	}
	if f.RateLimit < 0 || f.Slow < 0 {
		return errors.New("emulator: rate limit and slow must not be negative")
	}
	return nil
}

// Server is a running or ready-to-run emulator. Its methods are safe for
// concurrent use.
type Server struct {
	cfg     Config
	now     func() time.Time
	secret  []byte
	signer  *signer // of download URLs, keyed with secret
	handler http.Handler
	cache   *lru

	saveMu sync.Mutex // serialises writes of the state file
	mu     sync.Mutex // guards the asset state below
	assets []*record  // in creation order
	byID   map[string]*record
	idRNG  *mrand.Rand

	fmu    sync.Mutex // guards the fault state below
	faults Faults
	frng   *mrand.Rand
	bucket bucket

	stats    counters
	perAsset perAsset

	bigMu sync.Mutex // guards bigs
	bigs  map[exportKey]*exported

	httpSrv *http.Server
	ln      net.Listener

	cur *current // the current generation's state; nil for alpha
	// savedCur is the current generation's state as loaded from StateDir
	// (nil when there was none): newCurrent restores it, and an alpha
	// server writes it back as it was.
	savedCur *savedCurrent
}

// New makes a Server: it loads Config.StateDir's state if there is one, then
// seeds Config.Assets assets when the state holds none.
func New(cfg Config) (*Server, error) {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.URLTTL <= 0 {
		cfg.URLTTL = DefaultURLTTL
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if cfg.Generate == nil {
		cfg.Generate = defaultGenerate
	}
	if cfg.GenDelay < 0 || cfg.SeedSettle < 0 || cfg.Assets < 0 || cfg.MaxPerAssetRate < 0 {
		return nil, errors.New("emulator: gen delay, seed settle, assets and max per-asset rate must not be negative")
	}
	if cfg.DownloadBaseURL != "" {
		cfg.DownloadBaseURL = strings.TrimRight(cfg.DownloadBaseURL, "/")
	}
	f := Faults{ErrorRate: cfg.ErrorRate, RateLimit: cfg.RateLimit, TruncateRate: cfg.TruncateRate, TruncateAt: cfg.TruncateAt, Slow: cfg.Slow, FailRate: cfg.FailRate}
	if err := f.check(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		now:    cfg.Now,
		cache:  newLRU(cfg.CacheBytes),
		byID:   make(map[string]*record),
		idRNG:  mrand.New(mrand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)),
		faults: f,
		frng:   mrand.New(mrand.NewPCG(uint64(cfg.Seed), 0x5851f42d4c957f2d)),
	}
	if s.now == nil {
		s.now = time.Now
	}
	loaded := false
	if cfg.StateDir != "" {
		var err error
		if loaded, err = s.load(); err != nil {
			return nil, err
		}
	}
	if s.secret == nil {
		s.secret = make([]byte, 32)
		if _, err := rand.Read(s.secret); err != nil {
			return nil, err
		}
	}
	s.signer = newSigner(s.secret)
	if !loaded {
		s.mu.Lock()
		s.seedLocked(cfg.Assets, s.now(), cfg.FailRate)
		s.mu.Unlock()
		if err := s.save(); err != nil {
			return nil, err
		}
	}
	s.handler = s.routes()
	switch cfg.API {
	case "", APIAlpha:
	case APICurrent:
		var err error
		if s.cur, err = newCurrent(s); err != nil {
			return nil, err
		}
		s.handler = s.currentRoutes()
		if err := s.save(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("emulator: API generation %q: want %s or %s", cfg.API, APIAlpha, APICurrent)
	}
	return s, nil
}

// Handler serves the API at its root, the download URLs and the stats.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (":0" or "127.0.0.1:0" picks a port) and serves in
// the background. It returns the base URL, e.g. http://127.0.0.1:8750.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("emulator: listen on %s: %w (pick another --addr, or :0 for any free port)", addr, err)
	}
	return s.Serve(ln), nil
}

// Serve serves on ln in the background and returns the base URL. Close or
// Shutdown stops it.
func (s *Server) Serve(ln net.Listener) string {
	s.ln = ln
	s.httpSrv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go s.httpSrv.Serve(ln)
	return baseURL(ln.Addr())
}

// baseURL names a listener's address as a URL a client can dial: an
// unspecified host (":0", "0.0.0.0") becomes 127.0.0.1.
func baseURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Close stops a server started with Start, ending open connections.
func (s *Server) Close() error {
	if s.httpSrv == nil {
		return nil
	}
	return s.httpSrv.Close()
}

// Shutdown stops a server started with Start, letting requests finish
// until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.httpSrv == nil {
		return nil
	}
	return s.httpSrv.Shutdown(ctx)
}

// SetFaults replaces the fault-injection knobs.
func (s *Server) SetFaults(f Faults) error {
	if err := f.check(); err != nil {
		return err
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults = f
	s.bucket = bucket{}
	return nil
}

// Faults returns the current fault-injection knobs.
func (s *Server) Faults() Faults {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.faults
}

// chance draws true with probability p from the seeded fault source.
func (s *Server) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.frng.Float64() < p
}

// gate draws an API request's injected faults under one lock: limited (429)
// when the rate limit's bucket has no token left, else fail (5xx) with the
// error rate.
func (s *Server) gate() (limited, fail bool) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.faults.RateLimit > 0 && !s.bucket.take(s.faults.RateLimit, time.Now()) {
		return true, false
	}
	return false, s.injectErrorLocked()
}

// injectError draws true with the error rate: the request gets a 5xx.
func (s *Server) injectError() bool {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.injectErrorLocked()
}

func (s *Server) injectErrorLocked() bool {
	p := s.faults.ErrorRate
	return p > 0 && s.frng.Float64() < p
}

// bucket is a token bucket refilled at rate tokens per second, holding at
// most rate tokens.
type bucket struct {
	tokens float64
	last   time.Time
	primed bool
}

func (b *bucket) take(rate int, now time.Time) bool {
	if rate <= 0 {
		return true
	}
	if !b.primed {
		b.tokens, b.last, b.primed = float64(rate), now, true
	}
	b.tokens = min(float64(rate), b.tokens+now.Sub(b.last).Seconds()*float64(rate))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// RouteStats counts the requests of one route and those answered non-2xx.
type RouteStats struct {
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	// Bytes counts the body bytes the route's answers wrote (what a client
	// was sent, cut answers included).
	Bytes int64 `json:"bytes"`
}

// Stats is what GET /_emulator/stats answers.
type Stats struct {
	List     RouteStats `json:"list"`
	Get      RouteStats `json:"get"`
	Create   RouteStats `json:"create"`
	Export   RouteStats `json:"export"`
	Download RouteStats `json:"download"`
	// DownloadAuthorization counts download requests that carried an
	// Authorization header (a client leaking its API key): it must stay 0.
	DownloadAuthorization int64 `json:"download_authorization"`
	Assets                int   `json:"assets"` // assets held now
	// PerAsset counts requests per asset and route (get, export,
	// download), with the busiest second of each.
	PerAsset PerAssetStats `json:"per_asset"`
}

type route int

const (
	routeList route = iota
	routeGet
	routeCreate
	routeExport
	routeDownload
	routeOther
	nRoutes
)

type counters struct {
	requests, errors, bytes [nRoutes]atomic.Int64
	downloadAuth            atomic.Int64
}

// Stats returns the request counts since the start or the last ResetStats.
func (s *Server) Stats() Stats {
	c := &s.stats
	rs := func(r route) RouteStats {
		return RouteStats{Requests: c.requests[r].Load(), Errors: c.errors[r].Load(), Bytes: c.bytes[r].Load()}
	}
	s.mu.Lock()
	n := len(s.assets)
	s.mu.Unlock()
	return Stats{
		List: rs(routeList), Get: rs(routeGet), Create: rs(routeCreate),
		Export: rs(routeExport), Download: rs(routeDownload),
		DownloadAuthorization: c.downloadAuth.Load(),
		Assets:                n,
		PerAsset:              s.perAsset.stats(s.cfg.MaxPerAssetRate),
	}
}

// ResetStats sets every count to zero.
func (s *Server) ResetStats() {
	for r := range nRoutes {
		s.stats.bytes[r].Store(0)
		s.stats.requests[r].Store(0)
		s.stats.errors[r].Store(0)
	}
	s.stats.downloadAuth.Store(0)
	s.perAsset.reset()
}

// ExportSize is the length of an asset's export, without reading it.
func (s *Server) ExportSize(id string, f formats.Format) (int64, error) {
	rec, ok := s.record(id)
	if !ok {
		return 0, fmt.Errorf("emulator: no asset %q", id)
	}
	e, err := s.export(rec, f)
	if err != nil {
		return 0, err
	}
	return e.size(), nil
}

// ExportBytes is the body the server serves for an asset's export, whatever
// its status, so tests can compare downloaded files byte for byte.
func (s *Server) ExportBytes(id string, f formats.Format) ([]byte, error) {
	rec, ok := s.record(id)
	if !ok {
		return nil, fmt.Errorf("emulator: no asset %q", id)
	}
	e, err := s.export(rec, f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(e.reader())
}

// Asset returns an asset as GET /assets/{id} shows it.
func (s *Server) Asset(id string) (api.Asset, bool) {
	rec, ok := s.record(id)
	if !ok {
		return api.Asset{}, false
	}
	return rec.asset(s.now(), true), true
}

func (s *Server) record(id string) (record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return record{}, false
	}
	return *r, true
}
