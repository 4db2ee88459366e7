package atomicfile

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// SyncFS writes every dirty file and directory of the file system holding
// dir to stable storage with one syncfs(2), which reports writeback errors
// since Linux 5.8. It also writes other programs' dirty data on that file
// system. Where there is no syncfs it returns ErrNoSyncFS and the caller
// fsyncs what it wrote instead. The directory is opened bare: os.Open
// would add four fcntl calls and a failing epoll_ctl to each flush.
func SyncFS(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return ErrNoSyncFS
		}
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}
