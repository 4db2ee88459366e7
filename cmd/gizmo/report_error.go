package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/internal/termtext"
)

// errorJSON is how a failing command reports its error on stderr with
// --json: {"error": {"code": "not_found", "message": "...", "exit": 3}}.
// code is the exit code's stable name (exitcode.Classes, README "Exit
// codes"); exit is the process's exit status.
type errorJSON struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Exit    int    `json:"exit"`
}

// timeoutHint follows an error caused by --timeout.
const timeoutHint = "gave up after --timeout; raise it or drop it"

// reportError prints err, which ends the process with exit status code, on
// stderr: as one JSON object when asJSON, else as "gizmo: ..." lines. An
// error made by exitcode.Silent prints nothing in text (the command has
// already reported the details) and its class's summary in JSON.
func reportError(stderr io.Writer, err error, code int, asJSON bool) {
	var e *exitcode.Error
	silent := errors.As(err, &e) && e.Err == nil
	timedOut := errors.Is(err, context.DeadlineExceeded)
	class := exitcode.ClassOf(code)
	if asJSON {
		msg := class.Summary
		if !silent {
			msg = err.Error()
		}
		if timedOut {
			msg += "; " + timeoutHint
		}
		b, _ := json.Marshal(errorJSON{errorBody{Code: class.Name, Message: msg, Exit: code}})
		fmt.Fprintf(stderr, "%s\n", b)
		return
	}
	if !silent {
		// Errors name what servers and files said: shown, not obeyed.
		fmt.Fprintf(stderr, "gizmo: %s\n", termtext.Lines(err.Error()))
	}
	if timedOut {
		fmt.Fprintf(stderr, "gizmo: %s\n", timeoutHint)
	}
}

// jsonRequested reports whether the command line args (or GIZMO_JSON) ask
// for --json output, wherever the flag stands: main decides how to print an
// error before, or without, urfave/cli having parsed the flags.
func jsonRequested(args []string) bool {
	on := false
	if v, ok := os.LookupEnv("GIZMO_JSON"); ok {
		on, _ = strconv.ParseBool(v)
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != flagJSON {
			continue
		}
		if !hasVal {
			on = true
			continue
		}
		if b, err := strconv.ParseBool(val); err == nil {
			on = b
		}
	}
	return on
}
