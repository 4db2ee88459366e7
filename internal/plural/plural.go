// Package plural words counts in messages: "1 model", "2 models", "0
// models". Every count gizmo prints to people goes through Count, so no
// message says "1 models".
package plural

import "strconv"

// Count is n followed by one when n is 1 (or -1), else by many:
// Count(1, "entry", "entries") is "1 entry", Count(0, ...) "0 entries".
func Count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + Word(n, one, many)
}

// Word is one when n is 1 (or -1), else many: for a count printed apart
// from its noun ("%d of %d assets").
func Word(n int, one, many string) string {
	if n == 1 || n == -1 {
		return one
	}
	return many
}
