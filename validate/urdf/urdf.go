// Package urdf checks URDF robot descriptions the way the programs that
// load them do: urdfdom (ROS's parser, check_urdf; the reference for what is
// an error) and Isaac Sim's URDF importer (which also opens the meshes).
//
// The rule is agreement with urdfdom 3.x: whatever makes urdfdom fail, or
// log an error while it reads the file, is an error here; whatever urdfdom
// accepts is at most a warning (negative mass, lower > upper, a zero axis, a
// non-physical inertia, an undefined material). Meshes that do not resolve
// are errors too, because Isaac Sim's importer skips them. Options.Target
// adds the checks of one simulator's importer.
package urdf

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/plural"
	"github.com/antimlabs/gizmo/internal/xmlpos"
	"github.com/antimlabs/gizmo/validate"
)

// MaxFileSize bounds what Check reads; bigger files are refused.
const MaxFileSize = 256 << 20

// Check validates the URDF file at path.
func Check(path string, opts validate.Options) validate.Report {
	data, err := readFile(path, opts)
	if err != nil {
		r := validate.Report{Path: path, Format: formats.KindURDF}
		r.Add(validate.Problem{Severity: validate.Error, Rule: "file-unreadable", File: path, Message: err.Error()})
		return opts.Finish(r)
	}
	return checkBytes(path, data, filepath.Dir(path), opts, true)
}

