package main

import (
	"flag"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/antimlabs/gizmo/sync/emulator"
)

// TestScriptsCurrent runs every script again, against an emulator of the
// current generation. A script that only makes sense for one generation
// says so with [alpha] or [current] conditions.
func TestScriptsCurrent(t *testing.T) { runScripts(t, emulator.APICurrent) }

// scriptGenKey is the key of the run's API generation in Env.Values.
type scriptGenKey struct{}

// emuCurrent holds the script emulator command's flags of the current
// generation:
//
//	--api alpha|current (default: the run's generation), --strict,
//	--live-events, --ping-interval D, --drop-stream-after N, --no-events,
//	--window D (the rate limit's window, with --rate-limit N),
//	--no-rate-headers, --credits N, --create-delay D, --detect (leave
//	GIZMO_API_GENERATION unset so that gizmo detects the generation).
type emuCurrent struct {
	api    string
	window time.Duration
	detect bool
	opts   emulator.CurrentOptions
}

func currentEmulatorFlags(ts *testscript.TestScript, fs *flag.FlagSet, cfg *emulator.Config) *emuCurrent {
	c := &emuCurrent{}
	gen, _ := ts.Value(scriptGenKey{}).(string)
	fs.StringVar(&c.api, "api", gen, "")
	fs.BoolVar(&c.opts.Strict, "strict", false, "")
	fs.BoolVar(&c.opts.LiveEvents, "live-events", false, "")
	fs.DurationVar(&c.opts.PingInterval, "ping-interval", 50*time.Millisecond, "")
	fs.IntVar(&c.opts.DropStreamAfter, "drop-stream-after", 0, "")
	fs.BoolVar(&c.opts.NoEvents, "no-events", false, "")
	fs.DurationVar(&c.window, "window", 0, "")
	fs.BoolVar(&c.opts.NoRateHeaders, "no-rate-headers", false, "")
	fs.Int64Var(&c.opts.Credits, "credits", 0, "")
	fs.DurationVar(&c.opts.CreateDelay, "create-delay", 0, "")
	fs.BoolVar(&c.detect, "detect", false, "")
	return c
}

// apply sets the generation and, for the current one, moves the rate
// limit into its windows (a second unless --window says otherwise).
func (c *emuCurrent) apply(ts *testscript.TestScript, cfg *emulator.Config) {
	switch strings.ToLower(c.api) {
	case "", emulator.APIAlpha:
		cfg.API = emulator.APIAlpha
		return
	case emulator.APICurrent:
		cfg.API = emulator.APICurrent
	default:
		ts.Fatalf("emulator: --api %q: want alpha or current", c.api)
	}
	cfg.Current = c.opts
	if cfg.RateLimit > 0 {
		cfg.Current.RateLimit, cfg.Current.RateWindow = cfg.RateLimit, max(c.window, time.Second)
		if c.window > 0 {
			cfg.Current.RateWindow = c.window
		}
		cfg.RateLimit = 0
	}
}

// setEnv tells gizmo the generation (as a user would force it) unless
// --detect asks for detection.
func (c *emuCurrent) setEnv(ts *testscript.TestScript, cfg emulator.Config) {
	if c.detect {
		ts.Setenv("GIZMO_API_GENERATION", "")
		return
	}
	ts.Setenv("GIZMO_API_GENERATION", cfg.API)
}

func init() {
	scriptCmds["emuscene"] = cmdEmuscene
	scriptCmds["emucredits"] = cmdEmucredits
}

// cmdEmuscene: emuscene VAR [N] sets VAR to the id of the emulator's Nth
// newest scene (0, the newest, by default).
func cmdEmuscene(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: emuscene VAR [N]")
	}
	n := 0
	if len(args) == 2 {
		var err error
		n, err = strconv.Atoi(args[1])
		ts.Check(err)
	}
	ids := scriptEmulator(ts).SceneIDs()
	if n >= len(ids) {
		ts.Fatalf("emuscene: the emulator has %d scenes", len(ids))
	}
	ts.Setenv(args[0], ids[n])
}

// cmdEmucredits: emucredits N sets the credits left (the emulator must have
// been started with --credits).
func cmdEmucredits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: emucredits N")
	}
	n, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	scriptEmulator(ts).SetCredits(n)
}
