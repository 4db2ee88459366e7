package main

import (
	"fmt"
	"io"
	"time"

	gsync "github.com/antimlabs/gizmo/sync"
)

// rateWindower is a remote that knows the server's rate limit (*api.Client
// once an answer carried the X-RateLimit headers).
type rateWindower interface {
	RateWindow() (limit int, window time.Duration, ok bool)
}

// reportRate says, after a sync against a rate-limited server, how many
// requests a full sync of the account takes (the list pages of assets and
// of scenes, one export per file) and how long that is at the server's rate.
func reportRate(w io.Writer, remote gsync.Remote, sum *gsync.Summary) {
	rw, ok := remote.(rateWindower)
	if !ok || sum == nil {
		return
	}
	limit, window, ok := rw.RateWindow()
	if !ok {
		return
	}
	files := sum.New + sum.Skipped + sum.Failed
	requests := gsync.ListPages(sum.Seen) + sum.ScenePages + files
	d := time.Duration(float64(requests) / float64(limit) * float64(window)).Round(time.Second)
	fmt.Fprintf(w, "rate limit: %d requests per %s; a full sync of these %d files takes %d requests, about %s at that rate\n",
		limit, window, files, requests, d)
}
