package testcorpus

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// HostileArchive is one of the module's hostile zip fixtures
// (testdata/hostile at the repository root): a small model with one entry
// that an extractor must refuse.
type HostileArchive struct {
	Path  string // absolute path of the zip
	Entry string // the entry a refusal must name (as stored)
	What  string // what it tries, in a few words
}

// HostileDir is the folder of the hostile zip fixtures, found by walking up
// from the test's folder to the module root (go.mod); "" when there is none.
func HostileDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "hostile")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// HostileArchives reads testdata/hostile/cases.txt: one fixture a line,
// "file.zip "entry" what it tries" (the entry Go-quoted). It fails the test
// when the list cannot be read or names a file that is not there.
func HostileArchives(tb testing.TB) []HostileArchive {
	tb.Helper()
	dir := HostileDir()
	f, err := os.Open(filepath.Join(dir, "cases.txt"))
	if err != nil {
		tb.Fatalf("hostile fixtures: %v", err)
	}
	defer f.Close()
	var out []HostileArchive
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c, err := parseHostileCase(dir, line)
		if err != nil {
			tb.Fatalf("hostile fixtures: cases.txt:%d: %v", n, err)
		}
		if _, err := os.Stat(c.Path); err != nil {
			tb.Fatalf("hostile fixtures: cases.txt:%d: %v", n, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("hostile fixtures: %v", err)
	}
	if len(out) == 0 {
		tb.Fatalf("hostile fixtures: cases.txt lists none")
	}
	return out
}

func parseHostileCase(dir, line string) (HostileArchive, error) {
	file, rest, _ := strings.Cut(line, " ")
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return HostileArchive{}, err
	}
	entry, _ := strconv.Unquote(q)
	return HostileArchive{
		Path:  filepath.Join(dir, file),
		Entry: entry,
		What:  strings.TrimSpace(rest[len(q):]),
	}, nil
}

// FormatHostileCase is the cases.txt line of a fixture (for the generator).
func FormatHostileCase(file, entry, what string) string {
	return file + " " + strconv.Quote(entry) + " " + what
}
