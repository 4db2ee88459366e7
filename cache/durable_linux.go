package cache

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// syncFS writes every dirty file and directory of the file system holding
// root to stable storage (syncfs(2), which reports writeback errors since
// Linux 5.8). The directory is opened bare: os.Open would add four fcntl
// calls and a failing epoll_ctl to each flush.
func syncFS(root string) error {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", root, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return errNoSyncfs
		}
		return fmt.Errorf("syncfs %s: %w", root, err)
	}
	return nil
}
