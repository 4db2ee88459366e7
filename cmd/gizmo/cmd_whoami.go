package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/internal/exitcode"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
)

func init() {
	register(&cli.Command{
		Name:  "whoami",
		Usage: "check the API key; show the account, its limits and the API generation spoken",
		Description: `Detects the API generation the server at --api-url speaks (GET requests only,
unless --api-generation forces one) and remembers it, checks the key, and
prints what the server tells: for the current generation, the answer of
GET /v1/whoami (account, key scopes, rate limit, credits) and the rate limit
seen in the X-RateLimit-* headers; for the alpha one, that the key lists the
account. It also says how many requests a full sync takes, and how long at the
current rate limit.

--json prints {"api_url", "generation", "detected", "whoami", "assets_total",
"rate_limit": {"limit", "remaining", "reset"}, "full_sync": {"requests",
"duration_seconds"}}. Exit status: 6 when the key is refused; 1 when the server speaks
no known generation.`,
		Flags: []cli.Flag{
			jsonFlag("print what the server tells as JSON"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return exitcode.With(exitcode.Usage, fmt.Errorf("whoami takes no arguments (got %q)", c.Args().First()))
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			probe, opts, err := newPlainClient(c)
			if err != nil {
				return err
			}
			gen, src, err := resolveGeneration(c, probe, true)
			if err != nil {
				return err
			}
			client := probe
			if gen == api.GenerationCurrent {
				opts.Generation = gen
				if client, err = api.New(opts); err != nil {
					return exitcode.With(exitcode.Usage, err)
				}
			}
			return runWhoami(ctx, client, gen, src, outputModeOf(c), c.App.Writer)
		},
	})
}

// whoamiJSON is what gizmo whoami --json prints.
type whoamiJSON struct {
	APIURL     string         `json:"api_url"`
	Generation api.Generation `json:"generation"`
	Detected   string         `json:"detected"`
	Whoami     map[string]any `json:"whoami,omitempty"`
	Assets     int            `json:"assets_total"`
	RateLimit  *rateJSON      `json:"rate_limit,omitempty"`
	FullSync   fullSyncJSON   `json:"full_sync"`
}

type rateJSON struct {
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset"`
}

type fullSyncJSON struct {
	Requests int     `json:"requests"`
	Seconds  float64 `json:"duration_seconds,omitempty"` // at the rate limit; 0 when none is known
}

func runWhoami(ctx context.Context, client *api.Client, gen api.Generation, src string, mode outputMode, stdout io.Writer) error {
	out := whoamiJSON{APIURL: client.BaseURL(), Generation: gen, Detected: src}
	if gen == api.GenerationCurrent {
		m, err := client.Whoami(ctx)
		if err != nil {
			return exitForAPI(err)
		}
		out.Whoami = m
	}
	page, err := client.List(ctx, 1, 0)
	if err != nil {
		return exitForAPI(err)
	}
	out.Assets = page.Total
	// A full sync: the list pages, then per ready asset one request per
	// format (current: the export answers the file; alpha: a get, then an
	// export and a download per format).
	perAsset := 3
	if gen == api.GenerationAlpha {
		perAsset = 1 + 3*2
	}
	out.FullSync.Requests = gsync.ListPages(out.Assets) + out.Assets*perAsset
	limit, remaining, reset, ok := client.Pace()
	if ok {
		out.RateLimit = &rateJSON{Limit: limit, Remaining: remaining, Reset: reset.UTC().Truncate(time.Second)}
		if window := windowOf(out.Whoami); window > 0 && limit > 0 {
			out.FullSync.Seconds = math.Round(float64(out.FullSync.Requests) / float64(limit) * window.Seconds())
		}
	}
	if mode.json {
		return ui.PrintJSON(stdout, out)
	}
	t := ui.NewTable(stdout)
	t.Row("api", out.APIURL)
	t.Row("generation", fmt.Sprintf("%s (%s)", gen, src))
	t.Row("auth", "the key is accepted")
	for _, k := range sortedKeys(out.Whoami) {
		if k == "ok" {
			continue
		}
		t.Row(k, flatten(out.Whoami[k]))
	}
	t.Row("assets", fmt.Sprint(out.Assets))
	if out.RateLimit != nil {
		t.Row("rate limit", fmt.Sprintf("%d requests, %d left, resets %s", limit, remaining, reset.Local().Format(time.TimeOnly)))
	}
	full := fmt.Sprintf("%d requests", out.FullSync.Requests)
	if out.FullSync.Seconds > 0 {
		full += fmt.Sprintf(", about %s at the rate limit", (time.Duration(out.FullSync.Seconds) * time.Second).String())
	}
	t.Row("full sync", full)
	return t.Flush()
}

// windowOf reads the rate limit's window from a whoami answer
// (rate_limit.window_seconds), or a minute, the documented default.
func windowOf(m map[string]any) time.Duration {
	if rl, ok := m["rate_limit"].(map[string]any); ok {
		if s, ok := rl["window_seconds"].(float64); ok && s > 0 {
			return time.Duration(s * float64(time.Second))
		}
	}
	return time.Minute
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// flatten shows a JSON value on one line: objects as k=v pairs.
func flatten(v any) string {
	switch x := v.(type) {
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(x) {
			parts = append(parts, k+"="+flatten(x[k]))
		}
		return strings.Join(parts, " ")
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, flatten(e))
		}
		return strings.Join(parts, ",")
	case nil:
		return "-"
	}
	return fmt.Sprint(v)
}
