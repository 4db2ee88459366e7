package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "gizmo (+https://github.com/antimlabs/gizmo)"

// maxJSONBody bounds a JSON answer of the API.
const maxJSONBody = 32 << 20

// Options configure a Client. Only BaseURL is required.
type Options struct {
	BaseURL    string // e.g. https://api.gizmo.antimlabs.com/v1
	APIKey     string // sent as a Bearer token on API requests only
	UserAgent  string // e.g. "gizmo/1.2.0"; DefaultUserAgent when empty
	HTTPClient *http.Client

	// MaxAttempts bounds the tries of one call, the first included
	// (default 6). MaxBackoff caps one backoff delay (default 10s);
	// BaseBackoff is the ceiling of the first one (default 200ms), doubling
	// with every retry. MaxRetryAfter caps a 429's Retry-After (default 60s).
	MaxAttempts   int
	MaxBackoff    time.Duration
	BaseBackoff   time.Duration
	MaxRetryAfter time.Duration

	// PollInterval is WaitReady's first delay between polls (default 1s);
	// it grows by half each poll up to PollMax (default 10s), with jitter.
	PollInterval time.Duration
	PollMax      time.Duration

	// RequestTimeout bounds one attempt of an API request, from sending it
	// to the last byte of its answer (default DefaultRequestTimeout); an
	// attempt that times out is retried once. IdleTimeout is how long a
	// download may receive nothing, headers included (default
	// DefaultIdleTimeout); a download that keeps receiving has no total
	// deadline. Both apply on top of the caller's context.
	RequestTimeout time.Duration
	IdleTimeout    time.Duration
	// MaxDownload bounds one download's size (default DefaultMaxDownload;
	// negative: no bound). A larger Content-Length is refused before a
	// byte is read, and a body without one is cut off past it.
	MaxDownload int64

	Logger *slog.Logger // nil: silent

	// Generation is the API generation the server speaks (generation.go):
	// GenerationAlpha when empty. With GenerationCurrent the client calls
	// /v1/ paths below BaseURL's host (a BaseURL ending in /v1 is taken
	// as the same server), and List, Get, Export and Download speak that
	// generation (current.go).
	Generation Generation

	// Budget, when set, is the rate-limit pacing state shared with other
	// processes on the same API URL and key (pace.go); nil paces this
	// process alone.
	Budget Budget

	// Clock is the time source of backoffs, the rate gate and WaitReady's
	// polls; nil is the real clock. Tests pass a fake one.
	Clock Clock
}

// Clock tells the time and waits. Sleep returns early with ctx's error when
// ctx is done.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Client calls the Gizmo API. It is safe for concurrent use; all its
// goroutines share one rate gate.
type Client struct {
	base         string // without a trailing slash
	key          string
	ua           string
	hc           *http.Client
	log          *slog.Logger
	retry        retrier
	gate         gate
	pollInterval time.Duration
	pollMax      time.Duration
	reqTimeout   time.Duration
	idleTimeout  time.Duration
	maxDownload  int64 // 0: no bound
	gen          Generation
	pace         pacer // paces requests from the X-RateLimit-* headers (pace.go)
	// scenes holds the ids this client has seen as scenes (listed or
	// read): their exports go straight to the scene route.
	scenes sync.Map
}

// New returns a Client for o.BaseURL.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(o.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("API URL %q: want an http:// or https:// URL such as https://api.gizmo.antimlabs.com/v1", o.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("API URL %q: must not carry a query, fragment or user info", RedactURL(o.BaseURL))
	}
	for _, r := range o.APIKey {
		if r <= ' ' || r == 0x7f {
			return nil, errors.New("API key contains whitespace or control characters: check how it was set")
		}
	}
	c := &Client{
		base:         strings.TrimRight(u.String(), "/"),
		key:          o.APIKey,
		ua:           o.UserAgent,
		hc:           o.HTTPClient,
		log:          o.Logger,
		retry:        newRetrier(o),
		pollInterval: o.PollInterval,
		pollMax:      o.PollMax,
		reqTimeout:   o.RequestTimeout,
		idleTimeout:  o.IdleTimeout,
		maxDownload:  o.MaxDownload,
	}
	switch {
	case c.maxDownload == 0:
		c.maxDownload = DefaultMaxDownload
	case c.maxDownload < 0:
		c.maxDownload = 0
	}
	if c.reqTimeout <= 0 {
		c.reqTimeout = DefaultRequestTimeout
	}
	if c.idleTimeout <= 0 {
		c.idleTimeout = DefaultIdleTimeout
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection for every request a sync has in flight (the
		// default keeps 2 per host, and a sync's dozens of workers then
		// open a new connection, a new TLS handshake, for most requests).
		t.MaxIdleConnsPerHost = maxIdlePerHost
		c.hc = &http.Client{Transport: t}
	}
	// The redirect policy keeps the key on the API's host; a caller's
	// client gets it too (a shallow copy, so the caller's is not changed).
	hc := *c.hc
	hc.CheckRedirect = checkRedirect
	c.hc = &hc
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.pollInterval <= 0 {
		c.pollInterval = DefaultPollInterval
	}
	if c.pollMax <= 0 {
		c.pollMax = DefaultPollMax
	}
	c.pollMax = max(c.pollMax, c.pollInterval)
	if err := c.setGeneration(o.Generation); err != nil {
		return nil, err
	}
	c.pace.init(c.retry, o.Budget, func(msg string, args ...any) { c.log.Info(msg, args...) })
	return c, nil
}

// BaseURL is the API base URL the client calls.
func (c *Client) BaseURL() string { return c.base }

// maxIdlePerHost is how many idle connections the default client keeps
// per host: more than a sync's requests in flight at its largest
// --concurrency default (8 downloads and 8 metadata requests).
const maxIdlePerHost = 64
