package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/testreq"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// readmeCheckedBlock returns the code block that follows the README line
// "<!-- checked by NAME -->".
func readmeCheckedBlock(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	marker := "<!-- checked by " + name + " -->\n"
	_, rest, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("README.md has no %q line", strings.TrimSpace(marker))
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatalf("README.md: no ```sh block after %q", strings.TrimSpace(marker))
	}
	return block
}

// readmeShell makes a place where README snippets run as a user's shell
// runs them: a simulation project ~/sim/warehouse (the folder the agent
// example names) whose gizmo.toml places "arm 1", HOME and
// XDG_CONFIG_HOME in a temporary folder, and gizmo on PATH (this test
// binary, started under that name) against the emulator at url. It returns
// the project folder and the environment for bash.
func readmeShell(t *testing.T, url string) (proj string, env []string) {
	t.Helper()
	work := t.TempDir()
	home := filepath.Join(work, "home")
	proj = filepath.Join(home, "sim", "warehouse")
	bin := filepath.Join(work, "bin")
	for _, d := range []string{proj, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	manifest := "[assets]\nnames = [\"arm 1\"]\n\n[[target]]\nlayout = \"mujoco\"\ndir = \"sim/mujoco\"\n"
	if err := os.WriteFile(filepath.Join(proj, "gizmo.toml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	g := newGizmoEnv(t, url, filepath.Join(work, "cache"))
	if err := os.Symlink(g.exe, filepath.Join(bin, "gizmo")); err != nil {
		t.Fatal(err)
	}
	env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(work, "config")}
	for _, kv := range g.env {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return proj, env
}

// TestReadmeSimulatorMuJoCo runs the README's "Use it from your simulator"
// MuJoCo block as written, with bash, in a project placing the emulator's
// "arm 1": gizmo prepare --print-env names the scene, and mujoco-compile
// (MuJoCo 2.2.2) loads it from its placed path and writes the compiled
// model.
func TestReadmeSimulatorMuJoCo(t *testing.T) {
	if ok, why := reference.Have("mujoco-compile"); !ok {
		testreq.Missing(t, why)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		testreq.Missing(t, "bash not installed: the README's shell snippet cannot run")
	}
	block := readmeCheckedBlock(t, "TestReadmeSimulatorMuJoCo")
	_, url := emulatortest.StartTest(t, emulator.Config{Assets: 2, Seed: 7, API: emulator.APIAlpha})
	proj, env := readmeShell(t, url)
	cmd := exec.Command(bash, "-euo", "pipefail", "-c", block)
	cmd.Dir, cmd.Env = proj, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's MuJoCo block failed: %v\n%s\nblock:\n%s", err, out, block)
	}
	if !strings.Contains(string(out), "Done") {
		t.Errorf("mujoco-compile did not say Done:\n%s", out)
	}
	fi, err := os.Stat(filepath.Join(proj, "arm-1.mjb"))
	if err != nil || fi.Size() == 0 {
		t.Fatalf("no compiled model arm-1.mjb (%v); output:\n%s", err, out)
	}
}
