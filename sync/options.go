package sync

import (
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// PageSize is the list page size the engine asks for: the API's maximum.
const PageSize = 100

// Defaults for Options.
const (
	DefaultConcurrency = 8
	DefaultURLMargin   = 2 * time.Minute
	DefaultAttempts    = 8
	// DefaultMaxWait bounds Options.Wait's wait for one asset.
	DefaultMaxWait = 30 * time.Minute
)

// Options says what Run syncs and how.
type Options struct {
	// Formats are the wanted formats; empty means every format an asset offers.
	Formats []formats.Format
	// Tags, when set, limit fetching to assets carrying at least one of them.
	// Every listed asset is still recorded.
	Tags []string
	// Concurrency bounds the downloads (and, separately, the metadata
	// requests, and the export requests) in flight. 0 means
	// DefaultConcurrency. Files whose
	// download is over and that are being verified, stored and validated
	// do not count: up to publishFactor times as many run meanwhile, so
	// that the disk's flushes overlap the next downloads.
	Concurrency int
	// Wait polls pending and processing assets until they settle and fetches
	// those that become ready, waiting at most MaxWait for each (0 means
	// DefaultMaxWait).
	Wait    bool
	MaxWait time.Duration
	// Prune removes vanished assets from the cache (after a complete listing).
	Prune bool
	// Scenes mirrors the account's scenes too, when the remote lists them
	// (a SceneLister of the current generation): each scene is recorded,
	// planned and fetched as an asset is, its export being the whole
	// scene. A remote without scenes (the alpha generation) mirrors assets
	// only.
	Scenes bool
	// DryRun reports what would be fetched and changes nothing: no export, no
	// download, no write to the cache.
	DryRun bool
	// URLMargin is how long before its expiry a recorded export URL stops
	// being reused (clock skew plus download time). 0 means DefaultURLMargin.
	URLMargin time.Duration
	// Attempts bounds the tries per file (fresh URL after a 403, restart
	// after a cut-short download or a failed verification). 0 means
	// DefaultAttempts.
	Attempts int
	// Validator, when set, checks every stored URDF and MJCF model; the
	// outcome is recorded in the cache.
	Validator Validator
	// OnEvent receives every event, one at a time. May be nil.
	OnEvent func(Event)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// withDefaults fills in the zero fields that have a default.
func (opts Options) withDefaults() Options {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.URLMargin <= 0 {
		opts.URLMargin = DefaultURLMargin
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return opts
}
