package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Generation is a generation of the Gizmo API. Both use the same paths with
// incompatible bodies, so one server speaks one of them.
type Generation string

// The generations. GenerationAuto is not a generation: it asks for
// detection (DetectGeneration).
const (
	GenerationAuto    Generation = "auto"
	GenerationAlpha   Generation = "alpha"   // poll an asset, export to a pre-signed URL
	GenerationCurrent Generation = "current" // jobs, event streams, ZIP exports, scenes
)

// ParseGeneration reads auto, alpha or current ("" is auto).
func ParseGeneration(s string) (Generation, error) {
	switch g := Generation(strings.ToLower(strings.TrimSpace(s))); g {
	case "", GenerationAuto:
		return GenerationAuto, nil
	case GenerationAlpha, GenerationCurrent:
		return g, nil
	}
	return "", fmt.Errorf("API generation %q: want auto, alpha or current", s)
}

// Sentinels of the generations.
var (
	// ErrUnknownGeneration: a server that speaks neither generation as
	// far as detection can tell.
	ErrUnknownGeneration = errors.New("the server speaks no generation of the Gizmo API that gizmo knows")
	// ErrNotInGeneration: what was asked for does not exist in the
	// generation the server speaks (URDF in the current one, scenes from a
	// prompt in the alpha one).
	ErrNotInGeneration = errors.New("not offered by this generation of the API")
)

// setGeneration sets the client's generation; the current one is called
// at the host's /v1/ paths, whether BaseURL ends in /v1 or not.
func (c *Client) setGeneration(g Generation) error {
	switch g {
	case "", GenerationAlpha:
		c.gen = GenerationAlpha
	case GenerationCurrent:
		c.gen = GenerationCurrent
		c.base = rootURL(c.base)
	default:
		return fmt.Errorf("API generation %q: the client needs alpha or current (detect auto with DetectGeneration)", g)
	}
	return nil
}

// Generation is the generation the client speaks.
func (c *Client) Generation() Generation { return c.gen }

// rootURL is a base URL without a final /v1: the current generation's
// paths start with /v1/ themselves, so that a user may give the base either
// way and no request goes to /v1/v1/.
func rootURL(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(strings.ToLower(base), "/v1") {
		return base[:len(base)-3]
	}
	return base
}

// Probe is what DetectGeneration learnt: the generation and, for the
// current one, what GET /v1/whoami answered.
type Probe struct {
	Generation Generation
	Whoami     map[string]any // the current generation's whoami answer (nil for alpha)
	// Evidence says what decided, for --verbose and error messages.
	Evidence string
}

// DetectGeneration finds out which generation the server at the client's
// base URL speaks, with GET requests only (a POST would create, and may
// cost): GET /v1/whoami answering 200 with a JSON object means the current
// generation; otherwise GET {base}/assets?limit=1 answering a top-level
// assets array with a total and no "ok" means the alpha one; otherwise an
// error body whose "error" is an object means current, a string alpha.
// Anything else is ErrUnknownGeneration. A refused key (401/403) is
// reported as such, with the generation when the answer tells it.
func (c *Client) DetectGeneration(ctx context.Context) (*Probe, error) {
	root := rootURL(c.base)
	who, err := c.probe(ctx, root+"/v1/whoami")
	if err != nil {
		return nil, err
	}
	if who.status == http.StatusOK && who.object != nil {
		return &Probe{Generation: GenerationCurrent, Whoami: who.object, Evidence: "GET /v1/whoami answered a JSON object"}, nil
	}
	alphaBase := c.base
	if c.gen == GenerationCurrent {
		alphaBase = root
	}
	list, err := c.probe(ctx, alphaBase+"/assets?limit=1")
	if err != nil {
		return nil, err
	}
	if list.status == http.StatusOK && list.object != nil {
		_, hasAssets := list.object["assets"].([]any)
		_, hasTotal := list.object["total"].(float64)
		_, hasOK := list.object["ok"]
		switch {
		case hasAssets && hasTotal && !hasOK:
			return &Probe{Generation: GenerationAlpha, Evidence: "GET /assets?limit=1 answered the alpha generation's page"}, nil
		case hasAssets && hasOK:
			return &Probe{Generation: GenerationCurrent, Evidence: "GET /assets?limit=1 answered a page with \"ok\""}, nil
		}
	}
	for _, p := range []probed{who, list} {
		var g Generation
		switch p.errorShape() {
		case "object":
			g = GenerationCurrent
		case "string":
			g = GenerationAlpha
		default:
			continue
		}
		return c.probeVerdict(&Probe{Generation: g, Evidence: fmt.Sprintf("HTTP %d with a %s error", p.status, map[Generation]string{GenerationCurrent: "nested", GenerationAlpha: "flat"}[g])}, who, list)
	}
	return nil, fmt.Errorf("detect the API generation of %s: %w (GET /v1/whoami: %s; GET /assets?limit=1: %s): check --api-url (GIZMO_API_URL), or force one with --api-generation alpha|current",
		c.base, ErrUnknownGeneration, who.summary(), list.summary())
}

