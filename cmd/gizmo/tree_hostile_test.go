package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf16"

	"github.com/antimlabs/gizmo/internal/exitcode"
)

// chainURDF is a URDF whose n links hang one below the other.
func chainURDF(n int, linkName func(int) string) string {
	var b strings.Builder
	b.WriteString("<robot name=\"chain\">\n")
	for i := range n {
		fmt.Fprintf(&b, "<link name=\"%s\"/>\n", linkName(i))
	}
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "<joint name=\"j%d\" type=\"fixed\"><parent link=\"%s\"/><child link=\"%s\"/></joint>\n", i, linkName(i-1), linkName(i))
	}
	b.WriteString("</robot>\n")
	return b.String()
}

// TestTreeHostile runs gizmo tree over models built to make its output
// explode or its reads hang.
func TestTreeHostile(t *testing.T) {
	dir := t.TempDir()
	const depth = 20000
	plain := func(i int) string { return fmt.Sprintf("l%d", i) }
	var le []byte
	le = append(le, 0xff, 0xfe)
	for _, u := range utf16.Encode([]rune(`<robot name="r"><link name="a"/></robot>`)) {
		le = binary.LittleEndian.AppendUint16(le, u)
	}
	files := map[string]string{
		"chain.urdf":  chainURDF(depth, plain),
		"header.urdf": "<!--" + strings.Repeat(" licence", 1000) + " -->\n" + chainURDF(3, plain),
		"utf16.urdf":  string(le),
		"escape.urdf": chainURDF(2, func(i int) string { return fmt.Sprintf("l%d\x1b[31mred\x1b[0m\u202e", i) }),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fifo := filepath.Join(dir, "pipe.urdf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		o         treeOptions
		code      int
		say       string // in stdout, or in the error
		maxLine   int    // longest stdout line allowed, in bytes (0: no check)
		maxOutput int    // stdout size allowed, in bytes (0: no check)
	}{
		{"deep chain", treeOptions{path: "chain.urdf"}, 0, fmt.Sprintf("[depth %d] └── l%d  [j%d: fixed]", depth-1, depth-1, depth-1), 200, 200 * depth},
		{"deep chain dot", treeOptions{path: "chain.urdf", dot: true}, 0, fmt.Sprintf(`"l%d" -> "l%d"`, depth-2, depth-1), 200, 200 * depth},
		{"deep chain json", treeOptions{path: "chain.urdf", json: true}, exitcode.Failure, "deeper than --json prints", 0, 0},
		{"long comment", treeOptions{path: "header.urdf"}, 0, "    └── l2  [j2: fixed]", 0, 0},
		{"utf16", treeOptions{path: "utf16.urdf"}, exitcode.Invalid, "UTF-16", 0, 0},
		{"escapes", treeOptions{path: "escape.urdf"}, 0, `red?[0m\u202e`, 0, 0},
		{"fifo", treeOptions{path: "pipe.urdf"}, exitcode.Usage, "a named pipe (FIFO), not a model file", 0, 0},
		{"folder", treeOptions{path: "."}, exitcode.Usage, "a folder, not a model file", 0, 0},
	}
	t.Chdir(dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runTree(context.Background(), tt.o, &out)
			if got := exitcode.Of(err); got != tt.code {
				t.Fatalf("exit %d (%v), want %d", got, err, tt.code)
			}
			text := out.String()
			if err != nil {
				text = err.Error()
			}
			if !strings.Contains(text, tt.say) {
				t.Errorf("output does not say %q:\n%.2000s", tt.say, text)
			}
			if bytes.ContainsRune(out.Bytes(), 0x1b) {
				t.Error("an escape character reached the output")
			}
			if tt.maxOutput > 0 && out.Len() > tt.maxOutput {
				t.Errorf("%d bytes of output, want at most %d", out.Len(), tt.maxOutput)
			}
			for _, line := range strings.Split(out.String(), "\n") {
				if tt.maxLine > 0 && len(line) > tt.maxLine {
					t.Fatalf("a line of %d bytes: %.200s...", len(line), line)
				}
			}
		})
	}
}
