package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/emulator"
)

func init() {
	register(&cli.Command{
		Name:  "emulator",
		Usage: "run a local Gizmo-compatible API server (for tests, benchmarks and demos)",
		Description: `Serves the Gizmo API in the generation --api names. alpha: POST /assets,
GET /assets, GET /assets/{id}, POST /assets/{id}/export and the signed
download URLs it mints. current (under /v1/): whoami, assets and scenes
created as jobs (GET /v1/jobs/{id}, its event stream at /v1/jobs/{id}/events),
scene edits, ZIP exports answered by POST .../export (mjcf, usd, sdf), the
nested error envelope, X-RateLimit-* headers. Both serve
GET /_emulator/stats (request and error counts per route, as JSON).

Where the vendor's documents are silent or disagree the emulator chooses
(see the README's emulator section): --strict takes the strict side
(scene_id required on asset creation, export format in query and body),
--live-events the event names seen on the live wire with endless pings.

The first line on stdout is the base URL to use as --api-url / GIZMO_API_URL,
e.g. http://127.0.0.1:8750 (with --addr 127.0.0.1:0 the port is picked).
It runs until interrupted (Ctrl-C, SIGTERM).

Created assets are pending, processing after --gen-delay/2, and ready (or
failed, with --fail-rate) after --gen-delay. Seeded assets are mostly ready,
some failed, some pending or processing; these last ones progress the same
way, counted from the start, and settle after --gen-delay, or after 2s when
--gen-delay is 0 (ready, or failed for a --fail-rate share that --seed
picks). With --settle-seeded=false they stay pending or processing for good.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8750", Usage: "listen on `HOST:PORT` (:0 picks a free port)"},
			&cli.StringFlag{Name: "api-key", Value: emulator.DefaultAPIKey, Usage: "the API `KEY` clients must send"},
			&cli.StringFlag{Name: "read-only-key", Usage: "a second API `KEY` that may list and get but gets 403 on create and export"},
			&cli.IntFlag{Name: "assets", Usage: "seed `N` assets"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed of asset ids, seeded statuses and fault injection"},
			&cli.DurationFlag{Name: "url-ttl", Value: emulator.DefaultURLTTL, Usage: "lifetime of download URLs"},
			&cli.DurationFlag{Name: "gen-delay", Usage: "time a created asset takes to become ready (processing at half of it); seeded pending and processing assets settle this long after the start, or after 2s when it is 0"},
			&cli.BoolFlag{Name: "settle-seeded", Value: true, Usage: "let seeded pending and processing assets become ready or failed (see --gen-delay); --settle-seeded=false keeps them as seeded"},
			&cli.Float64Flag{Name: "error-rate", Usage: "share of requests answered 503 (0 to 1)"},
			&cli.StringFlag{Name: "rate-limit", Usage: "API requests allowed before 429 with Retry-After: `N` a second, or N/s, N/m, N/h (the current generation counts them in fixed windows and sends X-RateLimit-* headers; the alpha one only takes N a second)"},
			&cli.Float64Flag{Name: "truncate-rate", Usage: "share of downloads cut short, at a random point (0 to 1)"},
			&cli.Float64Flag{Name: "truncate-at", Usage: "cut the truncated downloads at this `SHARE` of what the answer serves (0 to 1; default: a random point)"},
			&cli.DurationFlag{Name: "latency", Usage: "wait `D` before every API answer and download, as a network would (e.g. 25ms)"},
			&cli.DurationFlag{Name: "jitter", Usage: "add a random wait of up to `D` to --latency"},
			&cli.IntFlag{Name: "big-every", Usage: "every `K`-th asset's zip exports carry a large payload (--big-size), generated as served, never held in memory"},
			&cli.StringFlag{Name: "big-size", Value: "300m", Usage: "`SIZE` of the --big-every payload (e.g. 300m, 1g)"},
			&cli.StringFlag{Name: "slow", Usage: "throttle download bodies to `RATE` bytes per second (e.g. 64k, 2m)"},
			&cli.Float64Flag{Name: "fail-rate", Usage: "share of generations that end failed (0 to 1)"},
			&cli.IntFlag{Name: "max-per-asset-rate", Usage: "answer 429 to more than `N` requests a second for one asset on one route (get, export, download): a client in a tight loop is refused and counted in the stats (0: no limit)"},
			&cli.StringFlag{Name: "state-dir", Usage: "keep the assets, scenes and jobs in `DIR` across restarts"},
			&cli.StringFlag{Name: "download-url", Usage: "base `URL` of download links (default: the host the API was called on)"},
		}, currentFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 { // flags after an argument are not read: refuse both
				return exitcode.With(exitcode.Usage, fmt.Errorf("emulator takes no arguments (got %q)", c.Args().First()))
			}
			slow, err := parseRate(c.String("slow"))
			if err != nil {
				return exitcode.With(exitcode.Usage, fmt.Errorf("--slow: %w", err))
			}
			bigSize, err := parseRate(c.String("big-size"))
			if err != nil {
				return exitcode.With(exitcode.Usage, fmt.Errorf("--big-size: %w", err))
			}
			if c.Int("big-every") < 0 || c.Duration("latency") < 0 || c.Duration("jitter") < 0 {
				return exitcode.With(exitcode.Usage, errors.New("--big-every, --latency and --jitter must not be negative"))
			}
			gen, cur, perSecond, err := currentConfig(c)
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			cfg := emulator.Config{
				APIKey:          c.String("api-key"),
				ReadOnlyAPIKey:  c.String("read-only-key"),
				Assets:          c.Int("assets"),
				Seed:            c.Int64("seed"),
				URLTTL:          c.Duration("url-ttl"),
				GenDelay:        c.Duration("gen-delay"),
				SeedSettle:      seedSettle(c.Duration("gen-delay"), c.Bool("settle-seeded")),
				ErrorRate:       c.Float64("error-rate"),
				RateLimit:       perSecond,
				TruncateRate:    c.Float64("truncate-rate"),
				TruncateAt:      c.Float64("truncate-at"),
				Latency:         c.Duration("latency"),
				Jitter:          c.Duration("jitter"),
				BigEvery:        c.Int("big-every"),
				BigSize:         bigSize,
				Slow:            slow,
				FailRate:        c.Float64("fail-rate"),
				MaxPerAssetRate: c.Int("max-per-asset-rate"),
				StateDir:        c.String("state-dir"),
				DownloadBaseURL: c.String("download-url"),
				API:             gen,
				Current:         cur,
			}
			return runEmulator(c.Context, c.String("addr"), cfg, c.App.Writer, c.App.ErrWriter)
		},
	})
}

// defaultSeedSettle is the time seeded pending and processing assets take to
// settle when --gen-delay is 0, which makes created assets ready at once: long
// enough to see them pending, short enough that gizmo sync --wait ends.
const defaultSeedSettle = 2 * time.Second

// seedSettle is Config.SeedSettle for the flags: --gen-delay, or
// defaultSeedSettle when it is 0; 0 (statuses fixed) with
// --settle-seeded=false.
func seedSettle(genDelay time.Duration, settle bool) time.Duration {
	switch {
	case !settle:
		return 0
	case genDelay == 0:
		return defaultSeedSettle
	}
	return genDelay
}

// runEmulator serves until ctx is done, then shuts down gracefully.
func runEmulator(ctx context.Context, addr string, cfg emulator.Config, stdout, stderr io.Writer) error {
	srv, err := emulator.New(cfg)
	if err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	url, err := srv.Start(addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, url)
	key := "the one given with --api-key"
	if cfg.APIKey == emulator.DefaultAPIKey || cfg.APIKey == "" {
		key = `"` + emulator.DefaultAPIKey + `"`
	}
	gen := cfg.API
	if gen == "" {
		gen = emulator.APIAlpha
	}
	fmt.Fprintf(stderr, "gizmo emulator: serving the %s generation of the Gizmo API on %s with %d assets (API key %s); stop with Ctrl-C\n",
		gen, url, srv.Stats().Assets, key)
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	srv.Close()
	fmt.Fprintln(stderr, "gizmo emulator: stopped")
	return nil
}

// parseRate reads a byte rate: a number with an optional k, m or g suffix
// (powers of 1024).
func parseRate(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "g"):
		mult, s = 1<<30, strings.TrimSuffix(s, "g")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q: want bytes per second, e.g. 65536, 64k or 2m", s)
	}
	return n * mult, nil
}
