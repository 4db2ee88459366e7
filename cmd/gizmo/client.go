package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/api"
)

// keyHelp says how to give gizmo an API key.
const keyHelp = "set GIZMO_API_KEY, or put the key in a file readable only by you (chmod 600 FILE) and pass --api-key-file FILE"

// newClient builds the API client from the global flags: --api-url, the key
// from --api-key / GIZMO_API_KEY or else --api-key-file, and --verbose for a
// request log on stderr.
func newClient(c *cli.Context) (*api.Client, error) {
	client, opts, err := newPlainClient(c)
	if err != nil {
		return nil, err
	}
	// The generation the server speaks: forced, remembered or detected
	// (generation.go).
	return withGeneration(c, client, opts)
}

// newPlainClient is newClient before the generation is known: an alpha
// client, and its options.
func newPlainClient(c *cli.Context) (*api.Client, api.Options, error) {
	key, err := apiKey(c)
	if err != nil {
		return nil, api.Options{}, err
	}
	var logger *slog.Logger
	if lineageBool(c, flagVerbose) {
		logger = slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	reqTimeout := c.Duration(flagReqTimeout)
	if reqTimeout <= 0 {
		return nil, api.Options{}, exitcode.With(exitcode.Usage, fmt.Errorf("--request-timeout %v: want a positive duration such as 30s", reqTimeout))
	}
	maxDL, err := parseSize(c.String(flagMaxDL))
	if err != nil {
		return nil, api.Options{}, exitcode.With(exitcode.Usage, fmt.Errorf("--max-download: %w", err))
	}
	opts := api.Options{
		BaseURL:        c.String(flagAPIURL),
		APIKey:         key,
		UserAgent:      userAgent(),
		Logger:         logger,
		RequestTimeout: reqTimeout,
		IdleTimeout:    reqTimeout,
		MaxDownload:    maxDL,
		// Status polls start at 1s and back off, with jitter, to every 30s
		// (the rule for every loop that talks to the network).
		PollInterval: time.Second,
		PollMax:      30 * time.Second,
	}
	opts.Budget = rateBudget(c, opts.BaseURL, key)
	client, err := api.New(opts)
	if err != nil {
		return nil, opts, exitcode.With(exitcode.Usage, fmt.Errorf("%w (--api-url or GIZMO_API_URL)", err))
	}
	return client, opts, nil
}

func userAgent() string {
	return fmt.Sprintf("gizmo/%s (%s/%s)", version, runtime.GOOS, runtime.GOARCH)
}

// apiKey finds the API key: --api-key or GIZMO_API_KEY first, then the file
// named by --api-key-file or GIZMO_API_KEY_FILE, which must not be readable
// by group or others.
func apiKey(c *cli.Context) (string, error) {
	if k := strings.TrimSpace(c.String(flagAPIKey)); k != "" {
		return k, nil
	}
	path := c.String(flagAPIKeyFile)
	if path == "" {
		return "", exitcode.With(exitcode.Auth, errors.New("no API key: "+keyHelp))
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", exitcode.With(exitcode.Auth, fmt.Errorf("API key file: %w", err))
	}
	if !fi.Mode().IsRegular() {
		return "", exitcode.With(exitcode.Auth, fmt.Errorf("API key file %s is not a regular file", path))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", exitcode.With(exitcode.Auth, fmt.Errorf("API key file %s is readable by others (mode %04o): run 'chmod 600 %s' first", path, fi.Mode().Perm(), path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", exitcode.With(exitcode.Auth, fmt.Errorf("API key file: %w", err))
	}
	k := strings.TrimSpace(string(b))
	if k == "" {
		return "", exitcode.With(exitcode.Auth, fmt.Errorf("API key file %s is empty", path))
	}
	if strings.ContainsAny(k, " \t\r\n") {
		return "", exitcode.With(exitcode.Auth, fmt.Errorf("API key file %s holds more than one word: put only the key in it", path))
	}
	return k, nil
}

// exitForAPI gives an API error its exit code and a hint on what to do:
// 401/403 → Auth, 404 → NotFound. Errors that already carry a code, and
// other errors, pass through unchanged.
func exitForAPI(err error) error {
	if err == nil {
		return nil
	}
	var coded *exitcode.Error
	if errors.As(err, &coded) {
		return err
	}
	switch {
	case errors.Is(err, api.ErrUnauthorized):
		return exitcode.With(exitcode.Auth, fmt.Errorf("%w\nthe API refused the key: check it, or %s", err, keyHelp))
	case errors.Is(err, api.ErrForbidden):
		return exitcode.With(exitcode.Auth, fmt.Errorf("%w\nthe key lacks permission for this call: ask the account owner for access", err))
	case errors.Is(err, api.ErrNotAPI):
		// Before ErrNotFound: a 404 for a route is no missing asset.
		return err
	case errors.Is(err, api.ErrNotInGeneration):
		return exitcode.With(exitcode.Usage, err)
	case errors.Is(err, api.ErrNotFound):
		return exitcode.With(exitcode.NotFound, fmt.Errorf("%w\nlist the account's assets with 'gizmo ls --all'", err))
	}
	return err
}

// parseSize reads a byte size: a number with an optional unit, B, KiB, MiB,
// GiB or TiB (K, M, G, T and KB, MB, GB, TB mean the same, in 1024s).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || n <= 0 || n*float64(mult) >= 1<<62 {
		return 0, fmt.Errorf("%q: want a size such as 500MiB or 8GiB", s)
	}
	return int64(n * float64(mult)), nil
}
