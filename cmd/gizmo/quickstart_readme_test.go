package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadmeQuickStart runs the README's command examples as written, with
// bash, against the emulator its first line starts (on a free loopback
// port instead of 8750, so that tests may run side by side): every id and
// name in them must exist with the documented --seed, and every command
// must succeed. Graphviz's dot is replaced by a stand-in when missing.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the README's examples end to end (-short)")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed: the README's examples cannot run")
	}
	block := readmeCheckedBlock(t, "TestReadmeQuickStart")
	lines := strings.Split(strings.TrimSpace(block), "\n")
	emuLine := strings.TrimSpace(strings.SplitN(lines[0], "#", 2)[0])
	if !strings.HasPrefix(emuLine, "gizmo emulator ") || !strings.HasSuffix(emuLine, "&") {
		t.Fatalf("the README's examples do not start with 'gizmo emulator ... &': %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "export GIZMO_API_URL=http://127.0.0.1:8750 ") {
		t.Fatalf("the README's examples' second line does not point GIZMO_API_URL at the emulator: %q", lines[1])
	}

	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	proj := filepath.Join(work, "project")
	for _, d := range []string{bin, proj} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	g := newGizmoEnv(t, "", filepath.Join(work, "cache"))
	if err := os.Symlink(g.exe, filepath.Join(bin, "gizmo")); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "XDG_CONFIG_HOME=" + filepath.Join(work, "config")}
	for _, kv := range g.env {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "GIZMO_API_") {
			env = append(env, kv)
		}
	}

	// The emulator, as the README starts it, on a free port.
	args := append(strings.Fields(strings.TrimSuffix(emuLine, "&"))[1:], "--addr", "127.0.0.1:0")
	emu := &exec.Cmd{Path: g.exe, Args: append([]string{"gizmo"}, args...), Env: env, Dir: work}
	out, err := emu.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Process.Kill(); emu.Wait() })
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			urlc <- strings.TrimSpace(sc.Text())
		}
		close(urlc)
	}()
	var url string
	select {
	case url = <-urlc:
	case <-time.After(30 * time.Second):
		t.Fatal("the emulator printed no URL within 30 s")
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("the emulator's first line is %q, not its URL", url)
	}

	script := "set -euo pipefail\n" +
		"command -v dot >/dev/null || dot() { cat >/dev/null; echo '<svg/>'; }\n" +
		strings.Replace(strings.Join(lines[1:], "\n"), "http://127.0.0.1:8750", url, 1) + "\n"
	cmd := exec.Command(bash, "-x", "-c", script)
	cmd.Dir, cmd.Env = proj, env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's examples failed: %v\n%s", err, b)
	}
}