// readFile reads the model at path through opts.FS.
func readFile(path string, opts validate.Options) ([]byte, error) {
	data, err := opts.ReadFile(path, MaxFileSize)
	if errors.Is(err, validate.ErrTooLarge) {
		return nil, fmt.Errorf("the file is larger than %d MiB; gizmo does not read model files that big", MaxFileSize>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %v", err)
	}
	return data, nil
}

// CheckBytes validates data as a URDF named name (the name problems carry);
// dir is the folder mesh paths resolve against (the URDF's own folder).
func CheckBytes(name string, data []byte, dir string, opts validate.Options) validate.Report {
	return checkBytes(name, data, dir, opts, false)
}

// checkBytes is CheckBytes; owned says data is the checker's own (read by
// Check), to be changed in place rather than copied.
func checkBytes(name string, data []byte, dir string, opts validate.Options, owned bool) validate.Report {
	m, r := parse(name, data, dir, opts, owned)
	if m != nil {
		m.checkTree()
		m.checkPhysics()
		m.checkMeshes()
		m.checkTarget()
		m.finish()
	}
	return opts.Finish(*r)
}

// model is what the checks learn while reading a URDF.
type model struct {
	name string
	doc  *xmlpos.Doc
	dir  string
	opts validate.Options
	r    *validate.Report

	robot                          *etree.Element
	materials                      map[string]bool
	links                          []*link
	linkByName                     map[string]*link
	joints                         []*joint
	jointByName                    map[string]*joint
	droppedErrors, droppedWarnings int
	// fatal is set once urdfdom would have given up on the file; the tree
	// checks need a complete model and are skipped.
	fatal bool
}

type link struct {
	name     string
	el       *etree.Element
	inertial *inertial
	meshes   []mesh
}

type inertial struct {
	el                           *etree.Element
	mass                         float64
	ixx, ixy, ixz, iyy, iyz, izz float64
	ok                           bool
}

type mesh struct {
	el       *etree.Element
	filename string
	visual   bool // in a <visual> (MuJoCo discards those), not a <collision>
}

type joint struct {
	name, typ     string
	el            *etree.Element
	parent, child string
	axis          [3]float64
	hasAxis       bool
	lower, upper  *float64
	mimic         string
	mimicEl       *etree.Element
}

// MaxProblems bounds the problems one report lists; the rest are counted
// in a last "urdf-too-many" problem.
const MaxProblems = 500

func (m *model) add(sev validate.Severity, el *etree.Element, rule, format string, args ...any) {
	if len(m.r.Errors)+len(m.r.Warnings) >= MaxProblems {
		if sev == validate.Error {
			m.droppedErrors++
		} else {
			m.droppedWarnings++
		}
		return
	}
	m.r.Add(validate.At(m.doc, el, m.name, sev, rule, format, args...))
}

// finish adds the count of problems past MaxProblems.
func (m *model) finish() {
	if n := m.droppedErrors + m.droppedWarnings; n > 0 {
		sev := validate.Warning
		if m.droppedErrors > 0 {
			sev = validate.Error
		}
		m.r.Add(validate.Problem{Severity: sev, Rule: "urdf-too-many", File: m.name,
			Message: fmt.Sprintf("%s (%s) not listed; fix the ones above and run again", plural.Count(n, "more problem", "more problems"), plural.Count(m.droppedErrors, "error", "errors"))})
	}
}

func (m *model) errorf(el *etree.Element, rule, format string, args ...any) {
	m.add(validate.Error, el, rule, format, args...)
}

func (m *model) warnf(el *etree.Element, rule, format string, args ...any) {
	m.add(validate.Warning, el, rule, format, args...)
}

// child returns the first child element named exactly tag (no namespace
// prefix), as tinyxml2's FirstChildElement does.
func child(e *etree.Element, tag string) *etree.Element {
	for c := range e.ChildElementsSeq() {
		if c.Space == "" && c.Tag == tag {
			return c
		}
	}
	return nil
}

func children(e *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	for c := range e.ChildElementsSeq() {
		if c.Space == "" && c.Tag == tag {
			out = append(out, c)
		}
	}
	return out
}

// attr returns the attribute named exactly key, and whether it is present.
func attr(e *etree.Element, key string) (string, bool) {
	for _, a := range e.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// parse reads the document and runs every check urdfdom's parser makes.
func parse(name string, data []byte, dir string, opts validate.Options, owned bool) (*model, *validate.Report) {
	r := &validate.Report{Path: name, Format: formats.KindURDF, Valid: true}
	// urdfdom hands tinyxml2 a C string: a NUL byte ends the document.
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line, col := position(data, i)
		r.Add(validate.Problem{Severity: validate.Warning, Rule: "urdf-nul", File: name, Line: line, Col: col,
			Message: "the file has a NUL byte here; urdfdom and Isaac Sim read the file only up to it: remove it"})
		data = data[:i]
	}
	data = topLevel(sanitize(ltInValues(blankDecl(data, owned))))
	// When owned, data is Check's own (read from the file, or a copy made
	// above), and nothing writes to it from here on. No check reads text.
	doc, err := xmlpos.ParseWith(data, xmlpos.Options{Owned: owned, NoSpace: true})
	if err != nil {
		p := validate.Problem{Severity: validate.Error, Rule: "urdf-xml", File: name,
			Message: "the file is not well-formed XML: " + err.Error()}
		var se *xmlpos.SyntaxError
		if errors.As(err, &se) {
			p.Line, p.Col = se.Line, se.Col
			p.Message = "the file is not well-formed XML: " + se.Msg
			if se.Limit {
				p.Rule, p.Message = "urdf-too-large", "gizmo does not read this file: "+se.Msg
			}
		}
		r.Add(p)
		return nil, r
	}
	if p, ok := duplicateAttr(data, name); !ok {
		r.Add(p)
		return nil, r
	}
	if p, ok := prologText(data, name); !ok {
		r.Add(p)
		return nil, r
	}
	m := &model{name: name, doc: doc, dir: dir, opts: opts, r: r,
		materials: map[string]bool{}} // linkByName, jointByName: made to size by readLinks, readJoints
	root := doc.Root()
	if root.Space != "" || root.Tag != "robot" {
		m.errorf(root, "urdf-robot", "the root element is <%s>; a URDF's root must be <robot> with no namespace prefix", root.FullTag())
		return nil, r
	}
	m.robot = root
	if _, ok := attr(root, "name"); !ok {
		m.errorf(root, "urdf-robot-name", "<robot> has no name attribute; add name=\"...\" (urdfdom refuses the file)")
		m.fatal = true
	}
	if v, ok := attr(root, "version"); ok {
		if err := parseVersion(v); err != nil {
			m.errorf(root, "urdf-version", "%v", err)
			m.fatal = true
		}
	}
	m.readMaterials()
	m.readLinks()
	m.readJoints()
	return m, r
}

// blankDecl returns data with its XML declaration replaced by spaces (same
// length, so positions hold). tinyxml2, which urdfdom and Isaac Sim use,
// ignores the declaration; encoding/xml refuses versions other than 1.0
// and encodings it has no reader for, which would turn files urdfdom reads
// into errors. data is changed in place when owned, else copied.
func blankDecl(data []byte, owned bool) []byte {
	start := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		start = 3
	}
	if !bytes.HasPrefix(data[start:], []byte("<?xml")) || len(data) < start+6 || !isSpace(data[start+5]) {
		return data
	}
	// tinyxml2 ends a top-level <?...> node at its first '>'.
	end := bytes.IndexByte(data[start:], '>')
	if end < 0 {
		return data
	}
	end += start + 1
	out := data
	if !owned {
		out = make([]byte, len(data))
		copy(out, data)
	}
	for i := start; i < end; i++ {
		if out[i] != '\n' {
			out[i] = ' '
		}
	}
	return out
}

// sanitize replaces bytes that are not valid UTF-8 and control characters
// XML forbids with '?', one byte for one so positions hold. tinyxml2 reads
// bytes as they are (a Latin-1 comment, a stray control character), so
// urdfdom accepts such files; encoding/xml would refuse them.
func sanitize(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if c == '&' && !validRef(data[i:]) {
				if out == nil {
					out = append([]byte(nil), data...)
				}
				out[i] = '?'
			}
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				if out == nil {
					out = append([]byte(nil), data...)
				}
				out[i] = '?'
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
			if out == nil {
				out = append([]byte(nil), data...)
			}
			for k := 0; k < n; k++ {
				out[i+k] = '?'
			}
		}
		i += n
	}
	if out == nil {
		return data
	}
	return out
}

