package api

import (
	"net/url"
	"strconv"
)

// listPath is the path of one page of a listing (assets of either
// generation, scenes): limit and offset in its query, each left out when
// it is the server's default (limit <= 0, offset 0).
func listPath(path string, limit, offset int) string {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return path
}
