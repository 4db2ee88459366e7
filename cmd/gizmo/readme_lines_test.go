package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// readmeSkip lists the README's gizmo lines that no test runs, each with
// why. Keep it small: a line belongs here only when it cannot run in a
// test. A line listed here that the README no longer has fails the test.
var readmeSkip = map[string]string{
	// Tests send nothing off loopback, and registry.example is a stand-in
	// for the reader's registry; push and pull run against a local registry
	// in oci_test.go.
	"gizmo push oci://registry.example/robots/kitchen:v3": "needs the reader's OCI registry",
	// The digest is elided: it is the one push printed.
	"gizmo prepare --from oci://registry.example/robots/kitchen@sha256:...": "needs the reader's registry and the digest push printed",
}

// readmeBlock is one fenced shell block of the README.
type readmeBlock struct {
	line    int    // the line of its first command
	checked string // the test that runs it whole ("<!-- checked by T -->"), or ""
	lines   []readmeLine
}

// readmeLine is one line of a block that runs gizmo.
type readmeLine struct {
	n    int    // its line number in README.md
	text string // as written
}

// gizmoCall finds gizmo run as a command: at the start of a line, or after
// a shell operator or "$(".
var gizmoCall = regexp.MustCompile(`(^|[;&|(]\s*|\$\(\s*)gizmo(\s|$)`)

// readmeShellBlocks returns the README's ```sh blocks and their lines that
// run gizmo.
func readmeShellBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	checked := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(l, "<!-- checked by "):
			checked = strings.TrimSuffix(strings.TrimPrefix(l, "<!-- checked by "), " -->")
		case cur == nil && (l == "```sh" || l == "```bash" || l == "```shell"):
			cur = &readmeBlock{line: n + 1, checked: checked}
		case cur == nil && strings.HasPrefix(l, "```"):
			checked = "" // another language's block
			for sc.Scan() {
				n++
				if sc.Text() == "```" {
					break
				}
			}
		case cur != nil && l == "```":
			blocks = append(blocks, *cur)
			cur, checked = nil, ""
		case cur != nil && gizmoCall.MatchString(strings.TrimSpace(l)):
			cur.lines = append(cur.lines, readmeLine{n, l})
		case cur == nil && strings.TrimSpace(l) != "":
			checked = ""
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// commandOf is a line without its trailing comment, trimmed: the key of
// readmeSkip.
func commandOf(line string) string {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// TestReadmeEveryGizmoLine runs every gizmo line of the README's shell
// blocks, as written, with bash, against the emulator the quick start
// starts (--assets 20 --seed 7, the current generation): a block marked
// "<!-- checked by TestX -->" is run whole by TestX (which must exist);
// every other line is run here on its own, in the order of the README, in
// a project folder ~/sim/warehouse whose gizmo.toml places "arm 1" (the
// folder the agent example names), with HOME and XDG_CONFIG_HOME in a
// temporary folder. Only the lines of readmeSkip are left out.
func TestReadmeEveryGizmoLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the README's examples end to end (-short)")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed: the README's examples cannot run")
	}
	blocks := readmeShellBlocks(t)
	if len(blocks) < 3 {
		t.Fatalf("found %d shell blocks in README.md: the parser is broken", len(blocks))
	}
	tests := testFunctions(t)
	skipped := map[string]bool{}
	var run []readmeLine
	total := 0
	for _, b := range blocks {
		total += len(b.lines)
		if b.checked != "" {
			if !tests[b.checked] {
				t.Errorf("README.md:%d: the block is marked as checked by %s, which no test file defines", b.line, b.checked)
			}
			continue
		}
		for _, l := range b.lines {
			if _, ok := readmeSkip[commandOf(l.text)]; ok {
				skipped[commandOf(l.text)] = true
				continue
			}
			run = append(run, l)
		}
	}
	for line, why := range readmeSkip {
		if !skipped[line] {
			t.Errorf("readmeSkip lists %q (%s), which no README shell block has: remove it", line, why)
		}
	}
	t.Logf("%d gizmo lines in %d shell blocks; %d run here, %d skipped, the rest by the tests that check their blocks", total, len(blocks), len(run), len(skipped))

	_, url := emulatortest.StartTest(t, emulator.Config{Assets: 20, Seed: 7, API: emulator.APICurrent})
	proj, env := readmeShell(t, url)
	for _, l := range run {
		cmd := exec.Command(bash, "-euo", "pipefail", "-c", l.text)
		cmd.Dir, cmd.Env = proj, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("README.md:%d: %s\nfailed: %v\n%s", l.n, l.text, err, out)
		}
	}
}

// testFunctions returns the names of the Test functions this package's
// test files define.
func testFunctions(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
	out := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			out[string(m[1])] = true
		}
	}
	return out
}
