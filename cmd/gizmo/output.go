package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/antimlabs/gizmo/internal/termtext"
	"github.com/antimlabs/gizmo/sync/api"
)

// Shared output helpers: the --json and --quiet flags and flags read across
// the command lineage, JSON, aligned tables, one asset's table or JSON, and
// the terminal-only spinner and progress bar.

// jsonFlag is a command's --json flag; usage says what it prints.
func jsonFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: flagJSON, Usage: usage}
}

// quietFlag is a command's --quiet (-q) flag; usage says what it prints.
func quietFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: flagQuiet, Aliases: []string{"q"}, Usage: usage}
}

// lineageBool is true when the boolean flag name is set true on the command
// or on any parent (gizmo --json ls and gizmo ls --json both count, as does
// the flag's environment variable on the global flag).
func lineageBool(c *cli.Context, name string) bool {
	for _, x := range c.Lineage() {
		if x.Bool(name) {
			return true
		}
	}
	return false
}

// lineageDuration is the first non-zero value of the duration flag name on
// the command or a parent.
func lineageDuration(c *cli.Context, name string) time.Duration {
	for _, x := range c.Lineage() {
		if d := x.Duration(name); d != 0 {
			return d
		}
	}
	return 0
}

// outputMode is how a command prints: JSON, quiet, or human (with the
// terminal extras when stderr is a terminal).
type outputMode struct {
	json, quiet, verbose bool
	tty                  bool // stderr is a terminal: spinners and progress bars
}

