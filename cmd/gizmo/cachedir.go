package main

import (
	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cache"
)

// cacheDir is the cache directory: --cache-dir (or GIZMO_CACHE_DIR, the
// flag's environment variable), else $XDG_CACHE_HOME/gizmo, else
// ~/.cache/gizmo.
func cacheDir(c *cli.Context) (string, error) {
	for _, x := range c.Lineage() {
		if d := x.String(flagCacheDir); d != "" {
			return d, nil
		}
	}
	return cache.DefaultDir()
}

// openCache opens the cache the global flags name, creating it if needed.
// The cache holds no file open between operations, so Close is cheap and any
// number of gizmo processes may have it open at once.
func openCache(c *cli.Context) (*cache.Cache, error) {
	dir, err := cacheDir(c)
	if err != nil {
		return nil, err
	}
	return cache.Open(dir)
}