// ltInValues replaces a raw '<' inside a quoted attribute value with '?':
// tinyxml2 keeps it as part of the value, encoding/xml refuses the
// document. It walks the markup as the duplicate-attribute scan does.
func ltInValues(data []byte) []byte {
	var out []byte
	i := 0
	for i < len(data) {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := data[i:]
		if end, ok := nodeEnd(markupNodes, rest); ok {
			i = skipPast(data, i, end)
			continue
		}
		if bytes.HasPrefix(rest, []byte("<!")) || bytes.HasPrefix(rest, []byte("</")) {
			i = skipPast(data, i, ">")
			continue
		}
		// A start tag: quoted values run to the matching quote.
		i++
		for i < len(data) && data[i] != '>' {
			c := data[i]
			if c != '"' && c != '\'' {
				i++
				continue
			}
			end := bytes.IndexByte(data[i+1:], c)
			if end < 0 {
				return orig(out, data)
			}
			val := data[i+1 : i+1+end]
			if bytes.IndexByte(val, '<') >= 0 || hasBadRef(val) {
				if out == nil {
					out = append([]byte(nil), data...)
				}
				// tinyxml2 keeps '<' and drops an '&' that starts no
				// reference; the value shrinks, spaces after the quote
				// keep the length.
				fixed := make([]byte, 0, len(val))
			value:
				for k := 0; k < len(val); k++ {
					switch {
					case val[k] == '&' && nulRef(val[k:]):
						break value // &#0; ends the C string tinyxml2 hands on
					case val[k] == '<':
						fixed = append(fixed, '?')
					case val[k] == '&' && !validRef(val[k:]):
					default:
						fixed = append(fixed, val[k])
					}
				}
				n := copy(out[i+1:], fixed)
				out[i+1+n] = c
				for k := i + 2 + n; k < i+2+end; k++ {
					out[k] = ' '
				}
			}
			i += end + 2
		}
		i++
	}
	return orig(out, data)
}

func orig(out, data []byte) []byte {
	if out == nil {
		return data
	}
	return out
}

// nulRef reports whether b starts with a character reference to U+0000.
func nulRef(b []byte) bool {
	end := bytes.IndexByte(b, ';')
	if end < 3 || b[1] != '#' {
		return false
	}
	digits := string(b[2:end])
	base := 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	n, err := strconv.ParseUint(digits, base, 32)
	return err == nil && n == 0
}

// hasBadRef reports whether b has an '&' that starts no valid reference.
func hasBadRef(b []byte) bool {
	for k := 0; k < len(b); k++ {
		if b[k] == '&' && !validRef(b[k:]) {
			return true
		}
	}
	return false
}

// validRef reports whether b starts with a reference encoding/xml accepts:
// one of the five predefined entities or a character reference to a
// character XML allows. tinyxml2 passes any other '&' through as text.
func validRef(b []byte) bool {
	end := bytes.IndexByte(b, ';')
	if end < 2 || end > 12 {
		return false
	}
	name := string(b[1:end])
	switch name {
	case "amp", "lt", "gt", "quot", "apos":
		return true
	}
	if name[0] != '#' {
		return false
	}
	var n uint64
	var err error
	if len(name) > 1 && name[1] == 'x' {
		n, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(name[1:], 10, 32)
	}
	if err != nil {
		return false
	}
	r := rune(n)
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// duplicateAttr finds an element with the same attribute twice, which
// tinyxml2 (and so urdfdom and Isaac Sim) refuses but encoding/xml allows.
// It scans the bytes of a document already known to be well-formed.
func duplicateAttr(data []byte, name string) (validate.Problem, bool) {
	i := 0
	var names [][]byte
	for i < len(data) {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			break
		}
		i += j
		tagStart := i
		rest := data[i:]
		if end, ok := nodeEnd(markupNodes, rest); ok {
			i = skipPast(data, i, end)
			continue
		}
		switch {
		case bytes.HasPrefix(rest, []byte("<!")):
			// A DOCTYPE, possibly with an internal subset in brackets.
			depth := 0
			for i < len(data) {
				c := data[i]
				i++
				if c == '[' {
					depth++
				} else if c == ']' {
					depth--
				} else if c == '>' && depth <= 0 {
					break
				}
			}
			continue
		case bytes.HasPrefix(rest, []byte("</")):
			i = skipPast(data, i, ">")
			continue
		}
		// A start tag: the name, then name="value" pairs.
		i++
		for i < len(data) && !isSpace(data[i]) && data[i] != '>' && data[i] != '/' {
			i++
		}
		names = names[:0]
		for i < len(data) {
			for i < len(data) && isSpace(data[i]) {
				i++
			}
			if i >= len(data) || data[i] == '>' || data[i] == '/' {
				break
			}
			n0 := i
			for i < len(data) && data[i] != '=' && !isSpace(data[i]) {
				i++
			}
			attrName := data[n0:i]
			for _, prev := range names {
				if bytes.Equal(prev, attrName) {
					line, col := position(data, tagStart)
					return validate.Problem{Severity: validate.Error, Rule: "urdf-xml", File: name, Line: line, Col: col,
						Message: fmt.Sprintf("an element has the attribute %s twice; the XML parser urdfdom and Isaac Sim use (tinyxml2) refuses the file", attrName)}, false
				}
			}
			names = append(names, attrName)
			q := bytes.IndexAny(data[i:], "\"'")
			if q < 0 {
				break
			}
			i += q
			quote := data[i]
			i++
			if k := bytes.IndexByte(data[i:], quote); k >= 0 {
				i += k + 1
			} else {
				i = len(data)
			}
		}
		i = skipPast(data, i, ">")
	}
	return validate.Problem{}, true
}

