package oci

import (
	"fmt"
	"net"
	"strings"

	"oras.land/oras-go/v2/registry"
)

// Scheme prefixes every registry reference gizmo takes.
const Scheme = "oci://"

// Ref is a parsed oci:// reference: REGISTRY/REPO[:TAG][@DIGEST].
type Ref struct {
	registry.Reference
}

// IsRef reports whether s is meant as an oci:// reference.
func IsRef(s string) bool { return strings.HasPrefix(s, Scheme) }

// ParseRef parses oci://REGISTRY/REPO[:TAG|@sha256:...]. A reference with
// neither tag nor digest means the tag "latest".
func ParseRef(s string) (Ref, error) {
	if !IsRef(s) {
		return Ref{}, fmt.Errorf("registry reference %q: write it as oci://REGISTRY/REPOSITORY[:TAG], e.g. oci://localhost:5000/robots:v1", s)
	}
	r, err := registry.ParseReference(strings.TrimPrefix(s, Scheme))
	if err != nil {
		return Ref{}, fmt.Errorf("registry reference %q: %v", s, err)
	}
	if r.Reference == "" {
		r.Reference = "latest"
	}
	return Ref{r}, nil
}

// String is the reference with its scheme.
func (r Ref) String() string { return Scheme + r.Reference.String() }

// Pinned reports whether the reference names a digest rather than a tag.
func (r Ref) Pinned() bool {
	_, err := r.Digest()
	return err == nil
}

// Tag is the reference's tag, or "" when it names a digest.
func (r Ref) Tag() string {
	if r.Pinned() {
		return ""
	}
	return r.Reference.Reference
}

// Loopback reports whether the registry is on this machine (localhost or a
// loopback address), where plain HTTP is allowed without --plain-http.
func (r Ref) Loopback() bool {
	host := r.Registry
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
