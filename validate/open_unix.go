//go:build unix

package validate

import (
	"os"
	"syscall"
)

// openFile opens name for reading without blocking on a FIFO that has no
// writer, and refuses special files.
func openFile(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	return checkOpened(f, name)
}
