//go:build unix

package cache

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The cache's own temp-file creation, a few system calls cheaper per store
// than os.CreateTemp, which opens through os.OpenFile: that tries to
// register a regular file with the network poller (a failing epoll_ctl)
// and toggles its blocking mode (four fcntl calls). os.NewFile checks the
// mode once.

// createTempFile creates a new file in dir, read-write, named by pattern
// as os.CreateTemp names it (the last "*" replaced by a random number).
func createTempFile(dir, pattern string) (tempFile, error) {
	prefix, suffix := pattern, ""
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)+suffix)
		fd, err := unix.Open(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), name), nil
		case err == unix.EEXIST && try < 10000, err == unix.EINTR:
			continue
		}
		return nil, &os.PathError{Op: "createtemp", Path: filepath.Join(dir, pattern), Err: err}
	}
}
