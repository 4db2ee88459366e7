// Package testbuf holds Buffer, a bytes.Buffer safe for concurrent use: the
// sink tests give a logger, a reporter's timer or a child process while
// they read what it wrote so far.
package testbuf

import (
	"bytes"
	"sync"
)

// Buffer collects writes from several goroutines and reads them back. The
// zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
