package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/internal/atomicfile"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/ratebudget"
)

// flagAPIGeneration forces the API generation (env GIZMO_API_GENERATION).
const flagAPIGeneration = "api-generation"

// generationTTL is how long a detected generation is remembered.
const generationTTL = 24 * time.Hour

// generationFile is where detected generations are remembered, in the
// cache directory: one entry per API URL (never the key).
const generationFile = "api/generations.json"

// rememberedGeneration is one entry of generationFile.
type rememberedGeneration struct {
	Generation api.Generation `json:"generation"`
	Detected   time.Time      `json:"detected"`
	Evidence   string         `json:"evidence,omitempty"`
}

// withGeneration gives the client the generation --api-generation forces,
// or the one remembered for the API URL, or detects it (GET requests only)
// and remembers it.
func withGeneration(c *cli.Context, client *api.Client, opts api.Options) (*api.Client, error) {
	g, src, err := resolveGeneration(c, client, false)
	if err != nil {
		return nil, err
	}
	if lineageBool(c, flagVerbose) {
		fmt.Fprintf(c.App.ErrWriter, "gizmo: %s speaks the %s generation of the API (%s)\n", client.BaseURL(), g, src)
	}
	if g == api.GenerationAlpha {
		return client, nil
	}
	opts.Generation = g
	cur, err := api.New(opts)
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("%w (--api-url or GIZMO_API_URL)", err))
	}
	return cur, nil
}

// resolveGeneration finds the generation and says where it came from.
// fresh skips the remembered one (gizmo whoami detects anew).
func resolveGeneration(c *cli.Context, client *api.Client, fresh bool) (api.Generation, string, error) {
	forced, err := api.ParseGeneration(c.String(flagAPIGeneration))
	if err != nil {
		return "", "", exitcode.With(exitcode.Usage, fmt.Errorf("--%s (GIZMO_API_GENERATION): %w", flagAPIGeneration, err))
	}
	if forced != api.GenerationAuto {
		return forced, "forced with --" + flagAPIGeneration, nil
	}
	key := generationKey(client.BaseURL())
	path := generationPath(c)
	if !fresh {
		if r, ok := loadGenerations(path)[key]; ok && time.Since(r.Detected) < generationTTL && (r.Generation == api.GenerationAlpha || r.Generation == api.GenerationCurrent) {
			return r.Generation, "remembered from " + r.Detected.Local().Format(time.DateTime), nil
		}
	}
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if d := lineageDuration(c, flagTimeout); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	p, err := client.DetectGeneration(ctx)
	if err != nil {
		if errors.Is(err, api.ErrUnknownGeneration) {
			return "", "", exitcode.With(exitcode.Failure, err)
		}
		return "", "", exitForAPI(err)
	}
	if path != "" {
		m := loadGenerations(path)
		m[key] = rememberedGeneration{Generation: p.Generation, Detected: time.Now().UTC().Truncate(time.Second), Evidence: p.Evidence}
		saveGenerations(path, m) // best effort: detection runs again next time
	}
	return p.Generation, "detected: " + p.Evidence, nil
}

// generationKey names an API URL in generationFile: without a final /v1
// or slash, so that both spellings of one server share an entry.
func generationKey(base string) string {
	b := strings.TrimRight(base, "/")
	if strings.HasSuffix(strings.ToLower(b), "/v1") {
		b = b[:len(b)-3]
	}
	return b
}

func generationPath(c *cli.Context) string {
	dir, err := cacheDir(c)
	if err != nil || dir == "" {
		return ""
	}
	return filepath.Join(dir, filepath.FromSlash(generationFile))
}

func loadGenerations(path string) map[string]rememberedGeneration {
	m := map[string]rememberedGeneration{}
	if path == "" {
		return m
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return m
	}
	if json.Unmarshal(b, &m) != nil {
		return map[string]rememberedGeneration{}
	}
	return m
}

func saveGenerations(path string, m map[string]rememberedGeneration) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return
	}
	if os.MkdirAll(filepath.Dir(path), 0o755) != nil {
		return
	}
	_ = atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// rateBudget is the rate-limit budget shared by the processes using this
// API URL and key on this machine, whatever their cache directories: the
// budget belongs to the key. It is kept in the api folder of the user's
// default cache directory ($XDG_CACHE_HOME/gizmo/api, ~/.cache/gizmo/api),
// or of the cache directory in use when the user has none; nil when there
// is neither.
func rateBudget(c *cli.Context, apiURL, key string) api.Budget {
	dir, err := cache.DefaultDir()
	if err != nil || dir == "" {
		if dir, err = cacheDir(c); err != nil || dir == "" {
			return nil
		}
	}
	return ratebudget.New(filepath.Join(dir, budgetDir), apiURL, key)
}

// budgetDir is the folder of rate-limit budgets below a cache directory.
const budgetDir = "api"
