// Package oci publishes a project's locked assets to an OCI registry as one
// artifact, and fills a cache from such an artifact, so that a fleet of
// machines prepares from a registry by digest instead of each asking Gizmo.
//
// # The artifact (gizmo bundle, version 1)
//
//	manifest  application/vnd.oci.image.manifest.v1+json
//	          artifactType  application/vnd.antimlabs.gizmo.bundle.v1
//	          annotations   org.opencontainers.image.created   newest created_at of the locked assets
//	                        org.opencontainers.image.source    --source, if given
//	                        org.opencontainers.image.revision  --revision, if given
//	                        vnd.antimlabs.gizmo.lock.manifest  the gizmo.toml digest the lock was written for
//	config    application/vnd.antimlabs.gizmo.bundle.config.v1+json (Bundle, JSON):
//	          every (asset, format): id, name, tags, format, the download's
//	          SHA-256 and size (as gizmo.lock records it), the model file,
//	          every file's SHA-256, the validation verdict, the layer's digest
//	layers    one per (asset, format), application/vnd.oci.image.layer.v1.tar+gzip:
//	          a deterministic tar (names sorted, mtime = created, uid/gid 0,
//	          modes 0644/0755, regular files and folders only) of
//	              <title>/...                  the unpacked export, readable
//	              <title>/.gizmo/<download>    the download as Gizmo served it,
//	                                           when it is an archive (a single
//	                                           model file is its own download)
//	          annotated org.opencontainers.image.title = <title>
//	          (<name>.<id>.<format>), and with oras's unpack annotations, so
//	          that 'oras pull' writes one readable folder per layer.
//
// The same lock and cache give the same bytes, so the same manifest digest:
// a second push finds every blob present (existence checks only) and
// uploads nothing. --mountable writes an image-shaped variant instead: an
// OCI image config (rootfs.diff_ids) and one more layer holding the bundle
// as /gizmo-bundle.json, which a Kubernetes image volume can mount.
//
// Pull streams each layer from the registry once, checking its digest as it
// reads, copies the download inside it into the cache's temp file and
// checks it (and every file the bundle lists) against the SHA-256 the
// bundle records, then stores it through the cache's usual protocol
// (hostile-archive checks, validation). The layer is read to its end before
// the cache may publish anything, and a digest mismatch decides over any
// other error: a tampered blob is refused by name and nothing of it is
// kept. For prepare --from, Pull also unpacks each export's tree as it
// goes (PullOptions.Unpack). The registry protocol is oras-go's; this
// package writes no registry HTTP of its own.
package oci
