package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// hostile runs the hostile-server and hostile-input tests, when the
// packages have them.
func (s *stress) hostile() []row {
	pkgs := []string{"./sync/api/", "./validate/check/"}
	var have []string
	for _, p := range pkgs {
		if grepDir(p, "func TestHostile") {
			have = append(have, p)
		}
	}
	if len(have) == 0 {
		fmt.Println("stress: no TestHostile* tests yet: the hostile row is left out")
		return nil
	}
	cmd := exec.Command("go", append([]string{"test", "-count=1", "-json", "-run", "^TestHostile"}, have...)...)
	out, err := cmd.Output()
	tried, passed := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct{ Action, Test string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || !strings.Contains(ev.Test, "/") {
			continue // only the cases (subtests) count
		}
		switch ev.Action {
		case "pass":
			tried++
			passed++
		case "fail":
			tried++
		}
	}
	return []row{{
		what:   "hostile servers and inputs (`TestHostile*` in " + strings.Join(have, ", ") + ")",
		result: fmt.Sprintf("%d cases tried, %d refused as they should", tried, passed),
		ok:     err == nil && tried > 0 && passed == tried,
	}}
}

func grepDir(dir, s string) bool {
	fs, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	for _, f := range fs {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}
