package main

// The CLI's end-to-end tests: txtar scripts under testdata/script/ run the
// real gizmo binary (this test binary re-executed as "gizmo") against a real
// emulator started in-process on 127.0.0.1.
//
// Commands the scripts get besides testscript's own:
//
//	emulator [--assets N] [--seed S] [--gen-delay D] [--url-ttl D] [--api-key K] [--read-only-key K]
//	         [--error-rate F] [--rate-limit N] [--truncate-rate F] [--slow N]
//	         [--fail-rate F] [--download-host localhost] [--max-per-asset-rate N]
//	    start an emulator (stopping any earlier one of the script) and set
//	    GIZMO_API_URL, GIZMO_API_KEY and EMULATOR_URL; it stops at script end.
//	    It refuses (429) more than --max-per-asset-rate requests a second for
//	    one asset on one route (default scriptMaxPerAssetRate), and the
//	    script fails at its end if it refused any: a client polling or
//	    retrying in a tight loop fails every script.
//	emuasset [--extra-format F]... [--tag T]... VAR STATUS PROMPT...
//	    add an asset with a fixed status (any word: archived is one the API
//	    does not document), offering the formats F beyond the documented
//	    ones once ready, carrying the tags T; its id goes into $VAR.
//	emudelete ID
//	    delete an asset: the API answers 404 for it from then on.
//	emucreate VAR PROMPT...
//	    create an asset as POST /assets does (pending, then ready after the
//	    emulator's --gen-delay); its id goes into $VAR.
//	emustat ROUTE FIELD N
//	    assert the emulator's count (ROUTE list|get|create|export|download,
//	    FIELD requests|errors; or ROUTE download_authorization with FIELD -).
//	emuexport ID FORMAT FILE
//	    write the bytes the emulator serves for ID in FORMAT to FILE.
//	exits N PROGRAM [ARGS...]
//	    run PROGRAM (gizmo, say) and assert its exit status is N; its stdout
//	    and stderr are then checked with stdout and stderr as after exec.
//	emufaults [error-rate=F] [rate-limit=N] [truncate-rate=F] [slow=N] [fail-rate=F]
//	    replace the fault-injection knobs of the running emulator.
//	emuclock D
//	    move the running emulator's clock D (a Go duration) on: statuses
//	    and URL lifetimes follow it, so a generation ends when the script
//	    says, not when the machine gets round to it.
//	emuwait ROUTE FIELD N
//	    wait (at most a minute) until the emulator's count ROUTE FIELD (as
//	    for emustat) has grown by N since the command started: for example
//	    until a command started in the background polls.
//
// Every script also gets GIZMO_CACHE_DIR, XDG_CACHE_HOME and XDG_CONFIG_HOME under $WORK,
// and GIZMO_CORPUS when the shared robot corpus is present. Conditions:
// [corpus] (the corpus is present), [tool:NAME] (the reference parser NAME,
// check_urdf, mujoco-compile or mujoco-js, can run) and [short] (go test
// -short). With GIZMO_REQUIRE_REFERENCES=1 a [corpus] or [tool:NAME] that
// does not hold fails the script instead of letting it skip: scripts test
// them first, as in "[!tool:check_urdf] skip 'check_urdf not installed'".
//
// Run with -update-scripts to rewrite the expected outputs of failing cmp
// commands in place.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/testcorpus"
	"github.com/antimlabs/gizmo/internal/testreq"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

var updateScripts = flag.Bool("update-scripts", false, "rewrite expected outputs of failing cmp commands in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gizmo": func() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs every script against an emulator of the alpha
// generation; TestScriptsCurrent runs them all again against the current
// one (scripts_current_test.go).
func TestScripts(t *testing.T) { runScripts(t, emulator.APIAlpha) }

func runScripts(t *testing.T, generation string) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Values[scriptGenKey{}] = generation
			return scriptSetup(env)
		},
		Cmds:          scriptCmds,
		UpdateScripts: *updateScripts,
		Condition: func(cond string) (bool, error) {
			if cond == emulator.APIAlpha || cond == emulator.APICurrent {
				return cond == generation, nil
			}
			return scriptCondition(cond)
		},
	})
}

