package oci

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/cache"
)

// The media types of a gizmo bundle, version 1. A new incompatible layout
// gets a new version; pull refuses versions it does not know.
const (
	ArtifactType      = "application/vnd.antimlabs.gizmo.bundle.v1"
	ConfigMediaType   = "application/vnd.antimlabs.gizmo.bundle.config.v1+json"
	LayerMediaType    = "application/vnd.oci.image.layer.v1.tar+gzip"
	imageConfigType   = "application/vnd.oci.image.config.v1+json"
	bundleFileName    = "gizmo-bundle.json"
	bundleVersion     = 1
	annotationLockFor = "vnd.antimlabs.gizmo.lock.manifest"
	annotationBundle  = "vnd.antimlabs.gizmo.bundle"
	// oras's annotations that make 'oras pull' unpack a layer into a folder.
	orasUnpack = "io.deis.oras.content.unpack"
	orasDigest = "io.deis.oras.content.digest"
)

// Bundle is the config blob: what the artifact holds, entry by entry.
type Bundle struct {
	Version int `json:"version"`
	// Created is the newest creation time of the bundled assets (taken from
	// the cache's record of them, never the clock), RFC 3339.
	Created string `json:"created"`
	// Manifest is the digest of the gizmo.toml the lock was written for.
	Manifest string `json:"manifest,omitempty"`
	// Gizmo is the version of the gizmo that pushed, which validated.
	Gizmo   string        `json:"gizmo,omitempty"`
	Entries []BundleEntry `json:"entries"`
}

// BundleEntry is one (asset, format) of a bundle.
type BundleEntry struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Tags   []string `json:"tags,omitempty"`
	Format string   `json:"format"`
	// SHA256 and Size are the download's, as gizmo.lock records its hash.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Title is the layer's folder; Download is the download's path inside
	// the layer (Title/.gizmo/NAME for an archive, the model otherwise);
	// Model is the model file's path inside the layer.
	Title    string `json:"title"`
	Download string `json:"download"`
	Model    string `json:"model"`
	// Files are the unpacked export's files, slash-separated under Title.
	Files []BundleFile `json:"files"`
	// Layer is the digest of the layer that holds the entry.
	Layer      string            `json:"layer"`
	Validation *cache.Validation `json:"validation,omitempty"`
}

// BundleFile is one file of an entry's layer.
type BundleFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Key identifies an entry.
func (e BundleEntry) Key() string { return e.ID + "\x00" + e.Format }

func (b *Bundle) sort() {
	sort.Slice(b.Entries, func(i, j int) bool { return b.Entries[i].Key() < b.Entries[j].Key() })
}

// marshal renders the bundle; the same bundle gives the same bytes.
func (b *Bundle) marshal() ([]byte, error) {
	b.sort()
	return json.Marshal(b)
}

// parseBundle reads and checks a config blob.
func parseBundle(data []byte) (*Bundle, error) {
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("the bundle's config is not gizmo's JSON: %v", err)
	}
	if b.Version != bundleVersion {
		return nil, fmt.Errorf("bundle version %d: this gizmo reads version %d (pushed by another gizmo?)", b.Version, bundleVersion)
	}
	if _, err := time.Parse(time.RFC3339, b.Created); err != nil {
		return nil, fmt.Errorf("bundle: created %q: %v", b.Created, err)
	}
	seen := map[string]bool{}
	for _, e := range b.Entries {
		if seen[e.Key()] {
			return nil, fmt.Errorf("bundle: %s/%s listed twice", e.ID, e.Format)
		}
		seen[e.Key()] = true
		if !hexSHA256.MatchString(e.SHA256) {
			return nil, fmt.Errorf("bundle: %s/%s: sha256 %q is not a SHA-256", e.ID, e.Format, e.SHA256)
		}
		for _, p := range append([]string{e.Download, e.Model}, filePaths(e.Files)...) {
			if !inside(e.Title, p) {
				return nil, fmt.Errorf("bundle: %s/%s: path %q is not inside its folder %q", e.ID, e.Format, p, e.Title)
			}
		}
	}
	return &b, nil
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func filePaths(fs []BundleFile) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Path
	}
	return out
}

// inside reports whether p is a clean relative path below title.
func inside(title, p string) bool {
	return title != "" && !strings.Contains(title, "/") && path.Clean(p) == p && strings.HasPrefix(p, title+"/") && !strings.Contains(p, "/../")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// title is an entry's folder name: <name>.<id>.<format>, readable and safe.
func title(name, id, format string) string {
	n := strings.Trim(unsafeName.ReplaceAllString(name, "-"), "-.")
	if len(n) > 48 {
		n = n[:48]
	}
	if n == "" {
		n = "asset"
	}
	return n + "." + unsafeName.ReplaceAllString(id, "-") + "." + unsafeName.ReplaceAllString(format, "-")
}
