package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/check"
)

// TestValidateHostilePaths runs gizmo validate over paths that are no
// model files: each gets a message and its documented exit code, at once.
func TestValidateHostilePaths(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "robot.urdf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	docs := filepath.Join(dir, "docs")
	for _, d := range []string{empty, docs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(docs, "package.xml"), []byte("<package/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		code int
		out  []string
	}{
		{"fifo", fifo, exitcode.Usage, []string{"a named pipe (FIFO), not a file", "[path-not-regular]"}},
		{"device", "/dev/zero", exitcode.Usage, []string{"a character device, not a file"}},
		{"empty folder", empty, exitcode.NotFound, []string{"nothing was checked: the folder is empty;", "[no-model]"}},
		{"no model", docs, exitcode.NotFound, []string{
			"package.xml: note: skipped: an XML file whose root element is <package>",
			"nothing was checked: no URDF, MJCF or USD model among its 1 file",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runValidate(context.Background(), validateOptions{paths: []string{tt.path}}, &stdout, &stderr)
			if got := exitcode.Of(err); got != tt.code {
				t.Errorf("exit code %d (%v), want %d", got, err, tt.code)
			}
			for _, w := range tt.out {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout does not say %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}

// TestValidateInterrupted: a validation stuck in a read (here a stand-in
// that never returns) does not hold Ctrl-C: runValidate returns the
// context's error as soon as it ends.
func TestValidateInterrupted(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	validatePath = func(context.Context, string, validate.Options) (check.Result, error) {
		close(started)
		<-release
		return check.Result{}, nil
	}
	defer func() { validatePath = check.Validate }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out bytes.Buffer
		done <- runValidate(ctx, validateOptions{paths: []string{"stuck.urdf"}}, &out, &out)
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("runValidate = %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("runValidate did not return after its context was cancelled")
	}
}

// TestValidateFIFOProcess runs the gizmo binary on a FIFO that no process
// ever writes to: before, it blocked in open(2) for good and ignored
// Ctrl-C; now it says what the path is and exits 2.
func TestValidateFIFOProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "scene.xml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := &exec.Cmd{Path: exe, Args: []string{"gizmo", "validate", fifo}, Stdout: &stdout, Stderr: &stderr,
		Env: append(os.Environ(), "GORACE=atexit_sleep_ms=0")}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		// Still blocked: Ctrl-C must end it; then the test fails anyway.
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
			t.Fatal("gizmo validate FIFO blocked until interrupted")
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatal("gizmo validate FIFO blocked and ignored SIGINT")
		}
	}
	if code := cmd.ProcessState.ExitCode(); code != exitcode.Usage {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitcode.Usage, &stdout, &stderr)
	}
	if !strings.Contains(stdout.String(), "a named pipe (FIFO), not a file") {
		t.Errorf("stdout does not name the FIFO:\n%s", &stdout)
	}
}