// scriptCondition evaluates the conditions the scripts add to testscript's.
func scriptCondition(cond string) (bool, error) {
	if cond == "short" {
		return testing.Short(), nil
	}
	var ok bool
	var why string
	switch tool, isTool := strings.CutPrefix(cond, "tool:"); {
	case cond == "corpus":
		ok = corpusDir() != ""
		why = "robot corpus not found: set GIZMO_CORPUS, or put it at ../shared/corpus beside the repository"
	case isTool:
		ok, why = reference.Have(tool)
	default:
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if !ok && testreq.Required() {
		return false, fmt.Errorf("[%s]: %s (%s=1: a missing reference fails the script)", cond, why, testreq.Env)
	}
	return ok, nil
}

// emuKey is the key of the script's emulator holder in Env.Values.
type emuKey struct{}

type emuHolder struct {
	srv *emulator.Server
	t   testscript.T // the script's test, for checks at the script's end
	// skew is how far emuclock moved the emulator's clock on.
	skew atomic.Int64
}

func scriptSetup(env *testscript.Env) error {
	env.Setenv("GIZMO_CACHE_DIR", filepath.Join(env.WorkDir, ".cache", "gizmo"))
	env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
	if dir := corpusDir(); dir != "" {
		env.Setenv("GIZMO_CORPUS", dir)
	}
	// The repository's shared fixtures (testdata/hostile, ...).
	env.Setenv("TESTDATA", filepath.Dir(testcorpus.HostileDir()))
	env.Values[emuKey{}] = &emuHolder{t: env.T()}
	return nil
}

// corpusDir locates the shared robot corpus: $GIZMO_CORPUS, or
// ../shared/corpus next to the repository root; "" when absent.
func corpusDir() string {
	return testcorpus.Find()
}

var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"emulator":  cmdEmulator,
	"emuasset":  cmdEmuasset,
	"emudelete": cmdEmudelete,
	"emucreate": cmdEmucreate,
	"emustat":   cmdEmustat,
	"emuexport": cmdEmuexport,
	"emufaults": cmdEmufaults,
	"emuclock":  cmdEmuclock,
	"emuwait":   cmdEmuwait,
	"exits":     cmdExits,
}

func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

func scriptEmulator(ts *testscript.TestScript) *emulator.Server {
	h := ts.Value(emuKey{}).(*emuHolder)
	if h.srv == nil {
		ts.Fatalf("no emulator: start one with the emulator command first")
	}
	return h.srv
}

func cmdEmulator(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! emulator")
	}
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	var cfg emulator.Config
	var host string
	fs.IntVar(&cfg.Assets, "assets", 0, "")
	fs.Int64Var(&cfg.Seed, "seed", 1, "")
	fs.DurationVar(&cfg.GenDelay, "gen-delay", 0, "")
	fs.DurationVar(&cfg.URLTTL, "url-ttl", 0, "")
	fs.StringVar(&cfg.APIKey, "api-key", "dev", "")
	fs.StringVar(&cfg.ReadOnlyAPIKey, "read-only-key", "", "")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "")
	fs.IntVar(&cfg.RateLimit, "rate-limit", 0, "")
	fs.Float64Var(&cfg.TruncateRate, "truncate-rate", 0, "")
	fs.Int64Var(&cfg.Slow, "slow", 0, "")
	fs.Float64Var(&cfg.FailRate, "fail-rate", 0, "")
	fs.StringVar(&host, "download-host", "", "")
	fs.IntVar(&cfg.MaxPerAssetRate, "max-per-asset-rate", scriptMaxPerAssetRate, "")
	cur := currentEmulatorFlags(ts, fs, &cfg)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("emulator: %v", err)
	}
	cur.apply(ts, &cfg)
	h := ts.Value(emuKey{}).(*emuHolder)
	if h.srv != nil {
		h.srv.Close()
	}
	h.skew.Store(0)
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) }
	if host != "" {
		// Mint download URLs on another host name of the same listener.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		cfg.DownloadBaseURL = "http://" + net.JoinHostPort(host, port)
		srv, err := emulator.New(cfg)
		if err != nil {
			ln.Close()
			ts.Fatalf("emulator: %v", err)
		}
		u := srv.Serve(ln)
		h.srv = srv
		ts.Defer(func() { srv.Close(); checkPerAssetRate(ts, h.t, srv) })
		setEmuEnv(ts, u, cfg.APIKey)
		cur.setEnv(ts, cfg)
		return
	}
	srv, err := emulator.New(cfg)
	ts.Check(err)
	u, err := srv.Start("127.0.0.1:0")
	ts.Check(err)
	h.srv = srv
	ts.Defer(func() { srv.Close(); checkPerAssetRate(ts, h.t, srv) })
	setEmuEnv(ts, u, cfg.APIKey)
	cur.setEnv(ts, cfg)
}

