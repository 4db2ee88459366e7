package agent

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestNotifierFromEnv(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	cases := []struct {
		name, socket, usec, wpid string
		nilNotifier              bool
		watchdog                 time.Duration
	}{
		{"not under systemd", "", "", "", true, 0},
		{"no watchdog", "/run/x", "", "", false, 0},
		{"watchdog for us", "/run/x", "500000", pid, false, 500 * time.Millisecond},
		{"watchdog without a PID", "/run/x", "500000", "", false, 500 * time.Millisecond},
		{"watchdog for another process", "/run/x", "500000", "1", false, 0},
		{"nonsense", "/run/x", "abc", "", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("NOTIFY_SOCKET", c.socket)
			t.Setenv("WATCHDOG_USEC", c.usec)
			t.Setenv("WATCHDOG_PID", c.wpid)
			n := NotifierFromEnv()
			if (n == nil) != c.nilNotifier {
				t.Fatalf("notifier %v, want nil: %v", n, c.nilNotifier)
			}
			if n != nil && n.watchdog != c.watchdog {
				t.Errorf("watchdog %v, want %v", n.watchdog, c.watchdog)
			}
		})
	}
	var none *Notifier
	if err := none.Send("READY=1"); err != nil {
		t.Errorf("a nil Notifier: %v", err)
	}
}

// Datagrams reach a path socket and, on Linux, an abstract one ('@').
func TestNotifierSends(t *testing.T) {
	names := []string{filepath.Join(t.TempDir(), "notify")}
	if runtime.GOOS == "linux" {
		names = append(names, "@gizmo-test-"+strconv.Itoa(os.Getpid()))
	}
	for _, name := range names {
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Setenv("NOTIFY_SOCKET", name)
		NotifierFromEnv().Ready()
		buf := make([]byte, 256)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := conn.ReadFromUnix(buf)
		conn.Close()
		if err != nil || string(buf[:n]) != "READY=1\nSTATUS=ready" {
			t.Errorf("%s: got %q, %v", name, buf[:n], err)
		}
	}
}
