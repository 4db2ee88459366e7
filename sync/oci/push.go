package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
)

// PushCache is what Push needs from the cache; *cache.Cache satisfies it.
type PushCache interface {
	Root() string
	Asset(idOrName string) (cache.AssetMeta, error)
	Entry(id, format string) (cache.Entry, error)
	Unpack(ctx context.Context, e cache.Entry) (string, error)
	TreePath(e cache.Entry) string
	DownloadPath(e cache.Entry) string
}

var _ PushCache = (*cache.Cache)(nil)

// PushOptions says what Push publishes.
type PushOptions struct {
	// Exports are what gizmo.lock names (its entries; duplicates across
	// targets are pushed once); Manifest is the gizmo.toml digest it
	// records.
	Exports  []Export
	Manifest string
	Cache    PushCache
	// Gizmo is the pushing gizmo's version, recorded in the bundle.
	Gizmo string
	// Source and Revision fill the standard annotations when set.
	Source, Revision string
	// Mountable writes the image-shaped variant (see the package doc).
	Mountable bool
}

// Export is one (asset, format) that gizmo.lock names, with the hash of its
// download.
type Export struct {
	ID, Name string
	Format   formats.Format
	Hash     string
}

// PushResult is what a push did.
type PushResult struct {
	Ref      string `json:"ref"`
	Digest   string `json:"digest"`
	Entries  int    `json:"entries"`
	Uploaded int    `json:"blobs_uploaded"`
	Present  int    `json:"blobs_present"`
	Bytes    int64  `json:"bytes_uploaded"`
}

// pushConcurrency is how many blobs a push uploads at once.
const pushConcurrency = 4

