package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/exitcode"
)

// readmeSection returns the README's section under heading (a "## ..."
// line), up to the next heading of the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no %q heading", heading)
	}
	s = s[i+len(heading)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// exitCodeRow is one row of the README's exit code table, as rendered from
// exitcode.Classes.
func exitCodeRow(c exitcode.Class) string {
	return fmt.Sprintf("| %d | `%s` | %s |", c.Code, c.Name, c.Meaning)
}

// TestReadmeExitCodes checks the README's "Exit codes" table row by row
// against exitcode.Classes, which --json errors and "gizmo help
// exit-codes" print from.
func TestReadmeExitCodes(t *testing.T) {
	sec := readmeSection(t, "## Exit codes")
	var rows []string
	for _, l := range strings.Split(sec, "\n") {
		if regexp.MustCompile(`^\| \d+ \|`).MatchString(l) {
			rows = append(rows, l)
		}
	}
	if len(rows) != len(exitcode.Classes) {
		t.Errorf("README lists %d exit codes, internal/exitcode %d", len(rows), len(exitcode.Classes))
	}
	for i, c := range exitcode.Classes {
		want := exitCodeRow(c)
		if i >= len(rows) {
			t.Errorf("README lacks the row\n%s", want)
			continue
		}
		if rows[i] != want {
			t.Errorf("README row %d:\n%s\nwant (from internal/exitcode):\n%s", i+1, rows[i], want)
		}
	}
}
