package emulator

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// window is one key's fixed rate-limit window.
type window struct {
	start time.Time
	used  int
}

// admit counts a request of key against the rate limit and sets the
// X-RateLimit headers; false after answering 429.
func (c *current) admit(w http.ResponseWriter, key string, now time.Time) bool {
	o := c.opts
	if o.RateLimit <= 0 {
		return true
	}
	c.mu.Lock()
	win := c.windows[key]
	if win == nil {
		win = &window{}
		c.windows[key] = win
	}
	if win.start.IsZero() || !now.Before(win.start.Add(o.RateWindow)) {
		win.start, win.used = now, 0
	}
	ok := win.used < o.RateLimit
	if ok {
		win.used++
	}
	remaining := o.RateLimit - win.used
	reset := win.start.Add(o.RateWindow)
	c.mu.Unlock()

	wait := reset.Sub(now)
	secs := int64(math.Ceil(wait.Seconds()))
	if !o.NoRateHeaders {
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(o.RateLimit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		if o.ResetEpoch {
			h.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(reset.UnixMilli())/1000)), 10))
		} else {
			h.Set("X-RateLimit-Reset", strconv.FormatInt(secs, 10))
		}
	}
	if ok {
		return true
	}
	c.limited.Add(1)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	nestedError(w, http.StatusTooManyRequests, "rate_limit_exceeded",
		fmt.Sprintf("more than %d requests in %s: retry after %ds", o.RateLimit, o.RateWindow, max(secs, 1)))
	return false
}
