package reference

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// The tools Have knows, as Verdict.Tool names them.
const (
	ToolCheckURDF = "check_urdf"
	ToolMuJoCo222 = "mujoco-compile"
	ToolMuJoCo3   = "mujoco-js"
)

// Verdict is what a reference parser said about one file.
type Verdict struct {
	Tool     string
	Accepted bool
	// Messages are the tool's error and warning lines, in order, each
	// joined with its locator line ("Element 'geom', line 3") when the
	// tool prints one; for check_urdf the "at line N in file.cpp" source
	// locations are dropped.
	Messages []string
	// Output is everything the tool printed (stdout then stderr for
	// check_urdf and mujoco-compile, the JSON line for mujoco-js).
	Output string
	// Model holds the sizes of the compiled model (mujoco-js only, when
	// accepted).
	Model *ModelSizes
	// Version is the MuJoCo version that judged the file.
	Version string
	// Steps is how many steps MuJoCo3Simulate ran the model for.
	Steps int
}

// ModelSizes are the object counts of a compiled MuJoCo model.
type ModelSizes struct {
	NBody, NJnt, NGeom, NMesh int
}

// First returns the first message, or "" when there is none.
func (v Verdict) First() string {
	if len(v.Messages) == 0 {
		return ""
	}
	return v.Messages[0]
}

// ErrNotInstalled is wrapped by the error a function returns when its tool
// is missing.
var ErrNotInstalled = errors.New("reference parser not installed")

// waitDelay bounds how long a tool may keep its pipes open after its
// context ends.
const waitDelay = 5 * time.Second

// Have reports whether tool ("check_urdf", "mujoco-compile" or
// "mujoco-js") can run here, and when it cannot, why and how to install it.
func Have(tool string) (ok bool, why string) {
	switch tool {
	case ToolCheckURDF:
		if _, err := exec.LookPath("check_urdf"); err != nil {
			return false, "check_urdf not installed: apt-get install liburdfdom-tools"
		}
		return true, ""
	case ToolMuJoCo222:
		if _, err := exec.LookPath("mujoco-compile"); err != nil {
			return false, "mujoco-compile (MuJoCo 2.2.2) not installed: apt-get install libmujoco-samples"
		}
		return true, ""
	case ToolMuJoCo3:
		_, _, err := mujocoJS()
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	}
	return false, fmt.Sprintf("unknown reference parser %q: use %s, %s or %s", tool, ToolCheckURDF, ToolMuJoCo222, ToolMuJoCo3)
}

// notInstalled returns the error for a missing tool.
func notInstalled(tool string) error {
	_, why := Have(tool)
	return fmt.Errorf("%w: %s", ErrNotInstalled, why)
}

// CheckURDF runs check_urdf on the URDF at path. Accepted means urdfdom
// printed "Successfully Parsed XML" and logged no line containing "Error".
// The error is non-nil only when check_urdf could not be run.
func CheckURDF(ctx context.Context, path string) (Verdict, error) {
	exe, err := exec.LookPath("check_urdf")
	if err != nil {
		return Verdict{Tool: ToolCheckURDF}, notInstalled(ToolCheckURDF)
	}
	abs, err := existing(path)
	if err != nil {
		return Verdict{Tool: ToolCheckURDF}, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, exe, abs)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = waitDelay
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) || ctx.Err() != nil {
		return Verdict{Tool: ToolCheckURDF}, fmt.Errorf("check_urdf %s: %w", path, errors.Join(runErr, ctx.Err()))
	}
	out := stdout.String() + stderr.String()
	v := Verdict{Tool: ToolCheckURDF, Output: out, Messages: urdfdomMessages(out)}
	v.Accepted = strings.Contains(out, "Successfully Parsed XML") && !strings.Contains(out, "Error")
	return v, nil
}

// urdfdomMessages picks urdfdom's "Error:"/"Warning:" lines (and the final
// "ERROR: Model Parsing the xml failed"), squeezing the padding after the
// prefix; the "at line N in file.cpp" lines that follow each are dropped.
func urdfdomMessages(out string) []string {
	var msgs []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		for _, p := range []string{"Error:", "Warning:", "ERROR:", "WARNING:"} {
			if rest, ok := strings.CutPrefix(line, p); ok {
				msgs = append(msgs, p+" "+strings.TrimSpace(rest))
				break
			}
		}
	}
	return msgs
}

// MuJoCo222 compiles the model at path with mujoco-compile (MuJoCo 2.2.2),
// run in the model's directory so relative asset paths resolve as MuJoCo
// resolves them, writing the .mjb into a temporary directory. Accepted means
// it printed "Done" (its exit code is 0 even on failure). The error is
// non-nil only when mujoco-compile could not be run.
func MuJoCo222(ctx context.Context, path string) (Verdict, error) {
	exe, err := exec.LookPath("mujoco-compile")
	if err != nil {
		return Verdict{Tool: ToolMuJoCo222}, notInstalled(ToolMuJoCo222)
	}
	abs, err := existing(path)
	if err != nil {
		return Verdict{Tool: ToolMuJoCo222}, err
	}
	tmp, err := os.MkdirTemp("", "gizmo-mujoco-compile-")
	if err != nil {
		return Verdict{Tool: ToolMuJoCo222}, fmt.Errorf("mujoco-compile %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Dir(abs)
	// MuJoCo appends warnings to MUJOCO_LOG.TXT in the working directory;
	// remove the file afterwards if this run created it.
	logFile := filepath.Join(dir, "MUJOCO_LOG.TXT")
	_, statErr := os.Lstat(logFile)
	hadLog := statErr == nil

	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, exe, filepath.Base(abs), filepath.Join(tmp, "model.mjb"))
	cmd.Dir = dir
	cmd.Stdin = nil // it asks before overwriting; there is nothing to overwrite and no one to answer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = waitDelay
	runErr := cmd.Run()
	if !hadLog {
		os.Remove(logFile)
	}
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) || ctx.Err() != nil {
		return Verdict{Tool: ToolMuJoCo222}, fmt.Errorf("mujoco-compile %s: %w", path, errors.Join(runErr, ctx.Err()))
	}
	text := out.String()
	v := Verdict{Tool: ToolMuJoCo222, Output: text, Version: "2.2.2"}
	done := false
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
		case l == "Done":
			done = true
		default:
			lines = append(lines, l)
		}
	}
	v.Messages = compileMessages(lines)
	_, mjbErr := os.Stat(filepath.Join(tmp, "model.mjb"))
	v.Accepted = done && mjbErr == nil && runErr == nil
	return v, nil
}

// compileMessages makes mujoco-compile's output lines into messages: each
// WARNING line is one, and the rest, MuJoCo's one error (which may span
// lines: message, locator, a parse error's details), is joined into one.
func compileMessages(lines []string) []string {
	var msgs, errLines []string
	for _, l := range lines {
		if strings.HasPrefix(l, "WARNING") {
			msgs = append(msgs, l)
			continue
		}
		errLines = append(errLines, l)
	}
	if len(errLines) > 0 {
		msgs = append(msgs, strings.Join(errLines, " "))
	}
	return msgs
}

// existing returns path made absolute, or an error naming it when it is
// not a regular file.
func existing(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("model %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("model %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("model %s is not a regular file", path)
	}
	return abs, nil
}

// sourceDir is the directory of this package's source, where mujocojs/
// lives.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(file)
}
