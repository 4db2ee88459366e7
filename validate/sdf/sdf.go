// Package sdf checks SDFormat files (Gazebo's model format, which the
// current generation of the Gizmo API exports as "sdf") as XML: well formed,
// with file:line for what is wrong, an <sdf> root with a version, something
// to load (a model, world, actor or light), and mesh URIs that resolve. It
// does not load them in Gazebo, and gizmo places them nowhere yet.
package sdf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
)

// MaxFileSize bounds the SDF file read.
const MaxFileSize = 64 << 20

// NotPlaced is the note every report carries: SDF is checked, not placed.
const NotPlaced = "not loaded in Gazebo, and not placed: gizmo has no Gazebo project layout yet"

// Check validates the SDF file at path, read through opts.
func Check(path string, opts validate.Options) validate.Report {
	r := validate.Report{Path: path, Valid: true, Format: formats.KindSDF}
	data, err := opts.ReadFile(path, MaxFileSize)
	if err != nil {
		r.Add(validate.Problem{Severity: validate.Error, Rule: "sdf-read", File: path,
			Message: fmt.Sprintf("cannot read the SDF file: %v", err)})
		return opts.Finish(r)
	}
	return opts.Finish(check(path, data, r, opts))
}

func check(path string, data []byte, r validate.Report, opts validate.Options) validate.Report {
	r.NotChecked = append(r.NotChecked, NotPlaced)
	dec := xml.NewDecoder(bytes.NewReader(data))
	depth, loadable := 0, false
	var stack []string
	var uriLine int
	var uriText strings.Builder
	inURI := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
			}
			r.Add(validate.Problem{Severity: validate.Error, Rule: "sdf-xml", File: path, Line: line,
				Message: fmt.Sprintf("not well-formed XML: %v", strings.TrimPrefix(err.Error(), "XML syntax error on line "+fmt.Sprint(line)+": "))})
			return r
		}
		line, col := dec.InputPos()
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if depth == 0 {
				if name != "sdf" {
					r.Add(validate.Problem{Severity: validate.Error, Rule: "sdf-root", File: path, Line: line, Col: col,
						Message: fmt.Sprintf("the root element is <%s>, not <sdf>", name)})
					return r
				}
				if attr(t, "version") == "" {
					r.Add(validate.Problem{Severity: validate.Warning, Rule: "sdf-version", File: path, Line: line, Col: col,
						Element: "/sdf", Message: "<sdf> has no version attribute: Gazebo needs one (e.g. version=\"1.9\")"})
				}
			}
			if depth == 1 && (name == "model" || name == "world" || name == "actor" || name == "light") {
				loadable = true
			}
			if name == "uri" && len(stack) > 0 && stack[len(stack)-1] == "mesh" {
				inURI, uriLine = true, line
				uriText.Reset()
			}
			stack = append(stack, name)
			depth++
		case xml.EndElement:
			depth--
			stack = stack[:len(stack)-1]
			if inURI {
				checkURI(path, strings.TrimSpace(uriText.String()), uriLine, &r, opts)
			}
			inURI = false
		case xml.CharData:
			if inURI {
				uriText.Write(t)
			}
		}
	}
	if !loadable {
		r.Add(validate.Problem{Severity: validate.Error, Rule: "sdf-empty", File: path, Element: "/sdf",
			Message: "the <sdf> holds no <model>, <world>, <actor> or <light>: nothing to load"})
	}
	return r
}

// checkURI checks that a mesh URI relative to the file names a file beside
// it. model://, package://, file:// and http(s) URIs are resolved by
// Gazebo's search paths: not checked.
func checkURI(path, uri string, line int, r *validate.Report, opts validate.Options) {
	if uri == "" {
		r.Add(validate.Problem{Severity: validate.Error, Rule: "sdf-mesh-uri", File: path, Line: line, Message: "a <mesh> has an empty <uri>"})
		return
	}
	if strings.Contains(uri, "://") || filepath.IsAbs(uri) {
		return
	}
	p := filepath.Join(filepath.Dir(path), filepath.FromSlash(uri))
	if !opts.IsFile(p) {
		r.Add(validate.Problem{Severity: validate.Error, Rule: "sdf-mesh-missing", File: path, Line: line,
			Message: fmt.Sprintf("mesh %q is not beside the model (looked for %s)", uri, p)})
	}
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
