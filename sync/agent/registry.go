package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/antimlabs/gizmo/formats/project"
	"github.com/antimlabs/gizmo/internal/atomicfile"
	"github.com/antimlabs/gizmo/internal/lockedfile"
)

// RegistryFile is the name of the list of registered projects in gizmo's
// configuration directory.
const RegistryFile = "agent-projects"

// ErrNotRegistered is returned by Registry.Remove for a folder that is not
// in the list.
var ErrNotRegistered = errors.New("not a registered project")

// DefaultRegistry is $XDG_CONFIG_HOME/gizmo/agent-projects (on macOS
// ~/Library/Application Support/gizmo/agent-projects).
func DefaultRegistry() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory for the project list: set XDG_CONFIG_HOME or pass --registry FILE (%v)", err)
	}
	return filepath.Join(dir, "gizmo", RegistryFile), nil
}

// Registry is the file listing the projects the agent keeps ready: one
// absolute folder per line, '#' starting a comment. Add and Remove rewrite
// it atomically under a lock file beside it, so that two commands never
// lose each other's change; a running agent watches it.
type Registry struct {
	Path string
}

// List returns the registered folders, in the file's order. A missing file
// is an empty list.
func (r Registry) List() ([]string, error) {
	data, err := os.ReadFile(r.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the project list %s: %w", r.Path, err)
	}
	return parseRegistry(data), nil
}

func parseRegistry(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := filepath.Clean(line)
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

const registryHeader = "# Projects the gizmo agent keeps ready: one folder holding gizmo.toml per line.\n# Edit with 'gizmo agent add DIR' and 'gizmo agent remove DIR'.\n"

// Add registers dir (made absolute). The folder must hold a gizmo.toml
// (project.ErrNoManifest otherwise). It reports false when dir was
// registered already.
func (r Registry) Add(ctx context.Context, dir string) (string, bool, error) {
	abs, err := ProjectDir(dir)
	if err != nil {
		return "", false, err
	}
	if _, err := os.Stat(filepath.Join(abs, project.ManifestFile)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return abs, false, fmt.Errorf("%s: %w: write one first ('gizmo init --project %s')", abs, project.ErrNoManifest, dir)
		}
		return abs, false, fmt.Errorf("%s: %w", abs, err)
	}
	added := false
	err = r.edit(ctx, func(list []string) []string {
		if slices.Contains(list, abs) {
			return nil
		}
		added = true
		return append(list, abs)
	})
	return abs, added, err
}

// Remove unregisters dir. It returns ErrNotRegistered when the folder is
// not in the list. The folder itself is left as it is.
func (r Registry) Remove(ctx context.Context, dir string) (string, error) {
	abs, err := ProjectDir(dir)
	if err != nil {
		return "", err
	}
	found := false
	err = r.edit(ctx, func(list []string) []string {
		i := slices.Index(list, abs)
		if i < 0 {
			return nil
		}
		found = true
		return slices.Delete(list, i, i+1)
	})
	if err == nil && !found {
		return abs, fmt.Errorf("%s: %w (see 'gizmo agent list')", abs, ErrNotRegistered)
	}
	return abs, err
}

// edit rewrites the list under the registry's lock; change returns nil to
// leave the file alone.
func (r Registry) edit(ctx context.Context, change func([]string) []string) error {
	if err := os.MkdirAll(filepath.Dir(r.Path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(r.Path), err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	l, err := lockedfile.Acquire(ctx, r.Path+".lock", true)
	if err != nil {
		return err
	}
	defer l.Unlock()
	list, err := r.List()
	if err != nil {
		return err
	}
	list = change(list)
	if list == nil {
		return nil
	}
	var b strings.Builder
	b.WriteString(registryHeader)
	for _, p := range list {
		b.WriteString(p)
		b.WriteByte('\n')
	}
	if err := atomicfile.WriteFile(r.Path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write the project list %s: %w", r.Path, err)
	}
	return nil
}

// ProjectDir is dir made absolute and clean, with symlinks resolved when it
// exists, so that one folder is registered once.
func ProjectDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("project %s: %w", dir, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return abs, nil
}
