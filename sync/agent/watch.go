package agent

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/fsnotify/fsnotify"

	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/formats/project"
)

// stateDir is the folder of a target that placement owns (formats/layout):
// version folders live in it.
const stateDir = ".gizmo"

// watcher watches, with one fsnotify watcher, the directories of every
// project that matter, and the registry's directory. It watches
// directories only: editors save by renaming a new file over the old one,
// which a watch on the file itself would lose.
//
// Per project it watches the root (for gizmo.toml, and the folders that
// lead to the targets), each target folder (the <slug> links) and every
// directory of each placed version folder (the placed files). An event
// there asks the project for a check (debounced, see proj.worker).
type watcher struct {
	a      *Agent
	fs     *fsnotify.Watcher
	add    func(string) error // fs.Add; tests inject the watch limit
	remove func(string) error

	mu       sync.Mutex
	dirs     map[string]map[*proj]interest // watched dir → who cares, about what
	byProj   map[*proj]map[string]bool     // the dirs each project watches
	regDir   string
	regName  string
	limitMsg bool // the watch limit message was logged
}

// interest is which entries of a watched directory matter to a project:
// nil means all of them.
type interest map[string]bool

func newWatcher(a *Agent) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, watchLimitError(err)
	}
	w := &watcher{a: a, fs: fw, add: fw.Add, remove: fw.Remove, dirs: map[string]map[*proj]interest{}, byProj: map[*proj]map[string]bool{}}
	return w, nil
}

// watchRegistry watches the registry file's directory, so that add and
// remove reach a running agent.
func (w *watcher) watchRegistry(path string) {
	if path == "" {
		return
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		w.a.log.Warn("cannot watch the project list; send SIGHUP after editing it", "err", err.Error())
		return
	}
	if err := w.add(dir); err != nil {
		w.a.log.Warn("cannot watch the project list; send SIGHUP after editing it", "err", watchLimitError(err).Error())
		return
	}
	w.mu.Lock()
	w.regDir, w.regName = dir, filepath.Base(path)
	w.mu.Unlock()
}

// wanted is the directories to watch for p, each with its interest.
func (w *watcher) wanted(p *proj) map[string]interest {
	want := map[string]interest{}
	rootInterest := interest{project.ManifestFile: true}
	want[p.dir] = rootInterest
	m := p.manifest()
	if m == nil {
		return want
	}
	for _, t := range m.Targets {
		rel := filepath.FromSlash(t.Dir)
		// The folders leading to the target: only the next one matters.
		parts := strings.Split(rel, string(filepath.Separator))
		dir := p.dir
		for _, part := range parts {
			if part == "" || part == "." {
				continue
			}
			in, seen := want[dir]
			switch {
			case seen && in == nil:
				// Another target's folder: everything in it counts.
			case !seen:
				want[dir] = interest{part: true}
			default:
				in[part] = true
			}
			dir = filepath.Join(dir, part)
		}
		want[dir] = nil // the target: its <slug> links, its .gizmo
		st := layout.ReadState(dir)
		for _, pl := range st.Assets {
			vdir := filepath.Join(dir, stateDir, pl.Version)
			filepath.WalkDir(vdir, func(path string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					want[path] = nil
				}
				return nil
			})
		}
	}
	return want
}

// watchProject brings p's watches in line with its folders as they are
// now: new version folders are added, superseded ones dropped. A project
// whose folders cannot all be watched is rescanned every FallbackRescan.
func (w *watcher) watchProject(p *proj) {
	want := w.wanted(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	have := w.byProj[p]
	if have == nil {
		have = map[string]bool{}
		w.byProj[p] = have
	}
	ok := true
	for dir, in := range want {
		users := w.dirs[dir]
		if users == nil {
			if err := w.add(dir); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // not there yet: the check will make it
				}
				ok = false
				w.limitError(p, err)
				continue
			}
			users = map[*proj]interest{}
			w.dirs[dir] = users
		}
		users[p] = in
		have[dir] = true
	}
	for dir := range have {
		if _, keep := want[dir]; !keep {
			w.drop(p, dir)
		}
	}
	p.st.Lock()
	p.watched = ok
	p.st.Unlock()
}

// limitError logs, once, that the OS refused a watch; the project is then
// rescanned instead.
func (w *watcher) limitError(p *proj, err error) {
	if w.limitMsg {
		return
	}
	w.limitMsg = true
	w.a.log.Error("cannot watch every folder; the agent checks the project every "+w.a.cfg.Fallback.String()+" instead",
		"project", p.dir, "err", watchLimitError(err).Error())
}

// watchLimitError says what to do when the OS watch limit is hit.
func watchLimitError(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return errors.New(err.Error() + ": the inotify watch limit is reached; raise it with 'sudo sysctl fs.inotify.max_user_watches=524288' (and in /etc/sysctl.d/ to keep it)")
	case errors.Is(err, syscall.EMFILE):
		return errors.New(err.Error() + ": the inotify instance or open file limit is reached; raise it with 'sudo sysctl fs.inotify.max_user_instances=1024' (on macOS: 'sudo sysctl kern.maxfilesperproc=...')")
	}
	return err
}

// drop stops p watching dir; the watch goes when nobody needs it.
func (w *watcher) drop(p *proj, dir string) {
	delete(w.byProj[p], dir)
	users := w.dirs[dir]
	delete(users, p)
	if len(users) == 0 {
		delete(w.dirs, dir)
		w.remove(dir) // fails harmlessly for a folder already gone
	}
}

// forget drops every watch of a project no longer registered.
func (w *watcher) forget(p *proj) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for dir := range w.byProj[p] {
		w.drop(p, dir)
	}
	delete(w.byProj, p)
}

func (w *watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.dirs)
}

// handle routes one event: a change of the registry reloads the project
// list; a change in a project's watched folders asks it for a check.
func (w *watcher) handle(ev fsnotify.Event) {
	dir, name := filepath.Dir(ev.Name), filepath.Base(ev.Name)
	w.mu.Lock()
	reg := dir == w.regDir && name == w.regName
	var kick []*proj
	for p, in := range w.dirs[dir] {
		if in == nil || in[name] {
			kick = append(kick, p)
		}
	}
	for p := range w.dirs[ev.Name] { // a watched folder itself removed or renamed
		kick = append(kick, p)
	}
	w.mu.Unlock()
	if reg {
		w.a.reload("the project list changed")
	}
	for _, p := range kick {
		p.wantCheck()
	}
}

// overflow: events were lost; check everything.
func (w *watcher) overflow() {
	w.a.log.Warn("file events were lost (queue overflow); checking every project")
	for _, p := range w.a.projectList() {
		p.wantCheck()
	}
}

func (w *watcher) close() { w.fs.Close() }

// manifest is the project's last good manifest, or nil.
func (p *proj) manifest() *project.Manifest {
	p.st.Lock()
	m := p.good
	p.st.Unlock()
	if m != nil {
		return m
	}
	m, _ = project.LoadManifest(p.dir)
	return m
}
