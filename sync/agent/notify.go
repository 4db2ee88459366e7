package agent

import (
	"context"
	"net"
	"os"
	"strconv"
	"time"
)

// Notifier speaks systemd's sd_notify protocol: newline-separated
// VARIABLE=value assignments in one datagram to the unix socket named by
// $NOTIFY_SOCKET (a leading '@' names an abstract socket, which Go's
// net package understands as is). A nil *Notifier does nothing, so the
// agent calls it unconditionally.
type Notifier struct {
	addr     *net.UnixAddr
	watchdog time.Duration // WATCHDOG_USEC, 0 when not asked for
}

// NotifierFromEnv returns a Notifier for $NOTIFY_SOCKET, or nil when it is
// not set (not started by systemd with Type=notify). WATCHDOG_USEC is
// honoured when WATCHDOG_PID is unset or names this process.
func NotifierFromEnv() *Notifier {
	sock := os.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		return nil
	}
	n := &Notifier{addr: &net.UnixAddr{Name: sock, Net: "unixgram"}}
	if us, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64); err == nil && us > 0 {
		pid := os.Getenv("WATCHDOG_PID")
		if pid == "" || pid == strconv.Itoa(os.Getpid()) {
			n.watchdog = time.Duration(us) * time.Microsecond
		}
	}
	return n
}

// Send sends one notification, e.g. "READY=1".
func (n *Notifier) Send(state string) error {
	if n == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// Ready says the first pass is done.
func (n *Notifier) Ready() { n.Send("READY=1\nSTATUS=ready") }

// Reloading says a reload starts; Ready says it is over.
func (n *Notifier) Reloading() {
	n.Send("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(monotonicUsec(), 10))
}

// Stopping says the agent shuts down.
func (n *Notifier) Stopping() { n.Send("STOPPING=1") }

// Watchdog sends WATCHDOG=1 every half of WATCHDOG_USEC until ctx ends,
// when systemd asked for it.
func (n *Notifier) Watchdog(ctx context.Context) {
	if n == nil || n.watchdog <= 0 {
		return
	}
	t := time.NewTicker(n.watchdog / 2)
	defer t.Stop()
	n.Send("WATCHDOG=1")
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.Send("WATCHDOG=1")
		}
	}
}
