package sync

import (
	"context"
	"hash"
	"io"
	"io/fs"
	"slices"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/sync/api"
)

// Remote is what the engine needs from the Gizmo API. *api.Client satisfies
// it; another API adapter only has to provide these calls.
type Remote interface {
	// List returns one page of the account's assets.
	List(ctx context.Context, limit, offset int) (*api.Page, error)
	// Get returns one asset with its formats.
	Get(ctx context.Context, id string) (*api.Asset, error)
	// WaitReady polls an asset until it is ready or failed.
	WaitReady(ctx context.Context, id string, onStatus func(api.Asset)) (*api.Asset, error)
	FileRemote
}

// FileRemote is what fetching one file needs from the API (Fetch asks for
// no more).
type FileRemote interface {
	// Export mints a download URL for an asset in a format.
	Export(ctx context.Context, id string, f formats.Format) (*api.Export, error)
	// Download streams a download URL's body into w; api.ErrURLExpired on a
	// refused URL, api.ErrTruncated on a body cut short.
	Download(ctx context.Context, url string, w io.Writer, progress func(done, total int64)) (*api.Download, error)
	// DownloadFrom is Download that asks only for what w lacks when
	// from.Offset > 0 (Range with If-Range), and starts over through
	// from.Rewind when the server sends the whole body.
	DownloadFrom(ctx context.Context, url string, w io.Writer, from api.Resume, progress func(done, total int64)) (*api.Download, error)
}

// resumableWriter is the cache's writer when it keeps parts of downloads cut
// short (cache.storeWriter): what an adopted part holds, and where the
// validator that makes it resumable is recorded.
type resumableWriter interface {
	Resume() (offset int64, etag string, total int64, held hash.Hash)
	SetValidator(etag string, total int64) error
}

// Store is what the engine needs from the cache. *cache.Cache satisfies it.
type Store interface {
	Assets() ([]cache.AssetMeta, error)
	RecordAssets(seen []cache.AssetMeta, complete bool) error
	Entries() ([]cache.Entry, error)
	// URLs returns every recorded export URL, read once at the start.
	URLs() ([]cache.RecordedURL, error)
	Remove(id string) error
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

// Validator checks a stored model file (URDF or MJCF) and tells whether it
// is valid, with its error and warning counts and a few summary lines. It
// reads the model at path, and the files it references, through files:
// the download shown as its tree, which need not be unpacked on disk. The
// command wires the validators in; this package does not import them.
type Validator func(ctx context.Context, path string, files Files) Validation

// Files is where a Validator reads: names are operating-system paths.
type Files interface {
	Open(name string) (io.ReadCloser, error)
	Stat(name string) (fs.FileInfo, error)
}

// Validation is a Validator's verdict.
type Validation struct {
	Valid            bool
	Errors, Warnings int
	Summary          []string
}

// Compile-time checks that the project's client and cache fit.
var (
	_ Remote    = (*api.Client)(nil)
	_ Store     = (*cache.Cache)(nil)
	_ FileStore = (*cache.Cache)(nil)
)

// record is an asset as the engine sees it: the server's view merged with
// what the cache already knew.
type record struct {
	ID      string
	Name    string
	Status  api.Status
	Error   string
	Tags    []string
	Formats []formats.Format
	// listFormats: the listing itself named the formats (the current
	// generation's does), so the asset need not be asked for them.
	listFormats bool
	meta        cache.AssetMeta
}

// mergeRecord merges an asset from the server with the cache's record of
// it: a list page carries no formats (nor, perhaps, tags or a failure's
// reason), so those are kept from the cache while the status is unchanged.
func mergeRecord(a api.Asset, prev cache.AssetMeta, known bool) record {
	m := cache.AssetMeta{
		ID:        a.ID,
		Name:      a.Name,
		Prompt:    a.Prompt,
		Status:    string(a.Status),
		Error:     a.Error,
		Tags:      slices.Clone(a.Tags),
		CreatedAt: a.CreatedAt,
	}
	for _, f := range a.Formats {
		m.Formats = append(m.Formats, string(f))
	}
	if known {
		m.FirstSeen = prev.FirstSeen
		if len(m.Tags) == 0 {
			m.Tags = slices.Clone(prev.Tags)
		}
		if prev.Status == m.Status {
			if len(m.Formats) == 0 {
				m.Formats = slices.Clone(prev.Formats)
			}
			if m.Error == "" {
				m.Error = prev.Error
			}
		}
	}
	r := record{ID: m.ID, Name: m.Name, Status: api.Status(m.Status), Error: m.Error, Tags: m.Tags, meta: m,
		listFormats: len(a.Formats) > 0}
	for _, f := range m.Formats {
		r.Formats = append(r.Formats, formats.Format(f))
	}
	return r
}
