package sync

import (
	"slices"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
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
		Scene:     a.IsScene(),
		Revision:  a.Revision,
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