// scriptMaxPerAssetRate is the scripts' per-asset rate limit, the one
// every test emulator has: requests a second for one asset on one route
// (get, export, download). A correct client stays far below it: status
// polls start at 1 s, a sync asks for one asset's three formats at once,
// and retries back off from 200 ms; the busiest second of any script run is
// well under it (see the log line of each script), while a tight loop sends
// hundreds.
const scriptMaxPerAssetRate = emulatortest.MaxPerAssetRate

// checkPerAssetRate fails the script when its emulator refused a request
// for going beyond the per-asset rate, naming the asset and route. It runs
// when the script ends, after an earlier failure too, so it marks the test
// failed without stopping it.
func checkPerAssetRate(ts *testscript.TestScript, t testscript.T, srv *emulator.Server) {
	ts.Logf("emulator: busiest second for one asset on one route: %d requests (limit %d)", srv.Stats().PerAsset.Peak, srv.Stats().PerAsset.Limit)
	err := emulatortest.CheckPerAssetRate(srv)
	if err == nil {
		return
	}
	msg := ts.Name() + ": " + err.Error()
	if e, ok := t.(interface{ Error(...any) }); ok {
		e.Error(msg)
		return
	}
	t.Fatal(msg)
}

func setEmuEnv(ts *testscript.TestScript, u, key string) {
	ts.Setenv("GIZMO_API_URL", u)
	ts.Setenv("GIZMO_API_KEY", key)
	ts.Setenv("EMULATOR_URL", u)
}

func cmdEmuasset(ts *testscript.TestScript, neg bool, args []string) {
	var extra []formats.Format
	var tags []string
	for len(args) >= 2 && (args[0] == "--extra-format" || args[0] == "--tag") {
		if args[0] == "--tag" {
			tags = append(tags, args[1])
		} else {
			extra = append(extra, formats.Format(args[1]))
		}
		args = args[2:]
	}
	if neg || len(args) < 3 {
		ts.Fatalf("usage: emuasset [--extra-format F]... [--tag T]... VAR STATUS PROMPT...")
	}
	a, err := scriptEmulator(ts).AddAsset(strings.Join(args[2:], " "), "", tags, api.Status(args[1]), extra...)
	ts.Check(err)
	ts.Setenv(args[0], a.ID)
}

func cmdEmucreate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: emucreate VAR PROMPT...")
	}
	a, err := scriptEmulator(ts).Create(strings.Join(args[1:], " "), "", nil)
	ts.Check(err)
	ts.Setenv(args[0], a.ID)
}

func cmdEmudelete(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: emudelete ID")
	}
	if !scriptEmulator(ts).Delete(args[0]) {
		ts.Fatalf("emudelete: no asset %s", args[0])
	}
}

