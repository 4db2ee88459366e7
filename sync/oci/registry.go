package oci

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Access says how to reach a registry.
type Access struct {
	// PlainHTTP speaks HTTP instead of HTTPS. Without it, plain HTTP is used
	// only for a registry on a loopback address.
	PlainHTTP bool
	// Username and Password, when Username is set, are used instead of the
	// Docker configuration's credentials.
	Username, Password string
	// DockerConfig is the Docker config file to read credentials (and
	// credential helpers) from; "" means Docker's default
	// ($DOCKER_CONFIG/config.json, else ~/.docker/config.json).
	DockerConfig string
	// Timeout bounds each request's wait for response headers and the idle
	// time within a body (0: 60 s).
	Timeout time.Duration
}

// Repository opens the repository ref names. Requests are retried by
// oras-go's policy (bounded, with backoff and jitter).
func (a Access) Repository(ref Ref) (*remote.Repository, error) {
	repo, err := remote.NewRepository(ref.Reference.Registry + "/" + ref.Reference.Repository)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ref, err)
	}
	repo.PlainHTTP = a.PlainHTTP || ref.Loopback()
	cred, err := a.credential(ref)
	if err != nil {
		return nil, err
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
	}
	repo.Client = &auth.Client{
		Client:     &http.Client{Transport: retry.NewTransport(base)},
		Cache:      auth.NewCache(),
		Credential: cred,
		Header:     http.Header{"User-Agent": {"gizmo"}},
	}
	return repo, nil
}

func (a Access) credential(ref Ref) (auth.CredentialFunc, error) {
	if a.Username != "" {
		return auth.StaticCredential(ref.Reference.Registry, auth.Credential{Username: a.Username, Password: a.Password}), nil
	}
	var (
		store credentials.Store
		err   error
	)
	if a.DockerConfig != "" {
		store, err = credentials.NewStore(a.DockerConfig, credentials.StoreOptions{})
	} else {
		store, err = credentials.NewStoreFromDocker(credentials.StoreOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("registry credentials: reading the Docker config: %v (fix the file, or pass --username and --password-stdin)", err)
	}
	return credentials.Credential(store), nil
}

// Errors callers branch on (exit codes).
var (
	// ErrNotFound: the registry has no such tag, manifest or blob.
	ErrNotFound = errors.New("not found in the registry")
	// ErrRefused: the registry refused the credentials (401, 403).
	ErrRefused = errors.New("refused by the registry")
)

// explain turns a registry error into one that names the registry, the
// repository and what was refused. Tokens never appear: oras-go's errors
// carry the method, the URL (no credentials in it) and the registry's
// error codes.
func explain(ref Ref, what string, err error) error {
	if err == nil {
		return nil
	}
	where := ref.Reference.Registry + "/" + ref.Reference.Repository
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("%s: %s: %w (401 unauthorized): log in with 'docker login %s' or 'oras login', or pass --username and --password-stdin", where, what, ErrRefused, ref.Reference.Registry)
		case http.StatusForbidden:
			return fmt.Errorf("%s: %s: %w (403 forbidden): the credentials for %s may not do this", where, what, ErrRefused, ref.Reference.Registry)
		case http.StatusNotFound:
			return fmt.Errorf("%s: %s: %w (404)", where, what, ErrNotFound)
		}
		return fmt.Errorf("%s: %s: the registry answered %d %s", where, what, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return fmt.Errorf("%s: %s: %w (the registry asks for credentials, and none are configured for %s): log in with 'docker login %s' or 'oras login', or pass --username and --password-stdin", where, what, ErrRefused, ref.Reference.Registry, ref.Reference.Registry)
	}
	if errors.Is(err, errdef.ErrNotFound) {
		return fmt.Errorf("%s: %s: %w", where, what, ErrNotFound)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("%s: %s: cannot reach the registry: %v", where, what, op.Err)
	}
	return fmt.Errorf("%s: %s: %w", where, what, err)
}

// Resolve returns the manifest digest that ref names now.
func Resolve(ctx context.Context, repo *remote.Repository, ref Ref) (string, error) {
	desc, err := repo.Resolve(ctx, ref.Reference.Reference)
	if err != nil {
		return "", explain(ref, "resolve "+ref.Reference.Reference, err)
	}
	return desc.Digest.String(), nil
}
