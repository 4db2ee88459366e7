package main

import (
	"context"
	"errors"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/prepare"
)

// export takes an asset's id or its name, as place and cache path do, and
// finds the asset the way place does: in the cache first (an id, or a name
// one cached asset carries; no request), then on Gizmo (an id the API
// knows, else a name in the account's listing; prepare.Resolve). The
// listing is asked for only when the API does not know the argument as an
// id, so exporting by id costs no more requests than it did.

// exportCachedID is the id of the cached asset whose id or name is arg, or
// "" when the cache has none. A name several cached assets carry is
// refused with exit 3, as place refuses it: the user must pick an id.
func exportCachedID(store *cache.Cache, arg string) (string, error) {
	a, err := store.Asset(arg)
	switch {
	case err == nil:
		return a.ID, nil
	case errors.Is(err, cache.ErrNotFound):
		return "", nil
	}
	return "", exitcode.With(exitcode.NotFound, err)
}

// exportResolveName is the id of the asset named name on Gizmo, looked up
// after the API answered that no asset has the id name; "" when no asset
// has that name either (the API's own answer then says it best).
func exportResolveName(ctx context.Context, store *cache.Cache, client *api.Client, name string) (string, error) {
	meta, err := prepare.Resolve(ctx, prepare.Options{
		OpenCache: func() (prepare.Cache, error) { return store, nil },
		Remote:    func() (prepare.Remote, error) { return client, nil },
	}, name)
	if err == nil {
		return meta.ID, nil
	}
	var nf *prepare.NotFoundError
	if errors.As(err, &nf) {
		// The listing is recorded in the cache: a name no asset carries is
		// not there either, while one several carry is.
		if _, cerr := store.Asset(name); errors.Is(cerr, cache.ErrNotFound) {
			return "", nil
		}
	}
	return "", prepareError(err)
}
