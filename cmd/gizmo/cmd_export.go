package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/api"
)

func init() {
	register(&cli.Command{
		Name:      "export",
		Usage:     "download one asset in one format",
		ArgsUsage: "ID",
		Description: `Asks the API for a download URL for the asset in --format, then downloads it
(with a progress bar on a terminal). A URL that has expired is requested again
once; a body cut short is downloaded again from the start.

The file goes to -o PATH; when PATH is a directory, or without -o, it is named
after the server's filename hint, made safe (never used as a path), in that
directory or the current one. The file appears complete or not at all (it is
written to a temporary file, then renamed).

--json prints {"id", "format", "path", "size", "etag", "kind"}; --quiet prints
only the path. Exit status: 2 for an unknown format, 3 when there is no such
asset, 6 when the API key is refused, 1 when the asset is not ready.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "(required) `FORMAT`: usd (isaac_sim_usd), urdf (isaac_sim_urdf) or mjcf (mujoco_mjcf)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `PATH` (a file, or an existing directory)"},
			&cli.BoolFlag{Name: flagJSON, Usage: "print the result as JSON"},
			&cli.BoolFlag{Name: flagQuiet, Aliases: []string{"q"}, Usage: "print only the path"},
		},
		Action: func(c *cli.Context) error {
			args, err := positionalArgs(c)
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			if len(args) != 1 {
				return exitcode.With(exitcode.Usage, errors.New("export takes one asset id (see 'gizmo export --help')"))
			}
			if c.String("format") == "" {
				return exitcode.With(exitcode.Usage, errors.New("export needs --format: usd, urdf or mjcf"))
			}
			f, err := formats.Parse(c.String("format"))
			if err != nil {
				return exitcode.With(exitcode.Usage, fmt.Errorf("--format: %w", err))
			}
			ctx, cancel := commandContext(c)
			defer cancel()
			client, err := newClient(c)
			if err != nil {
				return err
			}
			mode := outputModeOf(c)
			return runExport(ctx, exportOptions{id: args[0], format: f, output: c.String("output"), mode: mode},
				exportDeps{client: client, stdout: c.App.Writer, stderr: c.App.ErrWriter, fetch: downloadToPath})
		},
	})
}

type exportOptions struct {
	id     string
	format formats.Format
	output string // file or directory; "" for the current directory
	mode   outputMode
}

// exportResult is what an export produced; it is also the --json output.
type exportResult struct {
	ID     string `json:"id"`
	Format string `json:"format"`
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
	Kind   string `json:"kind"`
}

// fetchFunc performs the download step of gizmo export: it gets the asset's
// export in format f to where output says and reports the result. The
// default, downloadToPath, writes a file; the cache replaces it to store the
// export in the cache instead.
type fetchFunc func(ctx context.Context, client *api.Client, id string, f formats.Format, output string, progress func(done, total int64)) (*exportResult, error)

type exportDeps struct {
	client         *api.Client
	stdout, stderr io.Writer
	fetch          fetchFunc
}

func runExport(ctx context.Context, o exportOptions, d exportDeps) error {
	bar := newProgressBar(d.stderr, o.mode.tty, fmt.Sprintf("%s %s", o.id, o.format.Short()))
	res, err := d.fetch(ctx, d.client, o.id, o.format, o.output, bar.update)
	bar.end()
	if errors.Is(err, api.ErrNotReady) {
		if a, gerr := d.client.Get(ctx, o.id); gerr == nil {
			return fmt.Errorf("asset %s is %s, not ready: wait for it with 'gizmo status %s' (or generate with --wait), then export again", o.id, a.Status, o.id)
		}
	}
	if err != nil {
		return exitForAPI(err)
	}
	switch {
	case o.mode.json:
		return printJSON(d.stdout, res)
	case o.mode.quiet:
		_, err := fmt.Fprintln(d.stdout, res.Path)
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "%s\n", res.Path)
	if err == nil {
		fmt.Fprintf(d.stderr, "%s %s: %s, %s\n", o.id, o.format, orDash(res.Kind), humanBytes(res.Size))
	}
	return err
}

// downloadToPath is the default fetch step: export, download into a
// temporary file next to the destination, re-request the URL once if it has
// expired, then rename into place.
func downloadToPath(ctx context.Context, client *api.Client, id string, f formats.Format, output string, progress func(done, total int64)) (*exportResult, error) {
	dir, name := ".", ""
	if output != "" {
		fi, err := os.Stat(output)
		switch {
		case err == nil && fi.IsDir():
			dir = output
		case err == nil || errors.Is(err, fs.ErrNotExist):
			dir, name = filepath.Dir(output), filepath.Base(output)
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return nil, exitcode.With(exitcode.Usage, fmt.Errorf("-o %s: directory %s does not exist; create it first", output, dir))
			}
		default:
			return nil, fmt.Errorf("-o %s: %w", output, err)
		}
	}

	tmp, err := os.CreateTemp(dir, ".gizmo-export-*.part")
	if err != nil {
		return nil, fmt.Errorf("export %s/%s: %w", id, f, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	var dl *api.Download
	for attempt := 1; ; attempt++ {
		exp, err := client.Export(ctx, id, f)
		if err != nil {
			return nil, err
		}
		dl, err = client.DownloadFile(ctx, exp.URL, tmp, progress)
		if errors.Is(err, api.ErrURLExpired) && attempt == 1 {
			continue // a fresh URL, once
		}
		if errors.Is(err, api.ErrURLExpired) {
			return nil, fmt.Errorf("export %s/%s: %w; a fresh URL was refused too: check the computer's clock", id, f, err)
		}
		if err != nil {
			return nil, fmt.Errorf("export %s/%s: %w", id, f, err)
		}
		break
	}

	head := make([]byte, 512)
	n, _ := tmp.ReadAt(head, 0)
	kind := formats.Detect(head[:n])
	if name == "" {
		name = api.SafeFilename(dl.Filename, api.SafeFilename(fmt.Sprintf("%s-%s%s", id, f.Short(), extension(kind)), "export"+extension(kind)))
	}
	dest := filepath.Join(dir, name)
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("export %s/%s: %s is a directory; pass -o with a file name", id, f, dest)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("export %s/%s: %w", id, f, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("export %s/%s: %w", id, f, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		os.Remove(tmp.Name())
		done = true
		return nil, fmt.Errorf("export %s/%s: %w", id, f, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return &exportResult{ID: id, Format: string(f), Path: dest, Size: dl.Size, ETag: dl.ETag, Kind: string(kind)}, nil
}

// extension is the file extension for a detected kind.
func extension(k formats.Kind) string {
	switch k {
	case formats.KindZip:
		return ".zip"
	case formats.KindURDF:
		return ".urdf"
	case formats.KindMJCF:
		return ".xml"
	case formats.KindUSDA:
		return ".usda"
	case formats.KindUSDC:
		return ".usdc"
	}
	return ".bin"
}
