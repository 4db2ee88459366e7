package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/sync/emulator"
)

// defaultEmulatorAPI is the generation gizmo emulator speaks without --api.
const defaultEmulatorAPI = emulator.APICurrent

// currentFlags are the emulator's flags for the API generation and the
// current generation's knobs.
func currentFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "api", Value: defaultEmulatorAPI, Usage: "API `GENERATION` to speak: current (jobs, event streams, ZIP exports, scenes) or alpha (poll an asset, pre-signed download URLs)"},
		&cli.BoolFlag{Name: "strict", Usage: "current: take the strict side where the vendor's documents disagree (scene_id required to create an asset; the export format in both the query and the body)"},
		&cli.BoolFlag{Name: "live-events", Usage: "current: speak the event dialect seen on the live wire (job_queued, job_started, stage names, job_succeeded/failed/cancelled, then pings without end) instead of the documented one (stage_start, stage_complete, asset_ready, error, done, then close)"},
		&cli.DurationFlag{Name: "ping-interval", Value: emulator.DefaultPingInterval, Usage: "current: time between pings of a quiet event stream"},
		&cli.IntFlag{Name: "drop-stream-after", Usage: "current: cut every event stream after `N` events, mid-job (0: never)"},
		&cli.BoolFlag{Name: "no-events", Usage: "current: answer 404 on the event stream route (clients poll the job instead)"},
		&cli.BoolFlag{Name: "no-rate-headers", Usage: "current: leave out the X-RateLimit-* headers (the 429s and Retry-After stay)"},
		&cli.BoolFlag{Name: "rate-reset-epoch", Usage: "current: send X-RateLimit-Reset as the Unix time of the reset instead of the seconds until it"},
		&cli.Int64Flag{Name: "credits", Usage: "current: credits of the account, one per create, edit and export, then 402 insufficient_credits (0: no limit)"},
		&cli.DurationFlag{Name: "create-delay", Usage: "current: hold the answer of a create this long after making its job (for clients that time out after the server accepted)"},
	}
}

// currentConfig reads --api, --rate-limit and the current generation's
// flags. perSecond is the alpha generation's rate limit.
func currentConfig(c *cli.Context) (gen string, o emulator.CurrentOptions, perSecond int, err error) {
	gen = strings.ToLower(strings.TrimSpace(c.String("api")))
	if gen != emulator.APIAlpha && gen != emulator.APICurrent {
		return "", o, 0, fmt.Errorf("--api %q: want current or alpha", c.String("api"))
	}
	n, per, err := parseRateLimit(c.String("rate-limit"))
	if err != nil {
		return "", o, 0, fmt.Errorf("--rate-limit: %w", err)
	}
	if gen == emulator.APIAlpha {
		if per != time.Second && n > 0 {
			return "", o, 0, fmt.Errorf("--rate-limit %s: the alpha generation limits requests a second (N or N/s); windows of a minute or an hour need --api current", c.String("rate-limit"))
		}
		perSecond = n
	}
	o = emulator.CurrentOptions{
		Strict:          c.Bool("strict"),
		LiveEvents:      c.Bool("live-events"),
		PingInterval:    c.Duration("ping-interval"),
		DropStreamAfter: c.Int("drop-stream-after"),
		NoEvents:        c.Bool("no-events"),
		RateLimit:       n,
		RateWindow:      per,
		NoRateHeaders:   c.Bool("no-rate-headers"),
		ResetEpoch:      c.Bool("rate-reset-epoch"),
		Credits:         c.Int64("credits"),
		CreateDelay:     c.Duration("create-delay"),
	}
	if gen == emulator.APIAlpha {
		o.RateLimit = 0
	}
	return gen, o, perSecond, nil
}

// parseRateLimit reads N, N/s, N/m or N/h: N requests per window.
func parseRateLimit(s string) (n int, per time.Duration, err error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, time.Second, nil
	}
	num, unit, _ := strings.Cut(s, "/")
	per = time.Second
	switch unit {
	case "", "s", "sec", "second":
	case "m", "min", "minute":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	default:
		return 0, 0, fmt.Errorf("%q: want N, N/s, N/m or N/h", s)
	}
	n, err = strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return 0, 0, fmt.Errorf("%q: want a whole number of requests, e.g. 100/m", s)
	}
	return n, per, nil
}
