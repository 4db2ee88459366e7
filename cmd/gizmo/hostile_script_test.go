package main

// Script commands for hostile servers (package sync/api/hostile):
//
//	hostile MODE
//	    start a hostile server in MODE (hang, html, wrong-types, ...; see
//	    hostile.Modes) and set GIZMO_API_URL, GIZMO_API_KEY, HOSTILE_URL and
//	    GIZMO_API_GENERATION=alpha; it stops at script end. The download modes wrap an emulator with
//	    three ready assets, reachable as for the emulator command
//	    (EMULATOR_URL, emustat); the escapes mode's assets (ready, failed)
//	    are HOSTILE_ID1 and HOSTILE_ID2.
//	hostilecheck
//	    assert that no request with an Authorization header reached the
//	    host the redirect modes point at.

import (
	"fmt"
	gosync "sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/antimlabs/gizmo/sync/api/hostile"
)

func init() {
	scriptCmds["hostile"] = cmdHostile
	scriptCmds["hostilecheck"] = cmdHostileCheck
}

// hostileServers holds each script's hostile server.
var hostileServers gosync.Map // *testscript.TestScript → *hostile.Server

func cmdHostile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hostile MODE")
	}
	if old, ok := hostileServers.Load(ts); ok {
		old.(*hostile.Server).Close()
	}
	s, err := hostile.New(hostile.Mode(args[0]))
	ts.Check(err)
	hostileServers.Store(ts, s)
	ts.Defer(func() {
		s.Close()
		hostileServers.Delete(ts)
	})
	ts.Setenv("GIZMO_API_URL", s.URL)
	ts.Setenv("GIZMO_API_KEY", hostile.APIKey)
	ts.Setenv("HOSTILE_URL", s.URL)
	// The servers speak (or break) the alpha generation; detection is
	// tried where a script clears the variable.
	ts.Setenv("GIZMO_API_GENERATION", "alpha")
	for i, id := range s.IDs {
		ts.Setenv(fmt.Sprintf("HOSTILE_ID%d", i+1), id)
	}
	if s.Emu != nil {
		ts.Value(emuKey{}).(*emuHolder).srv = s.Emu
		ts.Setenv("EMULATOR_URL", s.URL)
	}
}

func cmdHostileCheck(ts *testscript.TestScript, neg bool, args []string) {
	v, ok := hostileServers.Load(ts)
	if neg || len(args) != 0 || !ok {
		ts.Fatalf("usage: hostilecheck, after hostile MODE")
	}
	s := v.(*hostile.Server)
	if n := s.AuthElsewhere.Load(); n != 0 {
		ts.Fatalf("the other host received the API key %d times", n)
	}
}
