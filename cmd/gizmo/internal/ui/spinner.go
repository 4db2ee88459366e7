package ui

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Spinner shows a turning wheel and a status line on a terminal. A nil
// *Spinner (off a terminal) does nothing.
type Spinner struct {
	w    io.Writer
	mu   sync.Mutex
	text string
	stop chan struct{}
	done chan struct{}
}

// StartSpinner starts a spinner on w when on is true; otherwise it returns nil.
func StartSpinner(w io.Writer, on bool, text string) *Spinner {
	if !on {
		return nil
	}
	s := &Spinner{w: w, text: text, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *Spinner) loop() {
	defer close(s.done)
	frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		s.mu.Lock()
		fmt.Fprintf(s.w, "\r\033[K%c %s", frames[i%len(frames)], s.text)
		s.mu.Unlock()
		select {
		case <-s.stop:
			fmt.Fprint(s.w, "\r\033[K")
			return
		case <-t.C:
		}
	}
}

// Set changes the status line.
func (s *Spinner) Set(text string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.text = text
	s.mu.Unlock()
}

// End stops the spinner and clears its line.
func (s *Spinner) End() {
	if s == nil {
		return
	}
	close(s.stop)
	<-s.done
}
