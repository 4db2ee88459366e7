package sync

import (
	"context"
	stdsync "sync"
)

// queue is an unbounded FIFO of jobs between the resolver and the download
// workers. Unbounded so that the resolver runs ahead and the number of files
// to fetch is known early (for the progress display); a job is a few words.
type queue struct {
	mu     stdsync.Mutex
	jobs   []job
	closed bool
	ready  chan struct{} // holds a token while jobs is non-empty or closed
}

func newQueue() *queue { return &queue{ready: make(chan struct{}, 1)} }

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *queue) push(j job) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	q.signal()
}

// close tells the workers that no more jobs come.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// pop takes the next job; ok is false when the queue is closed and empty,
// or ctx is done.
func (q *queue) pop(ctx context.Context) (j job, ok bool) {
	for {
		q.mu.Lock()
		if len(q.jobs) > 0 {
			j = q.jobs[0]
			q.jobs[0] = job{}
			q.jobs = q.jobs[1:]
			more := len(q.jobs) > 0 || q.closed
			q.mu.Unlock()
			if more {
				q.signal() // wake the next worker
			}
			return j, true
		}
		if q.closed {
			q.mu.Unlock()
			q.signal()
			return job{}, false
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
			return job{}, false
		}
	}
}
