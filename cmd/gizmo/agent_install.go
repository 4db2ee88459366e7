package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cmd/gizmo/internal/ui"
	"github.com/antimlabs/gizmo/internal/atomicfile"
	"github.com/antimlabs/gizmo/internal/exitcode"
	"github.com/antimlabs/gizmo/sync/agent"
)

// runAgentInstall writes the systemd unit or the launchd plist and prints
// the command that enables it.
func runAgentInstall(c *cli.Context) error {
	sd, ld := c.Bool("systemd"), c.Bool("launchd")
	if sd == ld {
		return exitcode.With(exitcode.Usage, errors.New("say which service manager: --systemd or --launchd"))
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the gizmo binary: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	configDir, err := os.UserConfigDir()
	if err != nil {
		return fmt.Errorf("no configuration directory: set XDG_CONFIG_HOME (%v)", err)
	}
	keyFile, err := installKeyFile(c, configDir)
	if err != nil {
		return err
	}
	s := agent.Service{Exe: exe, Env: map[string]string{"GIZMO_API_KEY_FILE": keyFile}}
	if d := c.Duration("interval"); d > 0 {
		s.Args = append(s.Args, "--interval", d.String())
	}
	if u := c.String(flagAPIURL); u != defaultAPIURL {
		s.Env["GIZMO_API_URL"] = u
	}
	if dir, err := cacheDir(c); err == nil {
		if abs, err := filepath.Abs(dir); err == nil {
			s.Env["GIZMO_CACHE_DIR"] = abs
		}
	}
	if reg, err := agentRegistry(c); err == nil {
		if def, err := agent.DefaultRegistry(); err != nil || def != reg.Path {
			s.Env["GIZMO_AGENT_PROJECTS"] = reg.Path
		}
	}
	home, _ := os.UserHomeDir()
	var path, enable string
	var data []byte
	if sd {
		path = agent.SystemdUnitPath(configDir)
		data = agent.SystemdUnit(s)
		enable = "systemctl --user daemon-reload && systemctl --user enable --now " + agent.SystemdUnitName
	} else {
		s.LogFile = filepath.Join(home, "Library", "Logs", "gizmo-agent.log")
		path = agent.LaunchdPlistPath(home)
		data = agent.LaunchdPlist(s)
	}
	if o := c.String("output"); o != "" {
		if path, err = filepath.Abs(o); err != nil {
			return err
		}
	}
	if ld {
		enable = "launchctl bootstrap gui/$(id -u) " + shellQuote(path)
	}
	if err := agent.WriteServiceFile(path, data, c.Bool("force")); err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	if lineageBool(c, flagJSON) {
		return ui.PrintJSON(c.App.Writer, agentInstallJSON{ServiceFile: path, KeyFile: keyFile, Enable: enable})
	}
	fmt.Fprintf(c.App.ErrWriter, "gizmo: wrote %s (API key read from %s)\n", path, keyFile)
	fmt.Fprintln(c.App.Writer, enable)
	return nil
}

// installKeyFile is the key file the service reads: --api-key-file as it
// is (checked), or a key from --api-key / GIZMO_API_KEY written to
// <config>/gizmo/api-key with mode 0600.
func installKeyFile(c *cli.Context, configDir string) (string, error) {
	if p := c.String(flagAPIKeyFile); p != "" && strings.TrimSpace(c.String(flagAPIKey)) == "" {
		if _, err := apiKey(c); err != nil {
			return "", err
		}
		return filepath.Abs(p)
	}
	key := strings.TrimSpace(c.String(flagAPIKey))
	if key == "" {
		return "", exitcode.With(exitcode.Auth, errors.New("no API key for the service: "+keyHelp))
	}
	if strings.ContainsAny(key, " \t\r\n") {
		return "", exitcode.With(exitcode.Auth, errors.New("the API key holds whitespace: check how it was set"))
	}
	path := filepath.Join(configDir, "gizmo", "api-key")
	data := []byte(key + "\n")
	if old, err := os.ReadFile(path); err == nil && !bytes.Equal(old, data) && !c.Bool("force") {
		return "", exitcode.With(exitcode.Usage, fmt.Errorf("%s holds another key: pass --force to replace it, or --api-key-file %s to use it", path, path))
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("write the API key file %s: %w", path, err)
	}
	return path, nil
}
