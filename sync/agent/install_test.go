package agent

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/testreq"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is meant):\n%s", name, got)
	}
}

var testService = Service{
	Exe:     "/home/ada/.local/bin/gizmo",
	Args:    []string{"--interval", "10m"},
	Env:     map[string]string{"GIZMO_API_KEY_FILE": "/home/ada/.config/gizmo/api-key", "GIZMO_CACHE_DIR": "/data/gizmo cache/100%"},
	LogFile: "/home/ada/Library/Logs/gizmo-agent.log",
}

func TestSystemdUnit(t *testing.T) {
	unit := SystemdUnit(testService)
	golden(t, "gizmo-agent.service", unit)
	for _, want := range []string{"Type=notify", "Restart=on-failure", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID",
		`Environment="GIZMO_CACHE_DIR=/data/gizmo cache/100%%"`, "ExecStart=/home/ada/.local/bin/gizmo agent run --interval 10m"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	if bytes.Contains(unit, []byte("GIZMO_API_KEY=")) {
		t.Error("the unit holds an API key variable")
	}
}

func TestLaunchdPlist(t *testing.T) {
	plist := LaunchdPlist(testService)
	golden(t, LaunchdLabel+".plist", plist)
	// Well-formed XML.
	d := xml.NewDecoder(bytes.NewReader(plist))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("the plist is not well-formed XML: %v", err)
			}
			break
		}
	}
	if !strings.Contains(string(plist), "<string>/data/gizmo cache/100%</string>") {
		t.Error("the plist does not carry the cache directory")
	}
}

func TestSystemdQuote(t *testing.T) {
	cases := map[string]string{
		`plain`:        `"plain"`,
		`a "b" \c`:     `"a \"b\" \\c"`,
		`50% of $HOME`: `"50%% of $$HOME"`,
	}
	for in, want := range cases {
		if got := systemdQuote(in); got != want {
			t.Errorf("systemdQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestWriteServiceFileRefusesToReplace(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a", "unit")
	if err := WriteServiceFile(p, []byte("one"), false); err != nil {
		t.Fatal(err)
	}
	if err := WriteServiceFile(p, []byte("one"), false); err != nil {
		t.Errorf("rewriting the same content: %v", err)
	}
	if err := WriteServiceFile(p, []byte("two"), false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("replacing a different file without force: %v", err)
	}
	if err := WriteServiceFile(p, []byte("two"), true); err != nil {
		t.Fatal(err)
	}
}

// systemd's own checker accepts the unit.
func TestSystemdUnitVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testreq.Missing(t, "systemd-analyze is not installed (apt-get install systemd)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := testService
	s.Exe = exe // verify checks that ExecStart's binary exists
	path := filepath.Join(t.TempDir(), SystemdUnitName)
	if err := os.WriteFile(path, SystemdUnit(s), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
