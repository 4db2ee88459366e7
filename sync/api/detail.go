package api

import (
	"encoding/json"
	"fmt"
	"strings"
)

// validationDetail reads the body validation errors of a web framework
// (the current generation's 422s may come so): {"detail": "text"} or
// {"detail": [{"loc": ["body", "prompt"], "msg": "field required"}, ...]}.
// It returns a code ("validation_error" for a list) and the message, every
// item as "body.prompt: field required", joined by "; "; empty when raw is
// neither.
func validationDetail(raw json.RawMessage) (code, msg string) {
	if len(raw) == 0 {
		return "", ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return "", s
	}
	var items []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(raw, &items) != nil || len(items) == 0 {
		return "", ""
	}
	var parts []string
	for _, it := range items {
		var loc []string
		for _, l := range it.Loc {
			loc = append(loc, fmt.Sprint(l))
		}
		p := it.Msg
		if len(loc) > 0 {
			p = strings.Join(loc, ".") + ": " + p
		}
		parts = append(parts, p)
	}
	return "validation_error", strings.Join(parts, "; ")
}
