package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/testbuf"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// The --json contract (README "JSON output"): a command with one result
// prints one JSON object, a command that reports as it goes prints JSON
// Lines; the same thing has the same field name in every command, with the
// type the glossary gives it. TestJSONContract runs every command of the
// app with --json against the emulator and checks its output against
// jsonGlossary; a command added to the app without a step here fails it.

// jsonStep runs one command with --json.
type jsonStep struct {
	cmd    string   // the command's path in the app: "cache ls"
	args   []string // its arguments; {ID}, {SCENE}, {PROJECT}, {WORK} and {MODEL} are replaced
	stream bool     // JSON Lines, not one object
	exit   int      // the exit status expected
	dir    string   // run in this folder ({PROJECT}, {WORK}); default {WORK}
	agent  bool     // start gizmo agent run first and wait until it answers
}

// jsonExempt are the commands that print no result, and why.
var jsonExempt = map[string]string{
	"emulator":   "a server: it prints its URL and serves until interrupted",
	"completion": "prints a shell script for the shell to read",
	"help":       "prints help pages for people",
	"agent run":  "a service: it prints a log (JSON lines with --log-format json), not a result",
}

// jsonOCICommands are walked by TestJSONContractOCI, which needs a registry.
var jsonOCICommands = map[string]bool{"push": true, "pull": true}