func cmdEmustat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: emustat ROUTE FIELD N|<=N")
	}
	n, atMost := strings.CutPrefix(args[2], "<=")
	want, err := strconv.ParseInt(n, 10, 64)
	ts.Check(err)
	got := emuCount(ts, "emustat", args[0], args[1])
	if atMost {
		if (got <= want) == neg {
			ts.Fatalf("emustat %s %s = %d, want %sat most %d", args[0], args[1], got, map[bool]string{true: "not ", false: ""}[neg], want)
		}
		return
	}
	if (got == want) == neg {
		ts.Fatalf("emustat %s %s = %d, want %s%d", args[0], args[1], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// emuCount reads the emulator's count ROUTE FIELD as a client would, over
// HTTP (FIELD "-" for a route counted by a plain number).
func emuCount(ts *testscript.TestScript, cmd, route, field string) int64 {
	resp, err := http.Get(ts.Getenv("EMULATOR_URL") + "/_emulator/stats")
	ts.Check(err)
	defer resp.Body.Close()
	var st map[string]json.RawMessage
	ts.Check(json.NewDecoder(resp.Body).Decode(&st))
	raw, ok := st[route]
	if !ok {
		ts.Fatalf("%s: no route %q in the stats", cmd, route)
	}
	var got int64
	if field == "-" {
		ts.Check(json.Unmarshal(raw, &got))
	} else {
		var rs map[string]int64
		ts.Check(json.Unmarshal(raw, &rs))
		if got, ok = rs[field]; !ok {
			ts.Fatalf("%s: no field %q in %s", cmd, field, raw)
		}
	}
	return got
}

func cmdEmuclock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: emuclock DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	scriptEmulator(ts)
	ts.Value(emuKey{}).(*emuHolder).skew.Add(int64(d))
}

func cmdEmuwait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: emuwait ROUTE FIELD N")
	}
	n, err := strconv.ParseInt(args[2], 10, 64)
	ts.Check(err)
	start := emuCount(ts, "emuwait", args[0], args[1])
	deadline := time.Now().Add(time.Minute)
	for got := start; got < start+n; got = emuCount(ts, "emuwait", args[0], args[1]) {
		if time.Now().After(deadline) {
			ts.Fatalf("emuwait: %s %s grew by %d in a minute, want %d", args[0], args[1], got-start, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cmdEmuexport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: emuexport ID FORMAT FILE")
	}
	f, err := formats.Parse(args[1])
	ts.Check(err)
	srv := scriptEmulator(ts)
	b, err := srv.ExportBytes(args[0], f)
	if ts.Getenv("GIZMO_API_GENERATION") == emulator.APICurrent {
		b, err = srv.CurrentExportBytes(args[0], f)
	}
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), b, 0o644))
}

func cmdEmufaults(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! emufaults")
	}
	var f emulator.Faults
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			ts.Fatalf("emufaults: %q: want KNOB=VALUE", a)
		}
		var err error
		switch k {
		case "error-rate":
			f.ErrorRate, err = strconv.ParseFloat(v, 64)
		case "rate-limit":
			f.RateLimit, err = strconv.Atoi(v)
		case "truncate-rate":
			f.TruncateRate, err = strconv.ParseFloat(v, 64)
		case "slow":
			f.Slow, err = strconv.ParseInt(v, 10, 64)
		case "fail-rate":
			f.FailRate, err = strconv.ParseFloat(v, 64)
		default:
			ts.Fatalf("emufaults: unknown knob %q", k)
		}
		ts.Check(err)
	}
	ts.Check(scriptEmulator(ts).SetFaults(f))
}

// TestEmulatorCommand runs gizmo emulator's action: the URL on the first
// stdout line, a server that answers there, and a clean stop on cancel.
func TestEmulatorCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- runEmulator(ctx, "127.0.0.1:0", emulator.Config{Assets: 12, StateDir: t.TempDir()}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	u := strings.TrimSpace(line)
	if !strings.HasPrefix(u, "http://127.0.0.1:") || strings.HasSuffix(u, ":0") {
		t.Fatalf("first line %q, want http://127.0.0.1:PORT", line)
	}
	c, err := api.New(api.Options{BaseURL: u, APIKey: emulator.DefaultAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.List(ctx, 100, 0)
	if err != nil || p.Total != 12 {
		t.Fatalf("list: %+v %v", p, err)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the emulator did not stop on cancel")
	}
	if _, err := http.Get(u + "/assets"); err == nil {
		t.Error("the emulator still answers after stopping")
	}
	if !strings.Contains(stderr.String(), "12 assets") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

func TestParseRate(t *testing.T) {
	cases := map[string]int64{"": 0, "100": 100, "64k": 64 << 10, "2M": 2 << 20, " 1g ": 1 << 30}
	for in, want := range cases {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"fast", "-1", "1.5k", "k"} {
		if _, err := parseRate(bad); err == nil {
			t.Errorf("parseRate(%q) accepted", bad)
		}
	}
}
