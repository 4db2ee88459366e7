package mjcf

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/xmlpos"
	"github.com/antimlabs/gizmo/validate"
)

// MaxFileSize bounds one MJCF file (the model or an included file). MuJoCo
// models are small; a larger file is refused rather than read into memory.
const MaxFileSize = 64 << 20

// source is one XML file of a model: the main file or an included one.
type source struct {
	path string // as shown in problems
	abs  string
	doc  *xmlpos.Doc
	via  []string // how the file came into the model ("included from main.xml:3"), nearest first
}

// model is a model read with its includes spliced in, as MuJoCo's include
// preprocessor leaves it, remembering where every element came from.
type model struct {
	path    string // main file, as given
	dir     string // main file's folder, absolute
	root    *etree.Element
	origin  map[*etree.Element]*source
	main    *source
	files   []string // included files, absolute, in order
	report  *validate.Report
	fatal   bool // the model could not be read at all
	visited map[string]bool
	opts    validate.Options // FS reads every file
	// gen maps an element that <attach> or <replicate> generated to the
	// element it copies and the chain that produced it.
	gen map[*etree.Element]*generated
}

// generated is where a generated element comes from.
type generated struct {
	orig *etree.Element // the element copied, which has a file and line
	via  []string       // nearest producer first
}

func (m *model) problem(sev validate.Severity, e *etree.Element, rule, format string, args ...any) {
	var via []string
	at := e
	if g := m.gen[e]; g != nil {
		at, via = g.orig, g.via
	}
	src := m.main
	if s, ok := m.origin[at]; ok {
		src = s
	}
	var doc *xmlpos.Doc
	if src != nil {
		doc = src.doc
	}
	file := m.path
	if src != nil {
		file = src.path
	}
	p := validate.At(doc, at, file, sev, rule, format, args...)
	if e != at {
		p.Element = validate.ElementPath(e)
	}
	if src != nil {
		via = append(via, src.via...)
	}
	if len(via) > 0 {
		p.Via = strings.Join(via, ", ")
	}
	m.report.Add(p)
}

func (m *model) errorf(e *etree.Element, rule, format string, args ...any) {
	m.problem(validate.Error, e, rule, format, args...)
}

func (m *model) warnf(e *etree.Element, rule, format string, args ...any) {
	m.problem(validate.Warning, e, rule, format, args...)
}

// display shows the absolute path abs relative to the main model's path as
// the caller gave it, so problems name files the way the user does.
func (m *model) display(abs string) string {
	if filepath.IsAbs(m.path) || !filepath.IsAbs(abs) {
		return abs
	}
	rel, err := filepath.Rel(m.dir, abs)
	if err != nil {
		return abs
	}
	return filepath.Join(filepath.Dir(m.path), rel)
}

// readFile reads at most MaxFileSize bytes of path through opts.FS.
func readFile(path string, opts validate.Options) ([]byte, error) {
	data, err := opts.ReadFile(path, MaxFileSize)
	if errors.Is(err, validate.ErrTooLarge) {
		return nil, fmt.Errorf("larger than %d MiB", MaxFileSize>>20)
	}
	return data, err
}

// load reads the model at path and splices its includes. Problems go to
// report; m.fatal says whether anything could be read. Files are read
// through opts.FS.
func load(path string, data []byte, report *validate.Report, opts validate.Options) *model {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	m := &model{
		path:    path,
		dir:     filepath.Dir(abs),
		origin:  map[*etree.Element]*source{},
		report:  report,
		visited: map[string]bool{abs: true},
		opts:    opts,
		gen:     map[*etree.Element]*generated{},
	}
	if data == nil {
		data, err = readFile(path, opts)
		if err != nil {
			m.fatal = true
			report.Add(validate.Problem{Severity: validate.Error, Rule: "mjcf-read", File: path,
				Message: fmt.Sprintf("cannot read the model: %v", err)})
			return m
		}
	}
	doc, err := xmlpos.Parse(data)
	if err != nil {
		m.fatal = true
		report.Add(syntaxProblem(path, err))
		return m
	}
	m.main = &source{path: path, abs: abs, doc: doc}
	m.note(m.main, doc.Root())
	m.root = doc.Root()
	if m.root.Tag != "mujoco" {
		m.fatal = true
		msg := fmt.Sprintf("root element is <%s>, not <mujoco>: this is not an MJCF model", m.root.Tag)
		if m.root.Tag == "robot" {
			msg = "root element is <robot>: MuJoCo reads this file as URDF, not MJCF; validate it as URDF"
		}
		m.errorf(m.root, "mjcf-root", "%s", msg)
		return m
	}
	m.expand(m.root, m.main)
	return m
}

