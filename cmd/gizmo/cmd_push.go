package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/internal/archive"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/plural"
	"github.com/antimlabs/gizmo/sync/oci"
	"github.com/antimlabs/gizmo/sync/prepare"
)

// registryFlags are the flags of every command that talks to an OCI registry.
func registryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "plain-http", EnvVars: []string{"GIZMO_REGISTRY_PLAIN_HTTP"}, Usage: "speak plain HTTP to the registry (always so for a registry on localhost or a loopback address)"},
		&cli.StringFlag{Name: "username", EnvVars: []string{"GIZMO_REGISTRY_USERNAME"}, Usage: "registry user `NAME` (default: the Docker config's credentials and helpers)"},
		&cli.BoolFlag{Name: "password-stdin", Usage: "read the registry password or token from standard input (with --username)"},
		&cli.StringFlag{Name: "registry-config", EnvVars: []string{"DOCKER_CONFIG_FILE"}, Usage: "Docker config `FILE` to read credentials from (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)"},
	}
}

// registryAccess reads the registry flags. The password comes from standard
// input only, never a flag or the environment.
func registryAccess(c *cli.Context) (oci.Access, error) {
	a := oci.Access{PlainHTTP: c.Bool("plain-http"), Username: c.String("username"), DockerConfig: c.String("registry-config")}
	if c.Bool("password-stdin") {
		if a.Username == "" {
			return a, exitcode.With(exitcode.Usage, errors.New("--password-stdin needs --username"))
		}
		line, err := bufio.NewReader(io.LimitReader(c.App.Reader, 64<<10)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return a, fmt.Errorf("reading the registry password from standard input: %v", err)
		}
		a.Password = strings.TrimRight(line, "\r\n")
		if a.Password == "" {
			return a, exitcode.With(exitcode.Usage, errors.New("--password-stdin: standard input held no password"))
		}
	} else if a.Username != "" {
		return a, exitcode.With(exitcode.Usage, errors.New("--username needs --password-stdin (a password on the command line would show in ps)"))
	}
	return a, nil
}

// registryExit gives registry errors their exit codes.
func registryExit(err error) error {
	var coded *exitcode.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &coded):
		return err
	case errors.Is(err, oci.ErrRefused):
		return exitcode.With(exitcode.Auth, err)
	case errors.Is(err, oci.ErrNotFound):
		return exitcode.With(exitcode.NotFound, err)
	case errors.Is(err, oci.ErrDigest), errors.Is(err, cache.ErrHostileArchive):
		return exitcode.With(exitcode.Invalid, err)
	case errors.Is(err, oci.ErrCacheDiffers):
		return exitcode.With(exitcode.Failure, err)
	}
	return err
}

// openRegistry parses ref and opens its repository.
func openRegistry(c *cli.Context, s string) (oci.Ref, *remote.Repository, error) {
	ref, err := oci.ParseRef(s)
	if err != nil {
		return ref, nil, exitcode.With(exitcode.Usage, err)
	}
	a, err := registryAccess(c)
	if err != nil {
		return ref, nil, err
	}
	repo, err := a.Repository(ref)
	if err != nil {
		return ref, nil, exitcode.With(exitcode.Usage, err)
	}
	return ref, repo, nil
}

// pullCheck validates each download a pull stores, as a sync does, and
// USD models too (which a sync leaves to prepare): the layers' checks run
// side by side during the pull, and each verdict is recorded with its
// entry, so that prepare --from has none left to check and record one by
// one. A validation cut short by cancellation records no verdict.
func pullCheck(c *cache.Cache) cache.Check {
	return func(ctx context.Context, e cache.Entry, files *archive.Overlay) *cache.Validation {
		switch e.ModelKind {
		case formats.KindURDF, formats.KindMJCF, formats.KindSDF, formats.KindUSDA, formats.KindUSDC:
		default:
			return nil
		}
		v := syncValidator(ctx, c.ModelPath(e), files)
		if ctx.Err() != nil {
			return nil
		}
		return &cache.Validation{Valid: v.Valid, Errors: v.Errors, Warnings: v.Warnings, Summary: v.Summary, Checked: time.Now().UTC()}
	}
}

