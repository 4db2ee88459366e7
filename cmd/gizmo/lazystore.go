package main

import (
	"context"
	"io"
	gosync "sync"
	"time"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/internal/archive"
)

// lazyStore is the sync engine's store, opened on first use: the engine
// lists the account before it reads the cache, so a sync that cannot reach
// the API creates no cache folder (and says truly that the cache was not
// changed).
type lazyStore struct {
	open func() (*cache.Cache, error)
	once gosync.Once
	c    *cache.Cache
	err  error
}

func (s *lazyStore) get() (*cache.Cache, error) {
	s.once.Do(func() { s.c, s.err = s.open() })
	return s.c, s.err
}

// Close closes the cache if it was opened.
func (s *lazyStore) Close() error {
	s.once.Do(func() {}) // no opening from now on
	if s.c == nil {
		return nil
	}
	return s.c.Close()
}

func (s *lazyStore) Assets() ([]cache.AssetMeta, error) {
	c, err := s.get()
	if err != nil {
		return nil, err
	}
	return c.Assets()
}

func (s *lazyStore) RecordAssets(seen []cache.AssetMeta, complete bool) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.RecordAssets(seen, complete)
}

func (s *lazyStore) Entries() ([]cache.Entry, error) {
	c, err := s.get()
	if err != nil {
		return nil, err
	}
	return c.Entries()
}

func (s *lazyStore) URLs() ([]cache.RecordedURL, error) {
	c, err := s.get()
	if err != nil {
		return nil, err
	}
	return c.URLs()
}

func (s *lazyStore) Remove(ctx context.Context, id string) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.Remove(ctx, id)
}

func (s *lazyStore) StoreChecked(ctx context.Context, id, format string, fetch cache.FetchFunc, check cache.Check) (cache.Entry, error) {
	c, err := s.get()
	if err != nil {
		return cache.Entry{}, err
	}
	return c.StoreChecked(ctx, id, format, fetch, check)
}

func (s *lazyStore) RecordURL(id, format, url string, expires time.Time) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.RecordURL(id, format, url, expires)
}

func (s *lazyStore) URL(id, format string) (string, time.Time, bool) {
	c, err := s.get()
	if err != nil {
		return "", time.Time{}, false
	}
	return c.URL(id, format)
}

func (s *lazyStore) SetValidation(id, format string, v cache.Validation) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.SetValidation(id, format, v)
}

// ModelPath, DownloadPath and Files take an entry the cache gave, so the
// cache is open by then.
func (s *lazyStore) ModelPath(e cache.Entry) string {
	c, err := s.get()
	if err != nil {
		return ""
	}
	return c.ModelPath(e)
}

func (s *lazyStore) DownloadPath(e cache.Entry) string {
	c, err := s.get()
	if err != nil {
		return ""
	}
	return c.DownloadPath(e)
}

func (s *lazyStore) Files(e cache.Entry) (*archive.Overlay, io.Closer, error) {
	c, err := s.get()
	if err != nil {
		return nil, nil, err
	}
	return c.Files(e)
}
