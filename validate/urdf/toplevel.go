package urdf

import (
	"bytes"
	"encoding/xml"
	"io"
)

// topLevel reads the document's top level as tinyxml2 does and returns the
// bytes encoding/xml should see. tinyxml2 takes any number of top-level
// elements and stops, silently, at the first top-level text; urdfdom then
// uses the first element named robot. encoding/xml wants exactly one root.
// So well-formed top-level elements other than that <robot>, and whatever
// follows top-level text, are blanked (spaces, newlines kept, so positions
// hold). Malformed ones are kept for the parser to report, as tinyxml2
// fails on them too. When nothing needs blanking, data comes back as is.
func topLevel(data []byte) []byte {
	type span struct {
		start, end int
		name       string
	}
	var spans []span
	i := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	stop := len(data)
	skipTo := func(end string) bool {
		j := bytes.Index(data[i:], []byte(end))
		if j < 0 {
			return false
		}
		i += j + len(end)
		return true
	}
scan:
	for i < len(data) {
		c := data[i]
		switch {
		case isSpace(c):
			i++
		case bytes.HasPrefix(data[i:], []byte("<?")):
			if !skipTo(">") { // tinyxml2 ends it at the first '>'
				return data
			}
		case bytes.HasPrefix(data[i:], []byte("<!--")):
			if !skipTo("-->") {
				return data
			}
		case bytes.HasPrefix(data[i:], []byte("<![CDATA[")):
			if !skipTo("]]>") {
				return data
			}
		case bytes.HasPrefix(data[i:], []byte("<!")):
			if !skipTo(">") {
				return data
			}
		case bytes.HasPrefix(data[i:], []byte("</")):
			return data // a stray end tag: the parser reports it
		case c == '<':
			end, name, ok := elementEnd(data, i)
			if !ok {
				return data
			}
			spans = append(spans, span{i, end, name})
			i = end
		default:
			stop = i
			break scan
		}
	}
	if len(spans) <= 1 && stop == len(data) {
		return data
	}
	robot := -1
	for k, s := range spans {
		if s.name == "robot" {
			robot = k
			break
		}
	}
	if robot < 0 {
		return data // no <robot>: reported from the first root element
	}
	out := append([]byte(nil), data...)
	blank := func(from, to int) {
		for k := from; k < to; k++ {
			if out[k] != '\n' {
				out[k] = ' '
			}
		}
	}
	for k, s := range spans {
		if k != robot && wellFormed(data[s.start:s.end]) {
			blank(s.start, s.end)
		}
	}
	if stop < len(data) && spans[len(spans)-1].end <= stop {
		blank(stop, len(data))
	}
	return out
}

// elementEnd finds the end of the element starting at data[i] ('<' of its
// start tag), following nested markup and quoted attribute values. It
// returns the element's name, and ok false when the element never closes.
func elementEnd(data []byte, i int) (end int, name string, ok bool) {
	depth := 0
	first := true
	for i < len(data) {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			return 0, "", false
		}
		i += j
		rest := data[i:]
		skip := func(end string) bool {
			k := bytes.Index(data[i:], []byte(end))
			if k < 0 {
				return false
			}
			i += k + len(end)
			return true
		}
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			if !skip("-->") {
				return 0, "", false
			}
			continue
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if !skip("]]>") {
				return 0, "", false
			}
			continue
		case bytes.HasPrefix(rest, []byte("<?")):
			if !skip("?>") {
				return 0, "", false
			}
			continue
		case bytes.HasPrefix(rest, []byte("<!")):
			if !skip(">") {
				return 0, "", false
			}
			continue
		case bytes.HasPrefix(rest, []byte("</")):
			if !skip(">") {
				return 0, "", false
			}
			depth--
			if depth == 0 {
				return i, name, true
			}
			continue
		}
		// A start tag.
		k := i + 1
		for k < len(data) && !isSpace(data[k]) && data[k] != '>' && data[k] != '/' {
			k++
		}
		if first {
			name = string(data[i+1 : k])
			first = false
		}
		selfClosing := false
		for k < len(data) && data[k] != '>' {
			switch data[k] {
			case '"', '\'':
				q := bytes.IndexByte(data[k+1:], data[k])
				if q < 0 {
					return 0, "", false
				}
				k += q + 2
				continue
			case '/':
				selfClosing = k+1 < len(data) && data[k+1] == '>'
			}
			k++
		}
		if k >= len(data) {
			return 0, "", false
		}
		i = k + 1
		if !selfClosing {
			depth++
		} else if depth == 0 {
			return i, name, true
		}
	}
	return 0, "", false
}

// wellFormed reports whether b is one well-formed element.
func wellFormed(b []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}
