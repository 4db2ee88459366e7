package main

import (
	"context"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/antimlabs/gizmo/internal/reference"
)

func init() {
	scriptCmds["mujoco3"] = cmdMuJoCo3
}

// cmdMuJoCo3 loads each model file in MuJoCo 3.3.8 (mujoco-js under Node)
// and steps it for a simulated second: "mujoco3 FILE..." fails when MuJoCo
// rejects a model or warns while stepping it; "! mujoco3" wants it
// rejected. Guard it with [tool:mujoco-js].
func cmdMuJoCo3(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: mujoco3 FILE...")
	}
	paths := make([]string, len(args))
	for i, a := range args {
		paths[i] = ts.MkAbs(a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	vs, err := reference.MuJoCo3Simulate(ctx, paths, 500)
	ts.Check(err)
	for i, v := range vs {
		switch {
		case v.Accepted && neg:
			ts.Fatalf("MuJoCo %s loaded %s", v.Version, args[i])
		case !v.Accepted && !neg:
			ts.Fatalf("MuJoCo %s: %s: %q", v.Version, args[i], v.Messages)
		}
		ts.Logf("MuJoCo %s: %s: accepted=%v %q", v.Version, args[i], v.Accepted, v.Messages)
	}
}