// Push publishes the exports the lock names, from the cache, as one
// artifact at ref, and tags it when ref has a tag.
func Push(ctx context.Context, repo *remote.Repository, ref Ref, o PushOptions) (*PushResult, error) {
	keys := map[string]Export{}
	for _, e := range o.Exports {
		keys[e.ID+"\x00"+string(e.Format)] = e
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("gizmo.lock lists no asset: run 'gizmo prepare' first, then push")
	}
	tmp := filepath.Join(o.Cache.Root(), "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	b := &Bundle{Version: bundleVersion, Manifest: o.Manifest, Gizmo: o.Gizmo}
	var created time.Time
	type pending struct {
		layer *builtLayer
		title string
	}
	var layers []pending
	defer func() {
		for _, l := range layers {
			os.Remove(l.layer.file)
		}
	}()
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		le := keys[k]
		ce, err := o.Cache.Entry(le.ID, string(le.Format))
		if err != nil {
			return nil, fmt.Errorf("asset %s (%s) %s: not in the cache: %w (run 'gizmo prepare' to fetch it)", le.ID, le.Name, le.Format.Short(), err)
		}
		if ce.Hash != le.Hash {
			return nil, fmt.Errorf("asset %s (%s) %s: gizmo.lock has hash %.12s, the cache %.12s: run 'gizmo prepare' so that the lock and the cache agree", le.ID, le.Name, le.Format.Short(), le.Hash, ce.Hash)
		}
		meta, err := o.Cache.Asset(le.ID)
		if err != nil {
			return nil, fmt.Errorf("asset %s (%s): %w", le.ID, le.Name, err)
		}
		if meta.CreatedAt.After(created) {
			created = meta.CreatedAt
		}
		if _, err := o.Cache.Unpack(ctx, ce); err != nil {
			return nil, fmt.Errorf("asset %s %s: %w", le.ID, le.Format.Short(), err)
		}
		tree := o.Cache.TreePath(ce)
		t := title(meta.Name, le.ID, le.Format.Short())
		files, err := treeFiles(tree, t)
		if err != nil {
			return nil, err
		}
		be := BundleEntry{ID: le.ID, Name: meta.Name, Tags: meta.Tags, Format: string(le.Format), SHA256: ce.Hash, Size: ce.Size,
			Title: t, Model: path.Join(t, ce.Model), Validation: ce.Validation}
		if ce.Kind == formats.KindZip {
			name := "download.zip"
			be.Download = path.Join(t, ".gizmo", name)
			files = append(files, layerFile{path: be.Download, src: o.Cache.DownloadPath(ce)})
		} else {
			be.Download = be.Model // a single model file is its own download
		}
		b.Entries = append(b.Entries, be)
		layers = append(layers, pending{title: t})
		layers[len(layers)-1].layer, err = writeLayer(tmp, files, meta.CreatedAt)
		if err != nil {
			layers = layers[:len(layers)-1]
			return nil, fmt.Errorf("asset %s %s: writing its layer: %w", le.ID, le.Format.Short(), err)
		}
		l := layers[len(layers)-1].layer
		b.Entries[len(b.Entries)-1].Files = l.files
		b.Entries[len(b.Entries)-1].Layer = l.digest.String()
	}
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	// Every layer's mtime is its asset's creation; the bundle's is the newest.
	b.Created = created.UTC().Format(time.RFC3339)
	res := &PushResult{Ref: ref.String(), Entries: len(b.Entries)}
	var mu sync.Mutex
	push := func(ctx context.Context, desc ocispec.Descriptor, open func() (*os.File, error), data []byte) error {
		ok, err := repo.Exists(ctx, desc)
		if err != nil {
			return explain(ref, "check blob "+desc.Digest.String(), err)
		}
		if ok {
			mu.Lock()
			res.Present++
			mu.Unlock()
			return nil
		}
		if data != nil {
			err = repo.Push(ctx, desc, bytes.NewReader(data))
		} else {
			var f *os.File
			if f, err = open(); err == nil {
				err = repo.Push(ctx, desc, f)
				f.Close()
			}
		}
		if err != nil {
			return explain(ref, "upload blob "+desc.Digest.String(), err)
		}
		mu.Lock()
		res.Uploaded++
		res.Bytes += desc.Size
		mu.Unlock()
		return nil
	}
	// Layers go up a few at a time; the manifest lists them in order.
	descs := make([]ocispec.Descriptor, len(layers))
	var diffIDs []digest.Digest
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pushConcurrency)
	for i, p := range layers {
		d := ocispec.Descriptor{MediaType: LayerMediaType, Digest: p.layer.digest, Size: p.layer.size,
			Annotations: map[string]string{ocispec.AnnotationTitle: p.title, orasUnpack: "true", orasDigest: p.layer.diffID.String()}}
		descs[i] = d
		diffIDs = append(diffIDs, p.layer.diffID)
		file := p.layer.file
		g.Go(func() error {
			return push(gctx, d, func() (*os.File, error) { return os.Open(file) }, nil)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	cfg, err := b.marshal()
	if err != nil {
		return nil, err
	}
	var cfgDesc ocispec.Descriptor
	if o.Mountable {
		// The bundle rides along as a file at the image's root, and the
		// config is an image config that container runtimes accept.
		bl, err := bundleLayer(tmp, cfg, created)
		if err != nil {
			return nil, err
		}
		defer os.Remove(bl.file)
		d := ocispec.Descriptor{MediaType: LayerMediaType, Digest: bl.digest, Size: bl.size,
			Annotations: map[string]string{ocispec.AnnotationTitle: bundleFileName, annotationBundle: "true"}}
		if err := push(ctx, d, func() (*os.File, error) { return os.Open(bl.file) }, nil); err != nil {
			return nil, err
		}
		descs = append(descs, d)
		diffIDs = append(diffIDs, bl.diffID)
		img := ocispec.Image{
			Created:  &created,
			Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
			RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
		}
		data, err := json.Marshal(img)
		if err != nil {
			return nil, err
		}
		cfgDesc = content.NewDescriptorFromBytes(imageConfigType, data)
		if err := push(ctx, cfgDesc, nil, data); err != nil {
			return nil, err
		}
	} else {
		cfgDesc = content.NewDescriptorFromBytes(ConfigMediaType, cfg)
		if err := push(ctx, cfgDesc, nil, cfg); err != nil {
			return nil, err
		}
	}
	ann := map[string]string{ocispec.AnnotationCreated: b.Created, annotationLockFor: o.Manifest}
	if o.Source != "" {
		ann[ocispec.AnnotationSource] = o.Source
	}
	if o.Revision != "" {
		ann[ocispec.AnnotationRevision] = o.Revision
	}
	man := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactType,
		Config:       cfgDesc,
		Layers:       descs,
		Annotations:  ann,
	}
	if o.Mountable {
		man.ArtifactType = "" // an image, as runtimes expect
	}
	data, err := json.Marshal(man)
	if err != nil {
		return nil, err
	}
	mdesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, data)
	mdesc.ArtifactType = man.ArtifactType
	if tag := ref.Tag(); tag != "" {
		err = repo.PushReference(ctx, mdesc, bytes.NewReader(data), tag)
	} else {
		if want, derr := ref.Digest(); derr == nil && want != mdesc.Digest {
			return nil, fmt.Errorf("%s: the lock gives manifest %s, not the digest the reference names", ref, mdesc.Digest)
		}
		err = repo.Push(ctx, mdesc, bytes.NewReader(data))
	}
	if err != nil {
		return nil, explain(ref, "push manifest", err)
	}
	res.Digest = mdesc.Digest.String()
	return res, nil
}

// bundleLayer is the mountable variant's extra layer: the bundle as a file.
func bundleLayer(tmp string, cfg []byte, mtime time.Time) (*builtLayer, error) {
	f, err := os.CreateTemp(tmp, "oci-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(cfg); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return writeLayer(tmp, []layerFile{{path: bundleFileName, src: f.Name()}}, mtime)
}
