package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/antimlabs/gizmo/cache"
)

// PullCache is what Pull needs from the cache; *cache.Cache satisfies it.
type PullCache interface {
	RecordAssets(seen []cache.AssetMeta, complete bool) error
	StoreChecked(ctx context.Context, id, format string, fetch cache.FetchFunc, check cache.Check) (cache.Entry, error)
	Unpack(ctx context.Context, e cache.Entry) (string, error)
}

var _ PullCache = (*cache.Cache)(nil)

// PullOptions says how Pull fills the cache.
type PullOptions struct {
	Cache PullCache
	// Check validates each new download (as a sync would); nil skips it.
	Check cache.Check
	// Unpack also makes each export's tree (see cache.Cache.Unpack) as
	// soon as it is stored, while other layers download, for a caller
	// that places every export next (prepare --from): the trees' flushes
	// then share the pull's instead of following one another.
	Unpack bool
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...any)
}

// PullResult is what a pull did.
type PullResult struct {
	Ref     string  `json:"ref"`
	Digest  string  `json:"digest"`
	Bundle  *Bundle `json:"-"`
	Stored  int     `json:"stored"`
	Present int     `json:"present"`
	Bytes   int64   `json:"bytes_fetched"`
}

// ErrDigest is returned when a blob's bytes do not match its digest (a
// tampered or corrupt registry), or a download in a layer does not match
// the SHA-256 its bundle records.
var ErrDigest = errors.New("digest mismatch")

// ErrCacheDiffers is returned when the cache holds another version of an
// export than the bundle.
var ErrCacheDiffers = errors.New("the cache holds another version")

// pullConcurrency is how many layers a pull fetches and stores at once.
// A store waits for the cache's group-committed flushes, so more stores at
// once share more of them: prepare --from of 72 exports took 6-7 % less at
// 8 than at 4 (medians of 6 and 8 alternated runs, bench_oci.sh's bundle);
// 16 was no better than 8.
const pullConcurrency = 8

// maxManifest bounds the manifest and config blobs read into memory.
const maxManifest = 4 << 20

