package ui

import (
	"encoding/json"
	"io"
)

// PrintJSON writes v as indented JSON and a newline, without HTML escaping.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// PrintJSONLine writes v as one line of JSON (JSON Lines: for commands
// that report as they go), without HTML escaping.
func PrintJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