func syntaxProblem(path string, err error) validate.Problem {
	p := validate.Problem{Severity: validate.Error, Rule: "mjcf-xml", File: path,
		Message: fmt.Sprintf("malformed XML: %v; fix the markup", err)}
	var se *xmlpos.SyntaxError
	if errors.As(err, &se) {
		p.Line, p.Col = se.Line, se.Col
		p.Message = fmt.Sprintf("malformed XML: %s; fix the markup", se.Msg)
	}
	return p
}

// note records src as the origin of e and everything below it.
func (m *model) note(src *source, e *etree.Element) {
	m.origin[e] = src
	for c := range e.ChildElementsSeq() {
		m.note(src, c)
	}
}

// expand replaces every <include> below e (a tree from src) with the children
// of the included file's root, as MuJoCo's XML preprocessor does.
func (m *model) expand(e *etree.Element, src *source) {
	for _, c := range e.ChildElements() {
		if c.Tag != "include" {
			m.expand(c, m.origin[c])
			continue
		}
		m.include(e, c)
	}
}

func (m *model) include(parent, inc *etree.Element) {
	from := m.origin[inc]
	idx := inc.Index()
	parent.RemoveChildAt(idx)
	if len(inc.ChildElements()) > 0 {
		m.errorf(inc, "mjcf-include", "<include> cannot have children; move them into the included file or next to the <include>")
		return
	}
	for _, a := range inc.Attr {
		if a.Key != "file" {
			m.errorf(inc, "mjcf-schema-attr", "unrecognized attribute '%s' on <include>: only 'file' is allowed", a.Key)
		}
	}
	fa := inc.SelectAttr("file")
	if fa == nil || fa.Value == "" {
		m.errorf(inc, "mjcf-include", "<include> needs a file attribute naming the file to include")
		return
	}
	name := fa.Value
	var candidates []string
	if filepath.IsAbs(name) {
		candidates = []string{name}
	} else {
		candidates = []string{filepath.Join(m.dir, name)}
		if from != nil {
			if d := filepath.Dir(from.abs); d != m.dir {
				candidates = append(candidates, filepath.Join(d, name))
			}
		}
	}
	var abs string
	for _, c := range candidates {
		if st, err := m.opts.Stat(c); err == nil && !st.IsDir() {
			abs = c
			break
		}
	}
	if abs == "" {
		looked := make([]string, len(candidates))
		for i, c := range candidates {
			looked[i] = m.display(c)
		}
		m.errorf(inc, "mjcf-include", "included file '%s' not found (looked for %s); include paths are relative to the main model's folder", name, strings.Join(looked, " and "))
		return
	}
	if m.visited[abs] {
		m.errorf(inc, "mjcf-include", "file '%s' already included (a repeated or cyclic include); include each file once", name)
		return
	}
	m.visited[abs] = true
	m.files = append(m.files, abs)
	shown := m.display(abs)
	data, err := readFile(abs, m.opts)
	if err != nil {
		m.errorf(inc, "mjcf-include", "cannot read included file '%s': %v", name, err)
		return
	}
	doc, err := xmlpos.Parse(data)
	if err != nil {
		p := syntaxProblem(shown, err)
		p.Via = strings.Join(m.chain("included from", inc), ", ")
		m.report.Add(p)
		m.errorf(inc, "mjcf-include", "included file '%s' is not well-formed XML", name)
		return
	}
	src := &source{path: shown, abs: abs, doc: doc, via: m.chain("included from", inc)}
	root := doc.Root()
	m.note(src, root)
	kids := root.ChildElements()
	if len(kids) == 0 {
		m.errorf(inc, "mjcf-include", "empty include file '%s': its root element has no children", name)
		return
	}
	for i, k := range kids {
		root.RemoveChild(k)
		parent.InsertChildAt(idx+i, k)
	}
	for _, k := range kids {
		if k.Tag == "include" {
			m.include(parent, k)
			continue
		}
		m.expand(k, src)
	}
}

// where is "file:line" of element e, for the chains problems carry.
func (m *model) where(e *etree.Element) string {
	at := e
	if g := m.gen[e]; g != nil {
		at = g.orig
	}
	src := m.main
	if s, ok := m.origin[at]; ok {
		src = s
	}
	if src == nil || src.doc == nil {
		return m.path
	}
	if l := src.doc.Line(at); l > 0 {
		return fmt.Sprintf("%s:%d", src.path, l)
	}
	return src.path
}

// chain is the via chain of something brought in by element e: what
// brought it ("included from main.xml:3"), then how e itself came in.
func (m *model) chain(what string, e *etree.Element) []string {
	out := []string{what + " " + m.where(e)}
	if g := m.gen[e]; g != nil {
		out = append(out, g.via...)
		e = g.orig
	}
	if s, ok := m.origin[e]; ok && s != nil {
		out = append(out, s.via...)
	}
	return out
}

// reportFor starts the report of the model at path.
func reportFor(path string) validate.Report {
	return validate.Report{Path: path, Format: formats.KindMJCF, Valid: true}
}
