package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// emulator is a running `gizmo emulator` process.
type emulator struct {
	cmd *exec.Cmd
	url string
}

func (s *stress) startEmulator(args ...string) *emulator {
	// The alpha generation of the API: its fault knobs (503s, bodies cut
	// short, slow bodies) apply to every route, and it offers every format.
	cmd := exec.Command(s.exe, append([]string{"emulator", "--api", "alpha", "--addr", "127.0.0.1:0"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		fatal(fmt.Errorf("the emulator printed no URL: %w", err))
	}
	go io.Copy(io.Discard, out)
	return &emulator{cmd: cmd, url: strings.TrimSpace(line)}
}

func (e *emulator) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	e.cmd.Wait()
}

// env is the environment of a gizmo process on cache dir and emulator e.
func (s *stress) env(e *emulator, dir string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIZMO_") {
			env = append(env, kv)
		}
	}
	env = append(env, "GIZMO_API_URL="+e.url, "GIZMO_API_KEY=dev", "GIZMO_CACHE_DIR="+dir,
		"HOME="+s.work, "XDG_CACHE_HOME="+filepath.Join(s.work, "xdg"))
	return append(env, extra...)
}

// result is how a gizmo process ended.
type result struct {
	code   int // exit status; -1 when killed
	killed bool
	out    string
	took   time.Duration
}

// run runs gizmo to its end (at most 5 minutes).
func (s *stress) run(env []string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, s.exe, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &out
	t0 := time.Now()
	err := cmd.Run()
	return result{code: exitCode(err), out: out.String(), took: time.Since(t0)}
}

// runKilled runs gizmo and sends it SIGKILL: when it prints the test
// hook's marker (hook set), else after delay. A process that ends first
// is not killed.
func (s *stress) runKilled(env []string, hook string, delay time.Duration, args ...string) result {
	if hook != "" {
		env = append(append([]string(nil), env...), "GIZMO_TEST_HOOK="+hook)
	}
	var out bytes.Buffer
	var mu sync.Mutex
	cmd := exec.Command(s.exe, args...)
	cmd.Env, cmd.Stdout = env, &lockedWriter{w: &out, mu: &mu}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		fatal(err)
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	marker := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if !seen && strings.HasPrefix(sc.Text(), "gizmo-test-hook: ") {
				seen = true
				close(marker)
			}
		}
	}()
	exited := make(chan struct{})
	var killed bool
	go func() {
		var timeout <-chan time.Time
		reached := marker
		if hook != "" {
			timeout = time.After(2 * time.Minute)
		} else {
			timeout = time.After(delay)
			reached = nil
		}
		select {
		case <-reached:
			killed = true
			cmd.Process.Kill()
		case <-timeout:
			killed = true
			cmd.Process.Kill()
		case <-exited:
		}
	}()
	<-scanned
	err = cmd.Wait()
	close(exited)
	mu.Lock()
	defer mu.Unlock()
	r := result{code: exitCode(err), out: out.String(), took: time.Since(t0)}
	r.killed = killed && r.code == -1
	return r
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -2
}

// problem is one of 'gizmo cache verify --json'.
type problem struct {
	Kind, Path, Detail string
	AssetID            string `json:"asset_id"`
}

// verify runs 'gizmo cache verify --json' and checks that it exits 0 with
// nothing but temp files (partial) and unindexed files (extra). It
// returns the count of extra files, or an error saying what is wrong.
func (s *stress) verify(env []string) (extra int, err error) {
	r := s.run(env, "cache", "verify", "--json")
	var v struct {
		Problems   []problem `json:"problems"`
		Unresolved int       `json:"unresolved"`
	}
	if jerr := json.Unmarshal([]byte(r.out), &v); jerr != nil || r.code != 0 {
		return 0, fmt.Errorf("cache verify exited %d: %s", r.code, clip(r.out))
	}
	for _, p := range v.Problems {
		switch p.Kind {
		case "extra":
			extra++
		case "partial":
		default:
			return extra, fmt.Errorf("cache verify reports %s %s %s: %s", p.Kind, p.AssetID, p.Path, p.Detail)
		}
	}
	return extra, nil
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}