func TestJSONContract(t *testing.T) {
	_, u := emulatortest.StartTest(t, emulator.Config{API: emulator.APICurrent, Assets: 4, Seed: 7})
	work := t.TempDir()
	g := newGizmoEnv(t, u, filepath.Join(work, "cache"))
	g.env = append(g.env, "XDG_CONFIG_HOME="+filepath.Join(work, "config"))
	project := filepath.Join(work, "proj")

	// The ids the steps use come from the emulator's own listing.
	var listing struct {
		Assets []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"assets"`
	}
	if err := json.Unmarshal([]byte(g.mustRun(work, "ls", "--json")), &listing); err != nil {
		t.Fatalf("ls --json: %v", err)
	}
	id := ""
	for _, a := range listing.Assets {
		if a.Status == "ready" {
			id = a.ID
			break
		}
	}
	if id == "" {
		t.Fatalf("the emulator lists no ready asset: %+v", listing)
	}
	broken := `<robot name="arm"><link name="base"/><joint name="elbow" type="revolute"><parent link="base"/><child link="upper"/></joint><link name="upper"/></robot>`
	if err := os.WriteFile(filepath.Join(work, "broken.urdf"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []jsonStep{
		{cmd: "ls"},
		{cmd: "whoami"},
		{cmd: "status", args: []string{"{ID}"}},
		{cmd: "sync", args: []string{"--dry-run"}, stream: true},
		{cmd: "sync", args: []string{"--format", "mjcf"}, stream: true},
		{cmd: "cache ls"},
		{cmd: "cache path", args: []string{"{ID}", "--format", "mjcf"}},
		{cmd: "cache info"},
		{cmd: "cache verify"},
		{cmd: "cache gc", args: []string{"--dry-run"}},
		{cmd: "export", args: []string{"{ID}", "--format", "mjcf", "-o", "out.zip"}},
		{cmd: "export", args: []string{"{ID}", "--format", "mjcf"}},
		{cmd: "tree", args: []string{"{MODEL}"}},
		{cmd: "validate", args: []string{"{MODEL}"}},
		{cmd: "validate", args: []string{"{WORK}/broken.urdf"}, exit: 4},
		{cmd: "init", args: []string{"--project", "proj", "--layout", "mujoco"}},
		{cmd: "place", args: []string{"{ID}", "--layout", "mujoco"}, dir: "{PROJECT}"},
		{cmd: "prepare", dir: "{PROJECT}"},
		{cmd: "agent add", args: []string{"{PROJECT}"}},
		{cmd: "agent list"},
		{cmd: "agent status", exit: 8},
		{cmd: "agent status", agent: true},
		{cmd: "agent install", args: []string{"--systemd", "-o", "{WORK}/gizmo-agent.service"}},
		{cmd: "agent remove", args: []string{"{PROJECT}"}},
		{cmd: "generate", args: []string{"--scene", "a small kitchen"}},
		{cmd: "generate", args: []string{"--scene", "--wait", "a workshop"}, stream: true},
		{cmd: "edit", args: []string{"{SCENE}", "add a conveyor belt"}},
		{cmd: "cache rm", args: []string{"{ID}"}},
	}
	covered := map[string]bool{}
	scene := ""
	for _, s := range steps {
		covered[s.cmd] = true
		dir := strings.NewReplacer("{PROJECT}", project, "{WORK}", work).Replace(s.dir)
		if dir == "" {
			dir = work
		}
		model := ""
		if strings.Contains(strings.Join(s.args, " "), "{MODEL}") {
			model = strings.TrimSpace(g.mustRun(work, "cache", "path", id, "--format", "mjcf"))
		}
		r := strings.NewReplacer("{ID}", id, "{PROJECT}", project, "{WORK}", work, "{MODEL}", model, "{SCENE}", scene)
		if s.agent {
			startJSONAgent(t, g, work)
		}
		args := append(strings.Fields(s.cmd), "--json")
		for _, a := range s.args {
			args = append(args, r.Replace(a))
		}
		code, stdout, stderr := g.run(dir, args...)
		name := strings.Join(args, " ")
		if code != s.exit {
			t.Errorf("gizmo %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, s.exit, stdout, stderr)
			continue
		}
		if s.exit != 0 {
			// The error envelope on stderr (README "Exit codes").
			var env struct {
				Error *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
					Exit    int    `json:"exit"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(stderr), &env); err != nil || env.Error == nil || env.Error.Code == "" || env.Error.Message == "" || env.Error.Exit != code {
				t.Errorf("gizmo %s: stderr is not the error envelope with exit %d: %v\n%s", name, code, err, stderr)
			}
			if stdout == "" {
				continue // the command's report, if it has one, is checked below
			}
		}
		values, err := decodeJSONOutput(stdout, s.stream)
		if err != nil {
			t.Errorf("gizmo %s: %v\nstdout:\n%s", name, err, stdout)
			continue
		}
		for _, v := range values {
			for _, p := range checkJSONFields(v, "") {
				t.Errorf("gizmo %s: %s", name, p)
			}
			if m, ok := v.(map[string]any); ok && s.cmd == "generate" && scene == "" {
				scene, _ = m["scene"].(string)
			}
		}
	}
	for _, path := range leafCommands(newApp(nil, nil).Commands, nil) {
		c := strings.Join(path, " ")
		if !covered[c] && jsonExempt[c] == "" && !jsonOCICommands[c] {
			t.Errorf("gizmo %s: no --json step in TestJSONContract and no reason in jsonExempt", c)
		}
	}
}

// decodeJSONOutput reads one JSON value, or (stream) one per line.
func decodeJSONOutput(out string, stream bool) ([]any, error) {
	if strings.TrimSpace(out) == "" {
		return nil, fmt.Errorf("printed nothing")
	}
	if !stream {
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		if dec.More() {
			return nil, fmt.Errorf("more than one JSON value: a one-result command prints one object")
		}
		return []any{v}, nil
	}
	var vs []any
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d is not one JSON value: %v", i+1, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("line %d holds more than one JSON value", i+1)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// checkJSONFields checks every field name in v against the glossary and
// returns what does not follow it.
func checkJSONFields(v any, at string) []string {
	var probs []string
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := jsonGlossary[k]
			where := strings.TrimPrefix(at+"."+k, ".")
			if !ok {
				probs = append(probs, fmt.Sprintf("field %s (%s) is not in the glossary", where, jsonKind(v[k])))
				continue
			}
			if p := f.check(v[k]); p != "" {
				probs = append(probs, fmt.Sprintf("field %s: %s", where, p))
			}
			if f.typ != jsonOpaque {
				probs = append(probs, checkJSONFields(v[k], where)...)
			}
		}
	case []any:
		for _, e := range v {
			probs = append(probs, checkJSONFields(e, at+"[]")...)
		}
	}
	return probs
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// check returns what is wrong with v as a value of f, or "".
func (f jsonField) check(v any) string {
	kind := jsonKind(v)
	want := map[jsonType]string{
		jsonString: "string", jsonPath: "string", jsonTime: "string", jsonNumber: "number", jsonSeconds: "number",
		jsonBool: "boolean", jsonArray: "array", jsonObject: "object", jsonOpaque: "object",
	}[f.typ]
	if kind != want {
		return fmt.Sprintf("is %s, the glossary says %s", kind, f.typ)
	}
	s, _ := v.(string)
	switch {
	case f.typ == jsonPath && s != "" && s != "<stdin>" && !filepath.IsAbs(s):
		return fmt.Sprintf("path %q is not absolute (--json prints absolute paths)", s)
	case f.typ == jsonTime && s != "":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Sprintf("time %q is not RFC 3339", s)
		}
	case f.name == "etag" && strings.ContainsAny(s, `"`):
		return fmt.Sprintf("etag %s keeps its quotes", s)
	}
	return ""
}

