package reference

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// EnvMuJoCoJS names the environment variable that overrides the location of
// check.mjs (its directory must hold node_modules/mujoco-js, or Node must
// find mujoco-js from there).
const EnvMuJoCoJS = "GIZMO_MUJOCO_JS"

// mujocoJS locates node and check.mjs, and checks that mujoco-js is
// installed next to the script.
func mujocoJS() (node, script string, err error) {
	script = os.Getenv(EnvMuJoCoJS)
	if script == "" {
		script = filepath.Join(sourceDir(), "mujocojs", "check.mjs")
	}
	install := fmt.Sprintf("(cd %s && npm ci)", filepath.Dir(script))
	node, lerr := exec.LookPath("node")
	if lerr != nil {
		return "", "", fmt.Errorf("mujoco-js not installed: node (Node.js 18 or later) is not on PATH; install it, then %s", install)
	}
	if _, serr := os.Stat(script); serr != nil {
		return "", "", fmt.Errorf("mujoco-js not installed: %s not found; set %s to internal/reference/mujocojs/check.mjs", script, EnvMuJoCoJS)
	}
	if _, perr := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "mujoco-js", "package.json")); perr != nil {
		return "", "", fmt.Errorf("mujoco-js not installed: %s", install)
	}
	return node, script, nil
}

// jsResult is one line of check.mjs's output.
type jsResult struct {
	Path    string `json:"path"`
	OK      bool   `json:"ok"`
	Error   string `json:"error"`
	NBody   int    `json:"nbody"`
	NJnt    int    `json:"njnt"`
	NGeom   int    `json:"ngeom"`
	NMesh   int    `json:"nmesh"`
	Version string `json:"version"`
	// With --steps only.
	Steps    int      `json:"steps,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Finite   *bool    `json:"finite,omitempty"`
}

// MuJoCo3 loads the model at path in MuJoCo 3.x (the mujoco-js WebAssembly
// build) with its whole directory copied into the module's file system.
// Accepted means MjModel.loadFromXML returned a model; otherwise Messages
// holds the compiler's error (message and locator on one line). The error
// is non-nil only when Node or the script could not be run.
func MuJoCo3(ctx context.Context, path string) (Verdict, error) {
	vs, err := MuJoCo3Batch(ctx, []string{path})
	if err != nil {
		return Verdict{Tool: ToolMuJoCo3}, err
	}
	return vs[0], nil
}

// MuJoCo3Batch is MuJoCo3 for many models in one Node process (starting
// Node and the WebAssembly module costs about a second): verdicts come
// back in the order of paths. A model that crashes the process is judged
// not accepted with the crash output as its message, and the rest run in a
// new process.
func MuJoCo3Batch(ctx context.Context, paths []string) ([]Verdict, error) {
	return mujoco3(ctx, paths, 0)
}

// MuJoCo3Simulate is MuJoCo3Batch that also steps each model that loads
// for steps steps (of its own timestep) with zero controls, as MuJoCo
// Menagerie's CI does: a model is accepted only if it loads, MuJoCo raises
// no warning (mjWARN_BADQACC and the like, named in Messages as
// "simulation: ...") and its state stays finite.
func MuJoCo3Simulate(ctx context.Context, paths []string, steps int) ([]Verdict, error) {
	if steps < 1 {
		return nil, fmt.Errorf("mujoco-js: simulate %d steps: need at least 1", steps)
	}
	return mujoco3(ctx, paths, steps)
}

func mujoco3(ctx context.Context, paths []string, steps int) ([]Verdict, error) {
	node, script, err := mujocoJS()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotInstalled, err)
	}
	out := make([]Verdict, len(paths))
	var todo []int // indexes still to run
	var input []string
	for i, p := range paths {
		abs, err := existing(p)
		if err == nil && strings.ContainsAny(abs, "\t\n\r") {
			err = fmt.Errorf("model %s: path holds a tab or newline", p)
		}
		if err != nil {
			return nil, err
		}
		todo = append(todo, i)
		input = append(input, filepath.Dir(abs)+"\t"+filepath.Base(abs))
	}
	for len(todo) > 0 {
		results, stderr, runErr := runCheck(ctx, node, script, steps, input)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("mujoco-js: %w", ctx.Err())
		}
		for k, r := range results {
			out[todo[k]] = verdictOf(r)
		}
		n := len(results)
		if n == len(todo) {
			break
		}
		if n == 0 && runErr != nil && !isExit(runErr) {
			return nil, fmt.Errorf("mujoco-js: run %s: %w", script, runErr)
		}
		if exitCode(runErr) == 3 && n > 0 {
			// A model aborted the module after printing its verdict:
			// restart for the models after it.
			todo, input = todo[n:], input[n:]
			continue
		}
		// The process died on todo[n]: judge it, continue after it.
		msg := strings.TrimSpace(stderr)
		if msg == "" {
			msg = fmt.Sprintf("node exited without a verdict (%v)", runErr)
		}
		if n == 0 && !strings.Contains(msg, "\n") && strings.HasPrefix(msg, "check.mjs:") {
			return nil, fmt.Errorf("mujoco-js: %s", msg)
		}
		out[todo[n]] = Verdict{Tool: ToolMuJoCo3, Messages: []string{"crash: " + lastLines(msg, 5)}, Output: stderr}
		todo, input = todo[n+1:], input[n+1:]
	}
	return out, nil
}

func exitCode(err error) int {
	var e *exec.ExitError
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	return 0
}

func isExit(err error) bool {
	var e *exec.ExitError
	return errors.As(err, &e)
}

// runCheck runs check.mjs over input lines and returns the results it
// printed, its stderr and its exit error.
func runCheck(ctx context.Context, node, script string, steps int, input []string) ([]jsResult, string, error) {
	args := []string{script}
	if steps > 0 {
		args = append(args, "--steps", fmt.Sprint(steps))
	}
	cmd := exec.CommandContext(ctx, node, append(args, "-")...)
	cmd.Dir = filepath.Dir(script)
	cmd.Stdin = strings.NewReader(strings.Join(input, "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = waitDelay
	runErr := cmd.Run()
	var results []jsResult
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r jsResult
		if err := json.Unmarshal(line, &r); err != nil {
			continue
		}
		results = append(results, r)
	}
	if len(results) > len(input) {
		results = results[:len(input)]
	}
	return results, stderr.String(), runErr
}

func verdictOf(r jsResult) Verdict {
	raw, _ := json.Marshal(r)
	v := Verdict{Tool: ToolMuJoCo3, Accepted: r.OK, Output: string(raw), Version: r.Version}
	if r.OK {
		v.Model = &ModelSizes{NBody: r.NBody, NJnt: r.NJnt, NGeom: r.NGeom, NMesh: r.NMesh}
	}
	if r.Error != "" {
		var lines []string
		for _, l := range strings.Split(r.Error, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		// MuJoCo reports one error; the WASM build splits it over lines
		// (message, locator; a parse error's two halves).
		v.Messages = []string{strings.Join(lines, " ")}
	}
	if r.OK && r.Steps > 0 {
		v.Steps = r.Steps
		for _, w := range r.Warnings {
			v.Messages = append(v.Messages, "simulation: "+w)
		}
		if r.Finite != nil && !*r.Finite {
			v.Messages = append(v.Messages, fmt.Sprintf("simulation: state not finite after %d steps", r.Steps))
		}
		v.Accepted = len(v.Messages) == 0
	}
	return v
}

// lastLines keeps the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