// pullInto fills the cache from ref, pinned to digest when it is set, and
// with unpack makes every export's tree as it goes (prepare places them).
func pullInto(ctx context.Context, c *cli.Context, ref oci.Ref, repo *remote.Repository, digest string, unpack bool) (*oci.PullResult, error) {
	cc, err := openCache(c)
	if err != nil {
		return nil, err
	}
	if digest != "" {
		ref.Reference.Reference = digest
	}
	o := oci.PullOptions{Cache: cc, Check: pullCheck(cc), Unpack: unpack}
	if !lineageBool(c, flagQuiet) && !lineageBool(c, flagJSON) {
		stderr := c.App.ErrWriter
		o.Log = func(format string, args ...any) { fmt.Fprintf(stderr, "gizmo: "+format+"\n", args...) }
	}
	return oci.Pull(ctx, repo, ref, o)
}

func init() {
	register(&cli.Command{
		Name:      "push",
		Usage:     "publish the assets a project's gizmo.lock names to an OCI registry",
		ArgsUsage: "oci://REGISTRY/REPOSITORY[:TAG]",
		Description: `Publishes every (asset, format) that the project's gizmo.lock names, from
the cache, as one OCI artifact (a gizmo bundle: see README, "Many machines"),
tags it, and prints its manifest digest. Pushing the same lock again gives the
same digest and uploads nothing. Other machines then run
'gizmo prepare --from oci://REGISTRY/REPOSITORY@DIGEST' with no Gizmo account.

Credentials: the Docker config and its credential helpers (as 'docker login'
and 'oras login' write them), or --username with --password-stdin. Plain HTTP
only for a registry on a loopback address, or with --plain-http.

Exit status: 0 pushed; 2 bad reference or flags, or the project has no
gizmo.lock (run 'gizmo prepare'); 3 an export the lock names is not in the
cache; 6 the registry refused the credentials; 1 anything else.`,
		Flags: append([]cli.Flag{
			projectFlag(),
			&cli.BoolFlag{Name: "mountable", Usage: "push an image-shaped variant that a Kubernetes image volume can mount"},
			&cli.StringFlag{Name: "source", Usage: "set org.opencontainers.image.source to `URL` (e.g. the project's repository)"},
			&cli.StringFlag{Name: "revision", Usage: "set org.opencontainers.image.revision to `REV` (e.g. the project's commit)"},
			&cli.BoolFlag{Name: flagJSON, Usage: "print the result as JSON"},
		}, registryFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return exitcode.With(exitcode.Usage, errors.New("push takes one reference: gizmo push oci://REGISTRY/REPOSITORY[:TAG]"))
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			ref, repo, err := openRegistry(c, c.Args().First())
			if err != nil {
				return err
			}
			dir := c.String(flagProject)
			lock, err := project.ReadLock(dir)
			if errors.Is(err, project.ErrNoLock) {
				return exitcode.With(exitcode.Usage, fmt.Errorf("%w: run 'gizmo prepare' in %s first, then push", err, dir))
			}
			if err != nil {
				return prepareError(err)
			}
			cc, err := openCache(c)
			if err != nil {
				return err
			}
			var exports []oci.Export
			for _, e := range lock.Entries {
				exports = append(exports, oci.Export{ID: e.ID, Name: e.Name, Format: e.Format, Hash: e.Hash})
			}
			o := oci.PushOptions{Exports: exports, Manifest: lock.Manifest, Cache: cc, Gizmo: version, Source: c.String("source"), Revision: c.String("revision"), Mountable: c.Bool("mountable")}
			res, err := oci.Push(ctx, repo, ref, o)
			if err != nil {
				if errors.Is(err, cache.ErrNotFound) {
					return exitcode.With(exitcode.NotFound, err)
				}
				return registryExit(err)
			}
			if lineageBool(c, flagJSON) {
				return ui.PrintJSON(c.App.Writer, res)
			}
			if !lineageBool(c, flagQuiet) {
				fmt.Fprintf(c.App.ErrWriter, "gizmo: pushed %s: %s uploaded (%s), %d already there\n", plural.Count(res.Entries, "export", "exports"), plural.Count(res.Uploaded, "blob", "blobs"), ui.Bytes(res.Bytes), res.Present)
			}
			fmt.Fprintln(c.App.Writer, res.Digest)
			return nil
		},
	})
	register(&cli.Command{
		Name:      "pull",
		Usage:     "fill the cache from a gizmo bundle in an OCI registry",
		ArgsUsage: "oci://REGISTRY/REPOSITORY[:TAG|@DIGEST]",
		Description: `Fetches a bundle that 'gizmo push' published and stores every export in
the cache: each blob is checked against its digest, each download against the
SHA-256 its bundle records, and each model validated as on any download.
Exports the cache holds already are not fetched. Sends no request to Gizmo.

Exit status: 0 pulled; 2 bad reference or flags; 3 no such tag or digest;
4 a blob does not match its digest (corrupt or tampered: nothing of it is
kept); 6 the registry refused the credentials; 1 anything else.`,
		Flags: append([]cli.Flag{&cli.BoolFlag{Name: flagJSON, Usage: "print the result as JSON"}}, registryFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return exitcode.With(exitcode.Usage, errors.New("pull takes one reference: gizmo pull oci://REGISTRY/REPOSITORY[:TAG|@DIGEST]"))
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			ref, repo, err := openRegistry(c, c.Args().First())
			if err != nil {
				return err
			}
			res, err := pullInto(ctx, c, ref, repo, "", false)
			if err != nil {
				return registryExit(err)
			}
			if lineageBool(c, flagJSON) {
				return ui.PrintJSON(c.App.Writer, res)
			}
			if !lineageBool(c, flagQuiet) {
				fmt.Fprintf(c.App.ErrWriter, "gizmo: %s stored, %d already in the cache (%s fetched)\n", plural.Count(res.Stored, "export", "exports"), res.Present, ui.Bytes(res.Bytes))
			}
			fmt.Fprintln(c.App.Writer, res.Digest)
			return nil
		},
	})
}