// TestJSONGlossaryInREADME: the README's glossary table lists the same
// fields with the same types as jsonGlossary.
func TestJSONGlossaryInREADME(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := bytes.Cut(data, []byte("\n### JSON field glossary\n"))
	if !ok {
		t.Fatal(`README.md has no "### JSON field glossary" section`)
	}
	if i := bytes.Index(section, []byte("\n#")); i >= 0 {
		section = section[:i]
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)` \\| ([a-z ]+) \\|")
	seen := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(section), -1) {
		name, typ := m[1], strings.TrimSpace(m[2])
		seen[name] = true
		f, ok := jsonGlossary[name]
		switch {
		case !ok:
			t.Errorf("README glossary names %s, which jsonGlossary does not have", name)
		case string(f.typ) != typ:
			t.Errorf("README glossary gives %s the type %q, jsonGlossary %q", name, typ, f.typ)
		}
	}
	for name := range jsonGlossary {
		if !seen[name] {
			t.Errorf("jsonGlossary has %s, which the README glossary does not list", name)
		}
	}
}

// TestJSONContractOCI walks push and pull, which need a registry
// (Debian's docker-registry), as TestJSONContract walks the others.
func TestJSONContractOCI(t *testing.T) {
	reg := startRegistry(t)
	_, pub, dir := publish(t, reg, 2)
	ref := "oci://" + reg.host + "/robots/contract:v1"
	node := newGizmoEnv(t, "http://127.0.0.1:1", filepath.Join(t.TempDir(), "cache"))
	for _, s := range []struct {
		g    *gizmoEnv
		args []string
	}{
		{pub, []string{"push", "--json", ref}},
		{node, []string{"pull", "--json", ref}},
	} {
		name := strings.Join(s.args, " ")
		code, stdout, stderr := s.g.run(dir, s.args...)
		if code != 0 {
			t.Errorf("gizmo %s: exit %d\n%s", name, code, stderr)
			continue
		}
		values, err := decodeJSONOutput(stdout, false)
		if err != nil {
			t.Errorf("gizmo %s: %v\nstdout:\n%s", name, err, stdout)
			continue
		}
		for _, p := range checkJSONFields(values[0], "") {
			t.Errorf("gizmo %s: %s", name, p)
		}
	}
}

// startJSONAgent starts gizmo agent run, stopped when the test ends, and
// waits (at most a minute) until agent status answers.
func startJSONAgent(t *testing.T, g *gizmoEnv, dir string) {
	t.Helper()
	var log testbuf.Buffer
	cmd := &exec.Cmd{Path: g.exe, Args: []string{"gizmo", "agent", "run", "--interval", "1h"}, Env: g.env, Dir: dir, Stdout: &log, Stderr: &log}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("gizmo agent run exited:\n%s", log.String())
		default:
		}
		if code, _, _ := g.run(dir, "agent", "status"); code == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gizmo agent run did not answer within a minute:\n%s", log.String())
		}
	}
}