func outputModeOf(c *cli.Context) outputMode {
	m := outputMode{
		json:    lineageBool(c, flagJSON),
		quiet:   lineageBool(c, flagQuiet),
		verbose: lineageBool(c, flagVerbose),
	}
	m.tty = !m.json && !m.quiet && isTerminal(c.App.ErrWriter)
	return m
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printJSON writes v as indented JSON and a newline, without HTML escaping.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints aligned columns.
type table struct {
	tw *tabwriter.Writer
}

// newTable starts a table; headers may be empty for a headerless table.
func newTable(w io.Writer, headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(headers) > 0 {
		t.row(headers...)
	}
	return t
}

// row adds one row; tabs and newlines in cells become spaces, and other
// control characters (terminal escapes in a name, say) are shown escaped.
func (t *table) row(cells ...string) {
	clean := make([]string, len(cells))
	for i, c := range cells {
		clean[i] = termtext.Clean(strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, c))
	}
	fmt.Fprintln(t.tw, strings.Join(clean, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// assetJSON is an asset in gizmo's --json output. Its shape is documented
// and stable: every field is always present (tags and formats as arrays,
// error as "" unless the generation failed).
type assetJSON struct {
	ID        string   `json:"id"`
	Status    string   `json:"status"`
	Name      string   `json:"name"`
	Prompt    string   `json:"prompt"`
	Tags      []string `json:"tags"`
	CreatedAt string   `json:"created_at"`
	Formats   []string `json:"formats"`
	Error     string   `json:"error"`
}

func toAssetJSON(a api.Asset) assetJSON {
	j := assetJSON{
		ID: a.ID, Status: string(a.Status), Name: a.Name, Prompt: a.Prompt,
		Tags: append([]string{}, a.Tags...), Formats: []string{}, Error: a.Error,
	}
	if !a.CreatedAt.IsZero() {
		j.CreatedAt = a.CreatedAt.UTC().Format(time.RFC3339)
	}
	for _, f := range a.Formats {
		j.Formats = append(j.Formats, string(f))
	}
	return j
}

// printAsset prints one asset: a two-column table, the JSON object, or (quiet)
// the status alone.
func printAsset(w io.Writer, a api.Asset, mode outputMode) error {
	switch {
	case mode.json:
		return printJSON(w, toAssetJSON(a))
	case mode.quiet:
		_, err := fmt.Fprintln(w, termtext.Clean(string(a.Status)))
		return err
	}
	j := toAssetJSON(a)
	t := newTable(w)
	t.row("id", j.ID)
	t.row("name", j.Name)
	t.row("status", j.Status)
	t.row("prompt", j.Prompt)
	t.row("tags", orDash(strings.Join(j.Tags, ", ")))
	t.row("created", orDash(j.CreatedAt))
	t.row("formats", orDash(strings.Join(j.Formats, ", ")))
	if j.Error != "" {
		t.row("error", j.Error)
	}
	return t.flush()
}

// printAssetOrID prints one asset as printAsset does, except that quiet
// (without --json) prints the asset's id, not its status.
func printAssetOrID(w io.Writer, a api.Asset, mode outputMode) error {
	if mode.quiet && !mode.json {
		_, err := fmt.Fprintln(w, termtext.Clean(a.ID))
		return err
	}
	return printAsset(w, a, mode)
}

// orDash is s, or "-" for an empty cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// humanBytes prints a size in B, KiB, MiB or GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 2; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMG"[exp])
}

// truncate cuts s to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// spinner shows a turning wheel and a status line on a terminal. A nil
// *spinner (off a terminal) does nothing.
type spinner struct {
	w    io.Writer
	mu   sync.Mutex
	text string
	stop chan struct{}
	done chan struct{}
}

// startSpinner starts a spinner on w when on is true; otherwise it returns nil.
func startSpinner(w io.Writer, on bool, text string) *spinner {
	if !on {
		return nil
	}
	s := &spinner{w: w, text: text, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *spinner) loop() {
	defer close(s.done)
	frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		s.mu.Lock()
		fmt.Fprintf(s.w, "\r\033[K%c %s", frames[i%len(frames)], s.text)
		s.mu.Unlock()
		select {
		case <-s.stop:
			fmt.Fprint(s.w, "\r\033[K")
			return
		case <-t.C:
		}
	}
}

// set changes the status line.
func (s *spinner) set(text string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.text = text
	s.mu.Unlock()
}

// end stops the spinner and clears its line.
func (s *spinner) end() {
	if s == nil {
		return
	}
	close(s.stop)
	<-s.done
}

// progressBar draws download progress on a terminal, at most ten times a
// second. A nil *progressBar does nothing.
type progressBar struct {
	w     io.Writer
	label string
	last  time.Time
}

func newProgressBar(w io.Writer, on bool, label string) *progressBar {
	if !on {
		return nil
	}
	return &progressBar{w: w, label: label}
}

// update is an api.Download progress callback.
func (p *progressBar) update(done, total int64) {
	if p == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = now
	if total <= 0 {
		fmt.Fprintf(p.w, "\r\033[K%s  %s", p.label, humanBytes(done))
		return
	}
	const width = 30
	filled := int(float64(width) * float64(done) / float64(total))
	filled = min(max(filled, 0), width)
	fmt.Fprintf(p.w, "\r\033[K%s  [%s%s] %3d%%  %s / %s", p.label,
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		done*100/total, humanBytes(done), humanBytes(total))
}

// end clears the bar's line.
func (p *progressBar) end() {
	if p == nil {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
}

// positionalArgs returns the command's arguments, reading any flags of the
// command that follow them: urfave/cli stops at the first argument, so in
// "gizmo export ID --format urdf" the flag would otherwise be taken for an
// argument. Flags found there are set on the command's context (global
// flags on the app's). Arguments
// after "--" are kept as they are. (Flags marked Required are checked by
// urfave/cli before this runs: check such flags in the action instead.)
func positionalArgs(c *cli.Context) ([]string, error) {
	args := c.Args().Slice()
	var pos []string
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			args = args[1:]
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := findFlag(c.Command.Flags, name)
		if f == nil {
			// A global flag (gizmo status ID --verbose): Set finds the
			// flag set it lives in up the lineage.
			f = findFlag(c.App.Flags, name)
		}
		if f == nil {
			return nil, fmt.Errorf("flag provided but not defined: %s", a)
		}
		args = args[1:]
		if _, isBool := f.(*cli.BoolFlag); isBool {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if len(args) == 0 {
				return nil, fmt.Errorf("flag needs an argument: %s", a)
			}
			value, args = args[0], args[1:]
		}
		// urfave/cli reads a flag under its first name (aliases are copied
		// over only while it parses), so set that one.
		if err := c.Set(f.Names()[0], value); err != nil {
			return nil, fmt.Errorf("invalid value %q for flag %s: %v", value, a, err)
		}
	}
	return pos, nil
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}
