//go:build !unix

package validate

import "os"

// openFile opens name for reading and refuses special files.
func openFile(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return checkOpened(f, name)
}