// Pull fills the cache from the artifact at ref: every layer is fetched,
// checked against its digest, and its download stored (and validated) as
// any download is. Exports the cache holds already are not fetched.
func Pull(ctx context.Context, repo *remote.Repository, ref Ref, o PullOptions) (*PullResult, error) {
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	mdesc, err := repo.Resolve(ctx, ref.Reference.Reference)
	if err != nil {
		return nil, explain(ref, "resolve "+ref.Reference.Reference, err)
	}
	if mdesc.MediaType != ocispec.MediaTypeImageManifest {
		return nil, fmt.Errorf("%s: %s is a %s, not an OCI image manifest: not a gizmo bundle", ref, mdesc.Digest, mdesc.MediaType)
	}
	if mdesc.Size > maxManifest {
		return nil, fmt.Errorf("%s: manifest of %d bytes: too large for a gizmo bundle", ref, mdesc.Size)
	}
	res := &PullResult{Ref: ref.String(), Digest: mdesc.Digest.String()}
	mdata, err := fetchAll(ctx, repo, ref, mdesc)
	if err != nil {
		return nil, err
	}
	var man ocispec.Manifest
	if err := json.Unmarshal(mdata, &man); err != nil {
		return nil, fmt.Errorf("%s: manifest %s: %v", ref, mdesc.Digest, err)
	}
	b, err := readBundle(ctx, repo, ref, &man)
	if err != nil {
		return nil, err
	}
	res.Bundle = b
	layers := map[string]ocispec.Descriptor{}
	for _, l := range man.Layers {
		layers[l.Digest.String()] = l
	}
	var metas []cache.AssetMeta
	created, _ := time.Parse(time.RFC3339, b.Created)
	formatsOf := map[string][]string{}
	for _, e := range b.Entries {
		formatsOf[e.ID] = append(formatsOf[e.ID], e.Format)
	}
	seen := map[string]bool{}
	for _, e := range b.Entries {
		if !seen[e.ID] {
			seen[e.ID] = true
			metas = append(metas, cache.AssetMeta{ID: e.ID, Name: e.Name, Status: "ready", Tags: e.Tags, Formats: formatsOf[e.ID], CreatedAt: created})
		}
	}
	// Layers are fetched a few at a time, as registry clients do (oras
	// pulls three at once, gizmo more for its stores' sake: see
	// pullConcurrency); the first error stops the rest.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pullConcurrency)
	var mu sync.Mutex
	for _, e := range b.Entries {
		ldesc, ok := layers[e.Layer]
		if !ok {
			return nil, fmt.Errorf("%s: bundle entry %s/%s names layer %s, which the manifest does not list", ref, e.ID, e.Format, e.Layer)
		}
		g.Go(func() error {
			fetched := false
			ce, err := o.Cache.StoreChecked(gctx, e.ID, e.Format, func(ctx context.Context, w cache.Writer) (string, error) {
				fetched = true
				n, err := storeFromLayer(ctx, repo, ref, ldesc, e, w)
				mu.Lock()
				res.Bytes += n
				mu.Unlock()
				return "", err
			}, o.Check)
			if err != nil {
				return fmt.Errorf("%s: asset %s (%s) %s: %w", ref, e.ID, e.Name, e.Format, err)
			}
			if ce.Hash != e.SHA256 {
				return fmt.Errorf("%s: asset %s (%s) %s: %w (SHA-256 %.12s, the bundle has %.12s): remove it with 'gizmo cache rm %s' and pull again", ref, e.ID, e.Name, e.Format, ErrCacheDiffers, ce.Hash, e.SHA256, e.ID)
			}
			if o.Unpack {
				if _, err := o.Cache.Unpack(gctx, ce); err != nil {
					return fmt.Errorf("%s: asset %s (%s) %s: %w", ref, e.ID, e.Name, e.Format, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if fetched {
				res.Stored++
				logf("stored %s %s %s", e.ID, e.Name, e.Format)
			} else {
				res.Present++
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Recorded after the files, so that an interrupted pull lists nothing
	// it did not store.
	if err := o.Cache.RecordAssets(metas, false); err != nil {
		return nil, err
	}
	return res, nil
}

// readBundle fetches the bundle: the config blob, or in the mountable
// variant the layer that holds it as a file.
func readBundle(ctx context.Context, repo *remote.Repository, ref Ref, man *ocispec.Manifest) (*Bundle, error) {
	switch man.Config.MediaType {
	case ConfigMediaType:
		if man.Config.Size > maxManifest {
			return nil, fmt.Errorf("%s: config of %d bytes: too large", ref, man.Config.Size)
		}
		data, err := fetchAll(ctx, repo, ref, man.Config)
		if err != nil {
			return nil, err
		}
		return parseBundle(data)
	case imageConfigType:
		for _, l := range man.Layers {
			if l.Annotations[annotationBundle] != "true" {
				continue
			}
			if l.Size > maxManifest {
				return nil, fmt.Errorf("%s: bundle layer of %d bytes: too large", ref, l.Size)
			}
			data, err := fetchAll(ctx, repo, ref, l)
			if err != nil {
				return nil, err
			}
			file, err := singleFile(data, bundleFileName)
			if err != nil {
				return nil, fmt.Errorf("%s: bundle layer %s: %v", ref, l.Digest, err)
			}
			return parseBundle(file)
		}
		return nil, fmt.Errorf("%s: an image without a %s layer: not a gizmo bundle", ref, bundleFileName)
	}
	return nil, fmt.Errorf("%s: config media type %q: not a gizmo bundle (pushed by 'gizmo push'?)", ref, man.Config.MediaType)
}

// fetchAll reads a small blob whole, checking its size and digest.
func fetchAll(ctx context.Context, repo *remote.Repository, ref Ref, desc ocispec.Descriptor) ([]byte, error) {
	data, err := content.FetchAll(ctx, repo, desc)
	if err != nil {
		if errors.Is(err, content.ErrMismatchedDigest) || errors.Is(err, content.ErrTrailingData) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: blob %s: %w: the registry's copy is corrupt or was tampered with; nothing was kept", ref, desc.Digest, ErrDigest)
		}
		return nil, explain(ref, "fetch "+desc.Digest.String(), err)
	}
	return data, nil
}

// singleFile returns the one file named name in a gzip'd tar.
func singleFile(gz []byte, name string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("no %s in it", name)
		}
		if h.Name == name && h.Typeflag == tar.TypeReg {
			return io.ReadAll(io.LimitReader(tr, maxManifest))
		}
	}
}

// storeFromLayer streams a layer from the registry, checking its digest as
// it goes, and copies the entry's download out of it into w, checking it
// against the bundle's SHA-256 and every listed file against its own. The
// layer is read to its end whatever happens, and its digest decides first:
// a layer that does not match is refused as tampered with (ErrDigest)
// whatever else went wrong in it. w is the cache's temp file, which the
// cache publishes only if this returns no error, so nothing of a refused
// layer is kept. It returns the layer bytes fetched.
func storeFromLayer(ctx context.Context, repo *remote.Repository, ref Ref, ldesc ocispec.Descriptor, e BundleEntry, w io.Writer) (int64, error) {
	rc, err := repo.Fetch(ctx, ldesc)
	if err != nil {
		return 0, explain(ref, "fetch layer "+ldesc.Digest.String(), err)
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, ldesc)
	cr := &countReader{r: vr}
	xerr := copyDownload(cr, ldesc, e, w)
	_, err = io.Copy(io.Discard, cr)
	if err == nil {
		err = vr.Verify()
	}
	if err != nil {
		if errors.Is(err, content.ErrMismatchedDigest) || errors.Is(err, content.ErrTrailingData) || errors.Is(err, io.ErrUnexpectedEOF) {
			return cr.n, fmt.Errorf("layer %s: %w: the registry's copy is corrupt or was tampered with; nothing was kept", ldesc.Digest, ErrDigest)
		}
		return cr.n, explain(ref, "fetch layer "+ldesc.Digest.String(), err)
	}
	return cr.n, xerr
}

// copyDownload reads a layer's gzip'd tar, copies the entry's download into
// w and checks it and every file the entry lists against their SHA-256.
func copyDownload(r io.Reader, ldesc ocispec.Descriptor, e BundleEntry, w io.Writer) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("layer %s: %v", ldesc.Digest, err)
	}
	want := map[string]BundleFile{}
	for _, bf := range e.Files {
		want[bf.Path] = bf
	}
	tr := tar.NewReader(zr)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("layer %s: %v", ldesc.Digest, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		bf, listed := want[h.Name]
		isDownload := h.Name == e.Download
		if !listed && !isDownload {
			continue
		}
		sum := sha256.New()
		dst := io.Writer(sum)
		if isDownload {
			dst = io.MultiWriter(w, sum)
			found = true
		}
		if _, err := io.Copy(dst, tr); err != nil {
			return fmt.Errorf("layer %s: %s: %w", ldesc.Digest, h.Name, err)
		}
		got := hex.EncodeToString(sum.Sum(nil))
		if listed && got != bf.SHA256 {
			return fmt.Errorf("layer %s: %s: %w (SHA-256 %.12s, the bundle has %.12s)", ldesc.Digest, h.Name, ErrDigest, got, bf.SHA256)
		}
		if isDownload && got != e.SHA256 {
			return fmt.Errorf("layer %s: download %s: %w (SHA-256 %.12s, the bundle has %.12s)", ldesc.Digest, h.Name, ErrDigest, got, e.SHA256)
		}
		delete(want, h.Name)
	}
	if !found {
		return fmt.Errorf("layer %s holds no %s", ldesc.Digest, e.Download)
	}
	if len(want) > 0 {
		return fmt.Errorf("layer %s lacks %d of the files its bundle lists", ldesc.Digest, len(want))
	}
	return nil
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