// prologText finds character data before the root element, reading the
// prolog as tinyxml2 does: a <!...> node (DOCTYPE) ends at its first '>',
// so an internal subset holding markup leaves text behind. tinyxml2 then
// finds no element ("Error document empty", "Could not find the 'robot'
// element"), while encoding/xml accepts the document.
func prologText(data []byte, name string) (validate.Problem, bool) {
	i := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	skip := func(end string) bool {
		j := bytes.Index(data[i:], []byte(end))
		if j < 0 {
			return false
		}
		i += j + len(end)
		return true
	}
	for i < len(data) {
		c := data[i]
		switch {
		case isSpace(c):
			i++
			continue
		case c == '<':
			end, ok := nodeEnd(prologNodes, data[i:])
			if !ok {
				return validate.Problem{}, true // the root element
			}
			if !skip(end) {
				return validate.Problem{}, true
			}
			continue
		}
		line, col := position(data, i)
		end := i + 20
		if end > len(data) {
			end = len(data)
		}
		if k := bytes.IndexByte(data[i:end], '<'); k > 0 {
			end = i + k
		}
		return validate.Problem{Severity: validate.Error, Rule: "urdf-xml", File: name, Line: line, Col: col,
			Message: fmt.Sprintf("text %q before the root element (a DOCTYPE's internal subset with markup leaves text too); tinyxml2, the XML parser of urdfdom and Isaac Sim, then finds no <robot>: remove it", data[i:end])}, false
	}
	return validate.Problem{}, true
}

// node is a kind of XML node a byte scan passes over whole: the text that
// starts it and the text that ends it.
type node struct{ start, end string }

// prologNodes are the nodes tinyxml2 passes over before the root element,
// longest start first. tinyxml2 ends a top-level <?...> or <!...> node at
// its first '>'.
var prologNodes = []node{
	{"<![CDATA[", "]]>"},
	{"<!--", "-->"},
	{"<!", ">"},
	{"<?", ">"},
}

// markupNodes are the nodes the markup scans (ltInValues, duplicateAttr)
// pass over whole in a document's body.
var markupNodes = []node{
	{"<!--", "-->"},
	{"<![CDATA[", "]]>"},
	{"<?", "?>"},
}

// nodeEnd returns the text that ends the node of nodes that rest starts
// with; ok is false when rest starts none of them. Every node of a list
// passed here starts with "<!" or "<?".
func nodeEnd(nodes []node, rest []byte) (end string, ok bool) {
	if len(rest) < 2 || rest[1] != '!' && rest[1] != '?' {
		return "", false // every node starts with "<!" or "<?"
	}
	for _, n := range nodes {
		if bytes.HasPrefix(rest, []byte(n.start)) {
			return n.end, true
		}
	}
	return "", false
}

// skipPast returns the index just past the first end in data[i:], or
// len(data) when there is none.
func skipPast(data []byte, i int, end string) int {
	if j := bytes.Index(data[i:], []byte(end)); j >= 0 {
		return i + j + len(end)
	}
	return len(data)
}

// position is the 1-based line and column of byte i of data.
func position(data []byte, i int) (line, col int) {
	return 1 + bytes.Count(data[:i], []byte("\n")), i - bytes.LastIndexByte(data[:i], '\n')
}

// readMaterials mirrors the top-level <material> loop of urdfdom's parseURDF.
func (m *model) readMaterials() {
	for _, el := range children(m.robot, "material") {
		name, ok := attr(el, "name")
		if !ok {
			m.errorf(el, "urdf-material", "<material> has no name attribute; add name=\"...\"")
		} else {
			m.parseMaterial(el, name, false)
		}
		if m.materials[name] {
			m.errorf(el, "urdf-material-duplicate", "material %q is defined twice; urdfdom refuses the file: rename or remove one", name)
			m.fatal = true
			continue
		}
		m.materials[name] = true
	}
}

// parseMaterial checks a material's color and texture. Top-level materials
// (inline false) must have an rgba color or a texture file; inline ones in a
// <visual> may be a bare reference by name. It reports whether the
// material defines a color or texture.
func (m *model) parseMaterial(el *etree.Element, name string, inline bool) bool {
	hasTexture := false
	if t := child(el, "texture"); t != nil {
		if _, ok := attr(t, "filename"); ok {
			hasTexture = true
		}
	}
	hasRGB, badRGB := false, false
	if c := child(el, "color"); c != nil {
		if v, ok := attr(c, "rgba"); ok {
			switch res, msg := parseColor(v); res {
			case colorBad:
				badRGB = true
				m.errorf(c, "urdf-material-color", "material %q: rgba %q: %s; give four numbers between 0 and 1", name, v, msg)
			case colorNotFour:
				hasRGB = true
				sev := validate.Warning
				if m.opts.Target == validate.TargetMuJoCo {
					sev = validate.Error // MuJoCo: "attribute 'rgba' does not have enough data"
				}
				m.add(sev, c, "urdf-material-color", "material %q: rgba %q %s; urdfdom ignores it and uses the default color, MuJoCo refuses it: give r g b a", name, v, msg)
			default:
				hasRGB = true
			}
		}
	}
	if !hasRGB && !hasTexture {
		if !inline && !badRGB {
			m.errorf(el, "urdf-material-color", "material %q has neither <color rgba> nor <texture filename>; urdfdom logs an error: give it a color", name)
		}
		return false
	}
	return true
}

// readLinks mirrors the <link> loop: parseLink's errors are logged (an error
// here) but the link is kept; a repeated name is fatal.
func (m *model) readLinks() {
	els := children(m.robot, "link")
	m.linkByName = make(map[string]*link, len(els))
	m.links = make([]*link, 0, len(els))
	slab := make([]link, len(els)) // one allocation, not one per link
	for i, el := range els {
		l := &slab[i]
		l.el = el
		name, ok := attr(el, "name")
		if !ok {
			m.errorf(el, "urdf-link-name", "<link> has no name attribute; add name=\"...\"")
		} else {
			l.name = name
			m.readLink(l)
		}
		if _, dup := m.linkByName[l.name]; dup {
			m.errorf(el, "urdf-link-duplicate", "link %q is defined twice; urdfdom refuses the file: link names must be unique", l.name)
			m.fatal = true
			continue
		}
		m.linkByName[l.name] = l
		m.links = append(m.links, l)
	}
	if len(els) == 0 {
		m.errorf(m.robot, "urdf-no-links", "the robot has no <link>; urdfdom refuses a URDF without links")
		m.fatal = true
	}
}

func (m *model) readLink(l *link) {
	if el := child(l.el, "inertial"); el != nil {
		l.inertial = m.readInertial(l, el)
	}
	for _, v := range children(l.el, "visual") {
		m.readVisual(l, v, true)
	}
	for _, c := range children(l.el, "collision") {
		m.readVisual(l, c, false)
	}
}

// ownerName names what a message is about (`link "a" visual`, `joint
// "j"`); it is formatted, as a fmt.Stringer, only when a message is made.
type ownerName struct {
	kind, name, part string
}

func (o ownerName) String() string {
	if o.part == "" {
		return fmt.Sprintf("%s %q", o.kind, o.name)
	}
	return fmt.Sprintf("%s %q %s", o.kind, o.name, o.part)
}

func (m *model) readPose(owner ownerName, el *etree.Element) bool {
	ok := true
	for _, key := range []string{"xyz", "rpy"} {
		if v, has := attr(el, key); has {
			if _, err := parseVec3(v); err != nil {
				m.errorf(el, "urdf-number", "%s: <origin %s=%q>: %v", owner, key, v, err)
				ok = false
			}
		}
	}
	return ok
}

func (m *model) readInertial(l *link, el *etree.Element) *inertial {
	in := &inertial{el: el}
	owner := ownerName{"link", l.name, "inertial"}
	if o := child(el, "origin"); o != nil {
		m.readPose(owner, o)
	}
	ok := true
	if mass := child(el, "mass"); mass == nil {
		m.errorf(el, "urdf-inertial", "%s has no <mass>; add <mass value=\"...\"/>", owner)
		ok = false
	} else if v, has := attr(mass, "value"); !has {
		m.errorf(mass, "urdf-inertial", "%s: <mass> has no value attribute", owner)
		ok = false
	} else if f, good := parseDouble(v); !good {
		m.errorf(mass, "urdf-number", "%s: mass %q is not a number%s", owner, v, hint(v))
		ok = false
	} else {
		in.mass = f
	}
	inertia := child(el, "inertia")
	if inertia == nil {
		m.errorf(el, "urdf-inertial", "%s has no <inertia>; add <inertia ixx=\"\" ixy=\"\" ixz=\"\" iyy=\"\" iyz=\"\" izz=\"\"/>", owner)
		return in
	}
	dst := []*float64{&in.ixx, &in.ixy, &in.ixz, &in.iyy, &in.iyz, &in.izz}
	for i, key := range []string{"ixx", "ixy", "ixz", "iyy", "iyz", "izz"} {
		v, has := attr(inertia, key)
		if !has {
			m.errorf(inertia, "urdf-inertial", "%s: <inertia> has no %s attribute; give all six of ixx ixy ixz iyy iyz izz", owner, key)
			ok = false
			continue
		}
		f, good := parseDouble(v)
		if !good {
			m.errorf(inertia, "urdf-number", "%s: %s %q is not a number%s", owner, key, v, hint(v))
			ok = false
			continue
		}
		*dst[i] = f
	}
	in.ok = ok
	return in
}

// readVisual checks a <visual> (visual true) or <collision>.
func (m *model) readVisual(l *link, el *etree.Element, visual bool) {
	kind := "collision"
	if visual {
		kind = "visual"
	}
	owner := ownerName{"link", l.name, kind}
	if o := child(el, "origin"); o != nil {
		m.readPose(owner, o)
	}
	g := child(el, "geometry")
	if g == nil {
		m.errorf(el, "urdf-geometry", "%s has no <geometry>; urdfdom cannot read it", owner)
	} else {
		m.readGeometry(l, owner, g, visual)
	}
	if !visual {
		return
	}
	mat := child(el, "material")
	if mat == nil {
		return
	}
	name, ok := attr(mat, "name")
	if !ok {
		m.errorf(mat, "urdf-material", "%s: <material> has no name attribute; add name=\"...\"", owner)
		return
	}
	defined := m.parseMaterial(mat, name, true)
	if name == "" {
		return
	}
	if m.materials[name] {
		return
	}
	if defined {
		m.materials[name] = true
		return
	}
	m.warnf(mat, "urdf-material-undefined", "%s uses material %q, which is not defined (yet): define it at the top of the file with <material name=%q><color rgba=\"r g b a\"/></material>", owner, name, name)
}

func (m *model) readGeometry(l *link, owner ownerName, g *etree.Element, visual bool) {
	shapes := g.ChildElements()
	if len(shapes) == 0 {
		m.errorf(g, "urdf-geometry", "%s: <geometry> is empty; give it a <box>, <cylinder>, <sphere> or <mesh>", owner)
		return
	}
	s := shapes[0]
	num := func(key string) (float64, bool) {
		v, has := attr(s, key)
		if !has {
			return 0, false
		}
		f, ok := parseDouble(v)
		if !ok {
			m.errorf(s, "urdf-number", "%s: <%s %s=%q>: not a number%s", owner, s.Tag, key, v, hint(v))
			return 0, false
		}
		return f, true
	}
	positive := func(key string, f float64) {
		if f <= 0 {
			m.warnf(s, "urdf-geometry-size", "%s: <%s %s=\"%g\">: sizes must be positive; simulators drop or misbehave on this shape", owner, s.Tag, key, f)
		}
	}
	tag := s.FullTag()
	switch tag {
	case "sphere":
		if _, has := attr(s, "radius"); !has {
			m.errorf(s, "urdf-geometry", "%s: <sphere> has no radius attribute", owner)
		} else if f, ok := num("radius"); ok {
			positive("radius", f)
		}
	case "box":
		v, has := attr(s, "size")
		if !has {
			m.errorf(s, "urdf-geometry", "%s: <box> has no size attribute; add size=\"x y z\"", owner)
			return
		}
		size, err := parseVec3(v)
		if err != nil {
			m.errorf(s, "urdf-number", "%s: <box size=%q>: %v", owner, v, err)
			return
		}
		for i, f := range size {
			positive([]string{"size x", "size y", "size z"}[i], f)
		}
	case "cylinder":
		_, hasL := attr(s, "length")
		_, hasR := attr(s, "radius")
		if !hasL || !hasR {
			m.errorf(s, "urdf-geometry", "%s: <cylinder> needs both length and radius", owner)
			return
		}
		if f, ok := num("length"); ok {
			positive("length", f)
		} else {
			return
		}
		if f, ok := num("radius"); ok {
			positive("radius", f)
		}
	case "mesh":
		fn, has := attr(s, "filename")
		if !has {
			m.errorf(s, "urdf-geometry", "%s: <mesh> has no filename attribute", owner)
			return
		}
		if v, has := attr(s, "scale"); has {
			if _, err := parseVec3(v); err != nil {
				m.errorf(s, "urdf-number", "%s: <mesh scale=%q>: %v", owner, v, err)
			}
		}
		l.meshes = append(l.meshes, mesh{el: s, filename: fn, visual: visual})
	default:
		extra := ""
		if tag == "capsule" {
			extra = " (Isaac Sim and PyBullet read <capsule>, but urdfdom and ROS tools do not: use a cylinder or a mesh)"
		}
		m.errorf(s, "urdf-geometry", "%s: unknown geometry <%s>; URDF knows box, cylinder, sphere and mesh%s", owner, tag, extra)
	}
}

var jointTypes = map[string]bool{"revolute": true, "continuous": true, "prismatic": true, "fixed": true, "floating": true, "planar": true}

// readJoints mirrors the <joint> loop: any error in a joint is fatal.
func (m *model) readJoints() {
	els := children(m.robot, "joint")
	m.jointByName = make(map[string]*joint, len(els))
	for _, el := range els {
		j, ok := m.readJoint(el)
		if !ok {
			m.fatal = true
			continue
		}
		if _, dup := m.jointByName[j.name]; dup {
			m.errorf(el, "urdf-joint-duplicate", "joint %q is defined twice; urdfdom refuses the file: joint names must be unique", j.name)
			m.fatal = true
			continue
		}
		m.jointByName[j.name] = j
		m.joints = append(m.joints, j)
	}
}

func (m *model) readJoint(el *etree.Element) (*joint, bool) {
	j := &joint{el: el}
	ok := true
	name, has := attr(el, "name")
	if !has {
		m.errorf(el, "urdf-joint-name", "<joint> has no name attribute; add name=\"...\" (urdfdom refuses the file)")
		ok = false
	}
	j.name = name
	owner := ownerName{"joint", name, ""}
	if o := child(el, "origin"); o != nil {
		if !m.readPose(owner, o) {
			ok = false
		}
	}
	if p := child(el, "parent"); p != nil {
		j.parent, _ = attr(p, "link")
	}
	if c := child(el, "child"); c != nil {
		j.child, _ = attr(c, "link")
	}
	typ, has := attr(el, "type")
	j.typ = typ
	if !has {
		m.errorf(el, "urdf-joint-type", "%s has no type; give type=\"revolute|continuous|prismatic|fixed|floating|planar\"", owner)
		return j, false
	}
	if !jointTypes[typ] {
		extra := ""
		if typ == "spherical" || typ == "ball" {
			extra = " (Isaac Sim's importer reads spherical, urdfdom does not)"
		}
		m.errorf(el, "urdf-joint-type", "%s has unknown type %q; URDF joint types are revolute, continuous, prismatic, fixed, floating and planar%s", owner, typ, extra)
		return j, false
	}
	if typ != "fixed" && typ != "floating" {
		j.axis = [3]float64{1, 0, 0}
		if a := child(el, "axis"); a != nil {
			j.axis = [3]float64{}
			if v, has := attr(a, "xyz"); has {
				ax, err := parseVec3(v)
				if err != nil {
					m.errorf(a, "urdf-number", "%s: <axis xyz=%q>: %v", owner, v, err)
					ok = false
				}
				j.axis = ax
			}
			j.hasAxis = true
			if j.axis == [3]float64{} && ok {
				m.warnf(a, "urdf-axis-zero", "%s has a zero axis; urdfdom accepts it but the joint cannot move: give a unit vector like xyz=\"0 0 1\"", owner)
			}
		}
	}
	if lim := child(el, "limit"); lim != nil {
		if !m.readLimit(j, owner, lim) {
			ok = false
		}
	} else if typ == "revolute" || typ == "prismatic" {
		m.errorf(el, "urdf-joint-limit", "%s is %s but has no <limit>; add <limit lower=\"...\" upper=\"...\" effort=\"...\" velocity=\"...\"/> (urdfdom refuses the file)", owner, typ)
		ok = false
	}
	if s := child(el, "safety_controller"); s != nil {
		for _, key := range []string{"soft_lower_limit", "soft_upper_limit", "k_position", "k_velocity"} {
			v, has := attr(s, key)
			if !has {
				if key == "k_velocity" {
					m.errorf(s, "urdf-joint-safety", "%s: <safety_controller> has no k_velocity, which urdfdom requires", owner)
					ok = false
				}
				continue
			}
			if _, good := parseDouble(v); !good {
				m.errorf(s, "urdf-number", "%s: <safety_controller %s=%q>: not a number%s", owner, key, v, hint(v))
				ok = false
			}
		}
	}
	if c := child(el, "calibration"); c != nil {
		ok = m.optionalNumbers(c, owner, "rising", "falling") && ok
	}
	if mi := child(el, "mimic"); mi != nil {
		if v, has := attr(mi, "joint"); !has {
			m.errorf(mi, "urdf-joint-mimic", "%s: <mimic> has no joint attribute; name the joint to mimic", owner)
			ok = false
		} else {
			j.mimic, j.mimicEl = v, mi
		}
		ok = m.optionalNumbers(mi, owner, "multiplier", "offset") && ok
	}
	if d := child(el, "dynamics"); d != nil {
		_, hasD := attr(d, "damping")
		_, hasF := attr(d, "friction")
		ok = m.optionalNumbers(d, owner, "damping", "friction") && ok
		if !hasD && !hasF {
			m.errorf(d, "urdf-joint-dynamics", "%s: <dynamics> has neither damping nor friction; give one or drop the element (urdfdom refuses the file)", owner)
			ok = false
		}
	}
	return j, ok
}

// optionalNumbers reports, as urdfdom refuses them, attributes of el among
// keys that are present but not numbers. It returns false if any was bad.
func (m *model) optionalNumbers(el *etree.Element, owner ownerName, keys ...string) bool {
	ok := true
	for _, key := range keys {
		if v, has := attr(el, key); has {
			if _, good := parseDouble(v); !good {
				m.errorf(el, "urdf-number", "%s: <%s %s=%q>: not a number%s", owner, el.Tag, key, v, hint(v))
				ok = false
			}
		}
	}
	return ok
}

func (m *model) readLimit(j *joint, owner ownerName, lim *etree.Element) bool {
	ok := true
	for _, key := range []string{"lower", "upper", "effort", "velocity"} {
		v, has := attr(lim, key)
		if !has {
			if key == "effort" || key == "velocity" {
				m.errorf(lim, "urdf-joint-limit", "%s: <limit> has no %s attribute, which urdfdom requires", owner, key)
				ok = false
			}
			continue
		}
		f, good := parseDouble(v)
		if !good {
			m.errorf(lim, "urdf-number", "%s: <limit %s=%q>: not a number%s", owner, key, v, hint(v))
			ok = false
			continue
		}
		switch key {
		case "lower":
			j.lower = &f
		case "upper":
			j.upper = &f
		}
	}
	if ok && (j.typ == "revolute" || j.typ == "prismatic") {
		lo, hi := 0.0, 0.0
		if j.lower != nil {
			lo = *j.lower
		}
		if j.upper != nil {
			hi = *j.upper
		}
		if lo > hi {
			m.warnf(lim, "urdf-limit-order", "%s: lower limit %g is above upper limit %g; urdfdom accepts it but the joint cannot move: swap them", owner, lo, hi)
		}
	}
	return ok
}

// checkTree mirrors urdfdom's initTree and initRoot, then looks for what
// urdfdom lets through (a link with two parents, cycles, links the root
// cannot reach) and warns about it.
func (m *model) checkTree() {
	if m.fatal {
		return
	}
	sorted := append([]*joint(nil), m.joints...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].name < sorted[b].name })
	parentOf := map[string]string{}
	treeOK := true
	for _, j := range sorted {
		if j.parent == "" || j.child == "" {
			m.errorf(j.el, "urdf-joint-links", "joint %q is missing a parent or child link; give <parent link=\"...\"/> and <child link=\"...\"/>", j.name)
			treeOK = false
			continue
		}
		if m.linkByName[j.child] == nil {
			m.errorf(j.el, "urdf-joint-links", "joint %q: child link %q is not defined; add <link name=%q/> or fix the name", j.name, j.child, j.child)
			treeOK = false
			continue
		}
		if m.linkByName[j.parent] == nil {
			m.errorf(j.el, "urdf-joint-links", "joint %q: parent link %q is not defined; add <link name=%q/> or fix the name", j.name, j.parent, j.parent)
			treeOK = false
			continue
		}
		parentOf[j.child] = j.parent
	}
	if !treeOK {
		return
	}
	var roots []*link
	for _, l := range m.sortedLinks() {
		if _, has := parentOf[l.name]; !has {
			roots = append(roots, l)
		}
	}
	switch {
	case len(roots) == 0:
		m.errorf(m.robot, "urdf-tree", "no root link: every link has a parent, so the joints form a cycle; the links must form one tree")
		return
	case len(roots) > 1:
		names := make([]string, 0, min(len(roots), maxListed))
		for _, l := range roots[:min(len(roots), maxListed)] {
			names = append(names, l.name)
		}
		m.errorf(roots[1].el, "urdf-tree", "more than one root link (%s): join them with joints so that the links form one tree (a link with two parents also shows as this)", listNames(names, len(roots), ", "))
		return
	}
	// urdfdom is satisfied; look for what it misses.
	parents := map[string][]*joint{}
	for _, j := range m.joints {
		parents[j.child] = append(parents[j.child], j)
	}
	for _, l := range m.links {
		if ps := parents[l.name]; len(ps) > 1 {
			sev := validate.Warning
			if m.opts.Target == validate.TargetMuJoCo {
				sev = validate.Error
			}
			m.add(sev, ps[1].el, "urdf-tree-parents", "link %q is the child of %d joints (%q and %q); urdfdom keeps one, MuJoCo refuses the file: give each link one parent joint", l.name, len(ps), ps[0].name, ps[1].name)
		}
	}
	if cyc := m.cycleFrom(roots[0].name); len(cyc) > 0 {
		m.warnf(m.linkByName[cyc[0]].el, "urdf-tree-cycle", "the joints form a cycle through links %s; urdfdom's parser accepts it (the root is found) but anything that walks the tree loops forever (check_urdf's printout, robot_state_publisher): give each link one parent joint", listNames(cyc, len(cyc), " → "))
	}
	reach := m.reachable(roots[0].name)
	for _, l := range m.links {
		if !reach[l.name] {
			m.warnf(l.el, "urdf-tree-unreachable", "link %q cannot be reached from the root link %q (its joints form a cycle); simulators drop it: fix the joints so the links form one tree", l.name, roots[0].name)
		}
	}
}

// cycleFrom returns the links of a cycle reachable from root along
// parent→child joints (first link repeated at the end), or nil.
func (m *model) cycleFrom(root string) []string {
	kids := map[string][]string{}
	for _, j := range m.joints {
		kids[j.parent] = append(kids[j.parent], j.child)
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	type frame struct {
		name string
		next int
	}
	stack := []frame{{root, 0}}
	color[root] = grey
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == len(kids[top.name]) {
			color[top.name] = black
			stack = stack[:len(stack)-1]
			continue
		}
		c := kids[top.name][top.next]
		top.next++
		switch color[c] {
		case white:
			color[c] = grey
			stack = append(stack, frame{c, 0})
		case grey:
			// The cycle is the stack from c up; built from the top down
			// and reversed (prepending would be quadratic in its length).
			var cyc []string
			for i := len(stack) - 1; i >= 0; i-- {
				cyc = append(cyc, stack[i].name)
				if stack[i].name == c {
					break
				}
			}
			slices.Reverse(cyc)
			return append(cyc, c)
		}
	}
	return nil
}

// maxListed is how many names a message lists: a model with two million
// unconnected links gets a line, not 22 MB of names.
const maxListed = 10

// listNames quotes the first maxListed of names, joined with sep, and says
// how many of total were left out.
func listNames(names []string, total int, sep string) string {
	quoted := make([]string, 0, min(len(names), maxListed))
	for _, n := range names[:min(len(names), maxListed)] {
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	out := strings.Join(quoted, sep)
	if more := total - len(quoted); more > 0 {
		out += fmt.Sprintf("%s… and %d more", sep, more)
	}
	return out
}

func (m *model) sortedLinks() []*link {
	out := append([]*link(nil), m.links...)
	sort.Slice(out, func(a, b int) bool { return out[a].name < out[b].name })
	return out
}

// reachable lists the links reachable from root along parent→child joints.
func (m *model) reachable(root string) map[string]bool {
	kids := map[string][]string{}
	for _, j := range m.joints {
		kids[j.parent] = append(kids[j.parent], j.child)
	}
	seen := map[string]bool{root: true}
	stack := []string{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range kids[n] {
			if !seen[c] {
				seen[c] = true
				stack = append(stack, c)
			}
		}
	}
	return seen
}