// probeVerdict returns the probe, or the key's refusal when that is what
// the answer said.
func (c *Client) probeVerdict(p *Probe, probes ...probed) (*Probe, error) {
	for _, pr := range probes {
		if pr.status != http.StatusUnauthorized && pr.status != http.StatusForbidden {
			continue
		}
		e := &Error{Op: "detect the API generation", StatusCode: pr.status}
		parseErrorBody(e, pr.body)
		e.kind = ErrUnauthorized
		if pr.status == http.StatusForbidden {
			e.kind = ErrForbidden
		}
		return p, e
	}
	return p, nil
}

// probed is one detection request's answer.
type probed struct {
	status int
	body   []byte
	object map[string]any // the body as a JSON object, if it is one
}

func (p probed) errorShape() string {
	if p.object == nil {
		return ""
	}
	switch p.object["error"].(type) {
	case map[string]any:
		return "object"
	case string:
		return "string"
	}
	return ""
}

func (p probed) summary() string {
	s := fmt.Sprintf("HTTP %d", p.status)
	if p.object == nil && len(p.body) > 0 {
		s += " " + snippet(string(p.body), 40)
	}
	return s
}

// probe sends one GET with the key, retried on 5xx, 429 and connection
// errors within the client's attempts, each within the request deadline.
func (c *Client) probe(ctx context.Context, target string) (probed, error) {
	op := "detect the API generation: GET " + RedactURL(target)
	var last error
	timeouts := 0
	for attempt := 1; ; attempt++ {
		if err := c.gate.wait(ctx, c.retry); err != nil {
			return probed{}, ctxError(op, err, last)
		}
		p, retry, err := c.probeOnce(ctx, target)
		switch {
		case err == nil && !retry:
			return p, nil
		case ctx.Err() != nil:
			return probed{}, ctxError(op, ctx.Err(), last)
		case errors.Is(err, ErrTimeout):
			// err names the request; a server that does not answer in
			// time twice is not asked again, as in do.
			last = fmt.Errorf("detect the API generation: %w", err)
			if timeouts++; timeouts >= maxTimeouts {
				return probed{}, last
			}
		case err != nil:
			last = fmt.Errorf("%s: %w", op, err)
			if errors.Is(err, ErrRedirect) {
				return probed{}, last
			}
		default:
			last = fmt.Errorf("%s: HTTP %d", op, p.status)
		}
		if attempt >= c.retry.attempts {
			return probed{}, last
		}
		if err := c.retry.sleep(ctx, c.retry.backoff(attempt)); err != nil {
			return probed{}, ctxError(op, err, last)
		}
	}
}

func (c *Client) probeOnce(ctx context.Context, target string) (p probed, retry bool, err error) {
	actx, cancel := context.WithTimeout(withAPIMark(ctx), c.reqTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, target, nil)
	if err != nil {
		return p, false, err
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return p, true, timeoutError("GET "+RedactURL(target), c.base, c.reqTimeout)
		}
		return p, true, redactErr(err)
	}
	defer resp.Body.Close()
	c.pace.observe(resp)
	p.status = resp.StatusCode
	p.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var m map[string]any
	if json.Unmarshal(p.body, &m) == nil {
		p.object = m
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.gate.hold(c.retry.now(), c.retry.after429(resp.Header, 1))
		return p, true, nil
	}
	return p, resp.StatusCode >= 500, nil
}