// prepareSource is the registry bundle prepare takes assets from: --from,
// else gizmo.toml's source; "" means the Gizmo API.
func prepareSource(c *cli.Context, dir string) (string, error) {
	if s := c.String("from"); s != "" {
		return s, nil
	}
	m, err := project.LoadManifest(dir)
	if err != nil {
		return "", nil // prepare reports it
	}
	return m.Source, nil
}

// prepareFromRegistry resolves src, checks it against gizmo.lock with
// --locked, and fills the cache from the bundle it names; prepare then runs
// offline. It returns the manifest digest placed from.
func prepareFromRegistry(ctx context.Context, c *cli.Context, src string, o *prepare.Options) (string, error) {
	ref, repo, err := openRegistry(c, src)
	if err != nil {
		return "", err
	}
	digest, err := oci.Resolve(ctx, repo, ref)
	if err != nil {
		return "", registryExit(err)
	}
	lock, lerr := project.ReadLock(o.Dir)
	if lerr != nil && !errors.Is(lerr, project.ErrNoLock) {
		return "", prepareError(lerr)
	}
	if o.Locked {
		switch {
		case lock == nil:
			return "", &prepare.LockedError{Diff: []string{"the project has no gizmo.lock"}}
		case lock.SourceDigest == "":
			return "", &prepare.LockedError{Diff: []string{fmt.Sprintf("gizmo.lock records no registry bundle, but the assets come from %s (%s): run 'gizmo prepare --from %s' once without --locked", src, digest, src)}}
		case lock.SourceDigest != digest:
			return "", &prepare.LockedError{Diff: []string{fmt.Sprintf("%s now points at %s, but gizmo.lock was written for %s (pin it as %s@%s, or run 'gizmo prepare' without --locked to move on)", src, digest, lock.SourceDigest, strings.SplitN(src, "@", 2)[0], lock.SourceDigest)}}
		}
	}
	if _, err := pullInto(ctx, c, ref, repo, digest, true); err != nil {
		return "", registryExit(err)
	}
	o.Offline = true
	if lock != nil && lock.SourceDigest != digest {
		o.Update = true // another bundle: resolve gizmo.toml against it
	}
	o.Remote = func() (prepare.Remote, error) {
		return nil, errors.New("prepare from a registry sends no request to the Gizmo API")
	}
	return digest, nil
}

// recordSource writes the bundle prepare placed from into gizmo.lock.
func recordSource(dir, src, digest string) error {
	lock, err := project.ReadLock(dir)
	if err != nil {
		return err
	}
	if lock.Source == src && lock.SourceDigest == digest {
		return nil
	}
	lock.Source, lock.SourceDigest = src, digest
	return lock.Write(dir)
}
