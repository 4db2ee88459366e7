package cache

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncFS writes every dirty file and directory of the file system holding
// root to stable storage (syncfs(2), which reports writeback errors since
// Linux 5.8).
func syncFS(root string) error {
	d, err := os.Open(root)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return errNoSyncfs
		}
		return fmt.Errorf("syncfs %s: %w", root, err)
	}
	return nil
}
