package sync

import (
	"context"
	"io"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/internal/archive"
)

// Store is what the engine needs from the cache. *cache.Cache satisfies it.
type Store interface {
	Assets() ([]cache.AssetMeta, error)
	RecordAssets(seen []cache.AssetMeta, complete bool) error
	Entries() ([]cache.Entry, error)
	// URLs returns every recorded export URL, read once at the start.
	URLs() ([]cache.RecordedURL, error)
	Remove(ctx context.Context, id string) error
	FileStore
}

// FileStore is what fetching one file needs from the cache (Fetch asks for
// no more): storing it, the recorded export URLs, the validation verdicts.
type FileStore interface {
	// StoreChecked stores a download (cache.Cache.Store), running check
	// on a new one before its index record is written, and records the
	// verdict in it.
	StoreChecked(ctx context.Context, id, format string, fetch cache.FetchFunc, check cache.Check) (cache.Entry, error)
	RecordURL(id, format, url string, expires time.Time) error
	URL(id, format string) (url string, expires time.Time, ok bool)
	SetValidation(id, format string, v cache.Validation) error
	// ModelPath is where the model file is, or will be once its tree is
	// unpacked (the cache unpacks on first use).
	ModelPath(e cache.Entry) string
	// DownloadPath is where the download is stored.
	DownloadPath(e cache.Entry) string
	// Files shows the stored download as its tree, unpacked or not.
	Files(e cache.Entry) (*archive.Overlay, io.Closer, error)
}

// The project's cache fits.
var (
	_ Store     = (*cache.Cache)(nil)
	_ FileStore = (*cache.Cache)(nil)
)
