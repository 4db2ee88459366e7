package sync

import (
	"context"
	"io"

	"github.com/antimlabs/gizmo/formats"
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
	// DownloadFrom streams a download URL's body into w, asking only for
	// what w lacks when from.Offset > 0 (Range with If-Range), and starting
	// over through from.Rewind when the server sends the whole body;
	// api.ErrURLExpired on a refused URL, api.ErrTruncated on a body cut
	// short.
	DownloadFrom(ctx context.Context, url string, w io.Writer, from api.Resume, progress func(done, total int64)) (*api.Download, error)
}

// SceneLister is a Remote that lists scenes (the current generation):
// Options.Scenes mirrors them. ListScenes returns one page of scenes and
// the total the server gave (-1 for none); it fails with
// api.ErrNotInGeneration against a server without scenes.
type SceneLister interface {
	ListScenes(ctx context.Context, limit, offset int) ([]api.Scene, int, error)
}

// The project's client fits.
var (
	_ Remote      = (*api.Client)(nil)
	_ SceneLister = (*api.Client)(nil)
)
