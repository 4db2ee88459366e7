package agent

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Service names of the installed agent.
const (
	SystemdUnitName = "gizmo-agent.service"
	LaunchdLabel    = "com.antimlabs.gizmo.agent"
)

// Service says what an installed agent runs with. The API key is never in
// it: only the path of a key file readable by its owner alone.
type Service struct {
	Exe     string            // absolute path of the gizmo binary
	Args    []string          // after "agent run"
	Env     map[string]string // GIZMO_API_KEY_FILE, GIZMO_CACHE_DIR, ...
	LogFile string            // launchd: where stderr goes
}

// SystemdUnitPath is where a user unit goes: $XDG_CONFIG_HOME/systemd/user.
func SystemdUnitPath(configDir string) string {
	return filepath.Join(configDir, "systemd", "user", SystemdUnitName)
}

// LaunchdPlistPath is where a LaunchAgent goes: ~/Library/LaunchAgents.
func LaunchdPlistPath(home string) string {
	return filepath.Join(home, "Library", "LaunchAgents", LaunchdLabel+".plist")
}

// SystemdUnit is a systemd user unit running the agent: Type=notify (READY
// after the first pass), a watchdog, SIGHUP for reload, restarts on failure
// except for exits that a restart cannot mend (bad flags, a refused key,
// another agent on the cache).
func SystemdUnit(s Service) []byte {
	var b bytes.Buffer
	b.WriteString(`# Written by 'gizmo agent install --systemd'. The API key is not here: the
# agent reads it from GIZMO_API_KEY_FILE (a file only you can read).
[Unit]
Description=gizmo agent: keeps registered simulation projects ready
Documentation=https://github.com/antimlabs/gizmo#the-background-agent-gizmo-agent
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
`)
	fmt.Fprintf(&b, "ExecStart=%s\n", systemdCommand(append([]string{s.Exe, "agent", "run"}, s.Args...)))
	b.WriteString(`ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=10s
RestartPreventExitStatus=2 6 9
TimeoutStopSec=15s
WatchdogSec=2min
`)
	for _, k := range sortedKeys(s.Env) {
		fmt.Fprintf(&b, "Environment=%s\n", systemdQuote(k+"="+s.Env[k]))
	}
	b.WriteString(`
[Install]
WantedBy=default.target
`)
	return b.Bytes()
}

// systemdCommand quotes a command line for ExecStart.
func systemdCommand(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$%;") {
			q[i] = systemdQuote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// systemdQuote double-quotes a value for a unit file: backslashes and
// quotes escaped, % doubled (specifiers), $ doubled (variables).
func systemdQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "$", "$$", "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// LaunchdPlist is a launchd LaunchAgent running the agent at login and
// again when it fails.
func LaunchdPlist(s Service) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by gizmo agent install (launchd). The API key is not here: the
     agent reads it from GIZMO_API_KEY_FILE (a file only you can read). -->
<plist version="1.0">
<dict>
`)
	str := func(v string) string { return "<string>" + xmlEscape(v) + "</string>" }
	fmt.Fprintf(&b, "\t<key>Label</key>\n\t%s\n", str(LaunchdLabel))
	b.WriteString("\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, a := range append([]string{s.Exe, "agent", "run"}, s.Args...) {
		fmt.Fprintf(&b, "\t\t%s\n", str(a))
	}
	b.WriteString("\t</array>\n")
	if len(s.Env) > 0 {
		b.WriteString("\t<key>EnvironmentVariables</key>\n\t<dict>\n")
		for _, k := range sortedKeys(s.Env) {
			fmt.Fprintf(&b, "\t\t<key>%s</key>\n\t\t%s\n", xmlEscape(k), str(s.Env[k]))
		}
		b.WriteString("\t</dict>\n")
	}
	b.WriteString(`	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>10</integer>
	<key>ProcessType</key>
	<string>Background</string>
`)
	if s.LogFile != "" {
		fmt.Fprintf(&b, "\t<key>StandardErrorPath</key>\n\t%s\n", str(s.LogFile))
	}
	b.WriteString("</dict>\n</plist>\n")
	return b.Bytes()
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WriteServiceFile writes a unit or plist at path (its folder created),
// refusing to replace a different file unless force.
func WriteServiceFile(path string, data []byte, force bool) error {
	if old, err := os.ReadFile(path); err == nil && !bytes.Equal(old, data) && !force {
		return fmt.Errorf("%s exists and differs: pass --force to replace it", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
