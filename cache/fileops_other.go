//go:build !unix

package cache

import "os"

func createTempFile(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }
