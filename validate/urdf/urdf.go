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
