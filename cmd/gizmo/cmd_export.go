package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/plural"
	"github.com/antimlabs/gizmo/internal/termtext"
	gsync "github.com/antimlabs/gizmo/sync"
	"github.com/antimlabs/gizmo/sync/api"
)

func init() {
	register(&cli.Command{
		Name:      "export",
		Usage:     "download one asset in one format",
		ArgsUsage: "ID|NAME",
		Description: `Asks the API for a download URL for the asset in --format, then downloads it
(with a progress bar on a terminal), the way 'gizmo sync' fetches each file:
an unexpired download URL from an earlier export or sync is reused (until 2
minutes before it expires), a refused URL is replaced by a fresh one (within
8 tries; fresh ones refused to the end point at the computer's clock), a body cut short
resumes where it stopped (or starts over), an ETag that is a checksum must
match the body, and a URDF or MJCF model is validated, the verdict recorded
in the cache (a model with errors is kept, and said so). The asset is
given by its id or its name, found as 'gizmo place' finds it: in the cache,
else on Gizmo (an id the API knows, else a name in the account's listing);
a name several assets carry is refused (exit 3, as place does: use an id).

The download is stored in the cache (see 'gizmo cache'), unpacked when it is
a zip, and the absolute path of the model file in the cache is printed: a
simulator can load it from there. An asset already cached is not downloaded
again (no request is sent: no API key is needed for it).

With -o PATH the download (the zip, or the single model file) is also copied
out to PATH, and PATH is printed instead; when PATH is a directory the copy is
named after the server's filename hint, made safe (never used as a path). A
new file or a regular one appears complete or not at all (a temporary file,
then a rename); a symlink is kept and the file it points to replaced so; a
character device (/dev/null, /dev/stdout) or a FIFO is written through, never
replaced; a block device, a socket or a dangling symlink is refused.

--json prints {"id", "format", "path", "model", "size", "etag", "kind"}; --quiet prints
only the path. Exit status: 2 for an unknown format, 3 when there is no such
asset, 6 when the API key is refused, 1 when the asset failed on Gizmo, is not
ready (--wait waits for it, polling from 1s up to every 30s), or has a status
gizmo does not know. gazebo_sdf (sdf), a format gizmo neither checks nor
places, is stored as it comes when asked for by name.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "(required) `FORMAT`: usd (isaac_sim_usd), urdf (isaac_sim_urdf) or mjcf (mujoco_mjcf)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "also copy the download to `PATH` (a file, or an existing directory)"},
			&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "wait for a pending or processing asset to be ready (at most --timeout, or " + defaultMaxWait.String() + ")"},
			&cli.BoolFlag{Name: flagJSON, Usage: "print the result as JSON"},
			&cli.BoolFlag{Name: flagQuiet, Aliases: []string{"q"}, Usage: "print only the path"},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
				return exitcode.With(exitcode.Usage, errors.New("export takes one asset id or name (see 'gizmo export --help')"))
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
			store, err := openCache(c)
			if err != nil {
				return err
			}
			defer store.Close()
			id, err := exportCachedID(store, args[0])
			if err != nil {
				return err
			}
			cached := id != ""
			if !cached {
				id = args[0]
			}
			client, err := newClient(c)
			if err != nil {
				// An export already in the cache sends no request, so it
				// needs no key (offline use, a key not set in this shell).
				if !store.Have(id, string(f)) {
					return err
				}
				client = nil
			}
			mode := outputModeOf(c)
			o := exportOptions{id: id, format: f, output: c.String("output"), mode: mode, wait: c.Bool("wait")}
			if c.Duration(flagTimeout) <= 0 {
				o.maxWait = defaultMaxWait
			}
			deps := exportDeps{client: client, stdout: c.App.Writer, stderr: c.App.ErrWriter, fetch: exportViaCache(store)}
			err = runExport(ctx, o, deps)
			if cached || client == nil || !errors.Is(err, api.ErrNotFound) {
				return err
			}
			// Nothing to export under that id: it may be a name.
			byID := err
			if o.id, err = exportResolveName(ctx, store, client, args[0]); err != nil {
				return err
			}
			if o.id == "" || o.id == args[0] {
				return byID // no such name either, or an id lacking the format
			}
			return runExport(ctx, o, deps)
		},
	})
}

type exportOptions struct {
	id     string
	format formats.Format
	output string // file or directory; "" for the current directory
	mode   outputMode
	// wait waits for a pending or processing asset, at most maxWait (0:
	// until the context ends).
	wait    bool
	maxWait time.Duration
}

// exportResult is what an export produced; it is also the --json output.
type exportResult struct {
	ID     string `json:"id"`
	Format string `json:"format"`
	Path   string `json:"path"`
	Model  string `json:"model,omitempty"` // the model file in the cache
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
	Kind   string `json:"kind"`
	// invalid counts the model's validation errors when the verdict
	// recorded in the cache says it is not valid.
	invalid int
}

// fetchFunc performs the download step of gizmo export: it gets the asset's
// export in format f to where output says and reports the result.
// exportViaCache stores it in the cache and copies it out to output.
type fetchFunc func(ctx context.Context, client *api.Client, id string, f formats.Format, output string, progress func(done, total int64)) (*exportResult, error)

type exportDeps struct {
	client         *api.Client
	stdout, stderr io.Writer
	fetch          fetchFunc
}

func runExport(ctx context.Context, o exportOptions, d exportDeps) error {
	bar := ui.NewProgressBar(d.stderr, o.mode.tty, fmt.Sprintf("%s %s", o.id, o.format.Short()))
	res, err := d.fetch(ctx, d.client, o.id, o.format, o.output, bar.Update)
	bar.End()
	if errors.Is(err, api.ErrNotReady) && d.client != nil {
		a, gerr := d.client.Get(ctx, o.id)
		if gerr == nil && o.wait && (a.Status == api.StatusPending || a.Status == api.StatusProcessing) {
			if a, gerr = waitReady(ctx, d, o); gerr == nil && a.Status == api.StatusReady {
				bar = ui.NewProgressBar(d.stderr, o.mode.tty, fmt.Sprintf("%s %s", o.id, o.format.Short()))
				res, err = d.fetch(ctx, d.client, o.id, o.format, o.output, bar.Update)
				bar.End()
			}
		}
		if gerr == nil && a.Status != api.StatusReady {
			return notExportable(*a)
		}
		if gerr != nil && !errors.Is(gerr, api.ErrGenerationFailed) {
			return exitForAPI(gerr)
		}
		if errors.Is(gerr, api.ErrGenerationFailed) {
			return notExportable(*a)
		}
	}
	if err != nil {
		return exitForAPI(err)
	}
	switch {
	case o.mode.json:
		out, err := exportJSON(res)
		if err != nil {
			return err
		}
		return ui.PrintJSON(d.stdout, out)
	case o.mode.quiet:
		_, err := fmt.Fprintln(d.stdout, res.Path)
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "%s\n", res.Path)
	if err == nil {
		note := ""
		if o.format == formats.GazeboSDF {
			note = " (SDF: checked as XML by gizmo validate; not placed: gizmo has no Gazebo layout yet)"
		} else if !o.format.Known() {
			note = " (not checked: gizmo neither validates nor places " + string(o.format) + ")"
		}
		if res.invalid > 0 {
			note += fmt.Sprintf(" (%s: see gizmo validate %s)", plural.Count(res.invalid, "validation error", "validation errors"), res.Model)
		}
		fmt.Fprintf(d.stderr, "%s %s: %s, %s%s\n", o.id, o.format, ui.OrDash(res.Kind), ui.Bytes(res.Size), note)
	}
	return err
}

// waitReady waits for a pending or processing asset to settle, at most
// o.maxWait (0: until ctx ends, which --timeout bounds).
func waitReady(ctx context.Context, d exportDeps, o exportOptions) (*api.Asset, error) {
	if o.maxWait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.maxWait)
		defer cancel()
	}
	fmt.Fprintf(d.stderr, "gizmo: waiting for asset %s to be ready\n", o.id)
	a, err := d.client.WaitReady(ctx, o.id, nil)
	if a != nil && errors.Is(err, context.DeadlineExceeded) {
		if o.maxWait == 0 {
			return a, fmt.Errorf("asset %s is still %s on Gizmo: %w", o.id, a.Status, context.DeadlineExceeded)
		}
		return a, fmt.Errorf("asset %s is still %s on Gizmo after waiting %s: try again later, or give a longer --timeout", o.id, a.Status, o.maxWait)
	}
	return a, err
}

// notExportable says why an asset that is not ready cannot be exported:
// it failed (with the server's reason), it is not ready yet, or its status
// is one gizmo does not know.
func notExportable(a api.Asset) error {
	// The server's words on one line each: a newline in a name must not
	// forge a line of the message.
	a.Name, a.Error = termtext.Clean(a.Name), termtext.Clean(a.Error)
	switch a.Status {
	case api.StatusFailed:
		reason := a.Error
		if reason == "" {
			reason = "Gizmo gave no reason"
		}
		return fmt.Errorf("asset %s (%s) failed on Gizmo: %s; it has nothing to export (generate it again)", a.ID, a.Name, reason)
	case api.StatusPending, api.StatusProcessing:
		return fmt.Errorf("asset %s (%s) is %s on Gizmo, not ready: export it with --wait to wait for it, or once 'gizmo status %s' says ready", a.ID, a.Name, a.Status, a.ID)
	}
	return fmt.Errorf("asset %s (%s) is %q on Gizmo, a status this gizmo does not know: it is not exportable", a.ID, a.Name, a.Status)
}

// exportViaCache is export's fetch step: get the export into the cache
// through the sync engine's one-file fetch (gsync.FetchFile: a recorded
// download URL while it is usable, the ETag check, a body cut short
// resumed or restarted, the model validated and the verdict recorded),
// unless the cache has it already (no request then, and no key needed),
// then copy the download out to output when one is given.
func exportViaCache(store *cache.Cache) fetchFunc {
	return func(ctx context.Context, client *api.Client, id string, f formats.Format, output string, progress func(done, total int64)) (*exportResult, error) {
		// Check -o before downloading anything.
		var dir, name string
		if output != "" {
			var err error
			if dir, name, err = outputTarget(output); err != nil {
				return nil, err
			}
		}
		e, err := store.Stored(id, string(f))
		if err != nil {
			if client == nil {
				// Removed from the cache since the command looked.
				return nil, fmt.Errorf("export %s/%s: no longer in the cache, and no API key to download it again: %s", id, f, keyHelp)
			}
			e, err = gsync.FetchFile(ctx, client, store, gsync.Item{ID: id, Format: f}, gsync.Options{
				Validator: syncValidator,
				OnEvent: func(ev gsync.Event) {
					if ev.Type == gsync.EventProgress && progress != nil {
						progress(ev.Bytes, ev.Size)
					}
				},
			})
			if err != nil {
				return nil, err
			}
		}
		res := &exportResult{ID: id, Format: string(f), Path: store.ModelPath(e), Model: store.ModelPath(e), Size: e.Size, ETag: e.ETag, Kind: string(e.Kind)}
		if v := e.Validation; v != nil && !v.Valid {
			res.invalid = max(v.Errors, 1)
		}
		if output == "" {
			// The path printed is to be opened: unpack the tree.
			if _, err := store.Unpack(ctx, e); err != nil {
				return nil, err
			}
			return res, nil
		}
		if name == "" {
			fallback := api.SafeFilename(fmt.Sprintf("%s-%s%s", id, f.Short(), extension(e.Kind)), "export"+extension(e.Kind))
			name = api.SafeFilename(e.Filename, fallback)
		}
		dest := filepath.Join(dir, name)
		if err := copyOut(ctx, store.DownloadPath(e), dest); err != nil {
			return nil, fmt.Errorf("export %s/%s: copy to %s: %w", id, f, dest, err)
		}
		res.Path = dest
		return res, nil
	}
}

// outputTarget splits -o into the directory to write in and the file name
// ("" when output is a directory: the name comes from the download).
func outputTarget(output string) (dir, name string, err error) {
	fi, err := os.Stat(output)
	switch {
	case err == nil && fi.IsDir():
		return output, "", nil
	case err == nil || errors.Is(err, fs.ErrNotExist):
		dir, name = filepath.Dir(output), filepath.Base(output)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "", "", exitcode.With(exitcode.Usage, fmt.Errorf("-o %s: directory %s does not exist; create it first", output, dir))
		}
		if _, err := outputKind(output); err != nil {
			return "", "", exitcode.With(exitcode.Usage, fmt.Errorf("-o %s: %w", output, err))
		}
		return dir, name, nil
	}
	return "", "", fmt.Errorf("-o %s: %w", output, err)
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
