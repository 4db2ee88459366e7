package mjcf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/validate"
)

// mjMINVAL is MuJoCo's smallest mass or inertia of a moving body.
const mjMINVAL = 1e-15

// Check validates the MJCF model at path (with the files it includes) and
// reports every problem MuJoCo 3.x would stop at, plus warnings for what it
// lets through but a simulation mishandles. Problems in included files carry
// that file's path and line.
func Check(path string, opts validate.Options) validate.Report {
	r := reportFor(path)
	checkData(path, nil, &r, opts)
	return opts.Finish(r)
}

// CheckBytes validates data as if it were the file at path (includes and
// asset files are looked up next to path).
func CheckBytes(path string, data []byte, opts validate.Options) validate.Report {
	if data == nil {
		data = []byte{}
	}
	r := reportFor(path)
	checkData(path, data, &r, opts)
	return opts.Finish(r)
}

func checkData(path string, data []byte, r *validate.Report, opts validate.Options) *checker {
	m := load(path, data, r, opts)
	if m.fatal {
		return nil
	}
	c := newChecker(m)
	c.run()
	if opts.Target == validate.TargetMuJoCo {
		c.target222()
	}
	markFirst(r)
	return c
}

// compilerSettings are the <compiler> attributes the checks depend on.
type compilerSettings struct {
	degree           bool
	autolimits       bool
	meshdir          string
	texturedir       string
	strippath        bool
	inertiafromgeom  string
	grouplo, grouphi int
	boundmass        float64
	boundinertia     float64
	balanceinertia   bool
}

// defClass is one default class.
type defClass struct {
	name   string
	parent *defClass
	elem   *etree.Element
	attrs  map[string]map[string]string // element tag -> attribute -> value
}

type checker struct {
	m       *model
	comp    compilerSettings
	classes map[string]*defClass
	names   map[string]map[string]*etree.Element // kind -> name -> element
	bad     map[*etree.Element]bool              // schema-rejected subtrees
	complex bool                                 // composite, flexcomp, replicate, attach: sizes not computable
	nq, nv  int
	nu, na  int
	nmocap  int
	bodies  []*etree.Element
	lrMode  string // compiler/lengthrange mode
	// composites holds the prefixes of the composites seen.
	composites map[string]bool
	flexNoted  bool // NotChecked has the flexcomp note
	// scanned is the shape of the STL file stl has just checked, read
	// through the same open file, for meshShape to take.
	scanned scannedSTL
	// scratch holds number lists parsed only to be looked at.
	scratch []float64
	// Composition (compose.go): the models <model> assets name, how the
	// files of assets copied from them resolve, the replicates expanded
	// and the joint sizes MuJoCo 3.3.8 checks keyframes against in a model
	// with one, the element that generates each generated name, and how
	// deep in attached models this checker is.
	subs       map[string]*subModel
	fileBases  map[*etree.Element]fileBase
	replicates []replicated
	nqAt, nvAt int // joint sizes read when the first replicate expands
	producer   map[kindName]*etree.Element
	depth      int
	// massless holds the bodies massCheck refused, reported in body order.
	massless map[*etree.Element]bool
	// seq counts the replicates and attaches expanded so far; sectionSeq
	// is its value when an attach copied a section element.
	seq        int
	sectionSeq map[*etree.Element]int
	// generated counts the elements and names composition generated, up
	// to maxGenerated.
	generated int
}

// scannedSTL is the shape of the STL file at path; ok is false when its
// faces could not all be read.
type scannedSTL struct {
	path string
	sh   shape
	ok   bool
}

func newChecker(m *model) *checker {
	return &checker{
		m: m,
		comp: compilerSettings{
			degree: true, autolimits: true, inertiafromgeom: "auto", grouplo: 0, grouphi: 5,
		},
		classes: map[string]*defClass{},
		names:   map[string]map[string]*etree.Element{},
		bad:     map[*etree.Element]bool{},

		fileBases: map[*etree.Element]fileBase{},
		producer:  map[kindName]*etree.Element{},
		massless:  map[*etree.Element]bool{},

		sectionSeq: map[*etree.Element]int{},
	}
}

// ignoredTop says whether e is a body, frame or replicate directly in
// <mujoco>: MuJoCo's schema admits it there and its reader ignores it.
func ignoredTop(e *etree.Element) bool {
	p := e.Parent()
	return p != nil && p.Tag == "mujoco" && p.Parent() != nil && p.Parent().Parent() == nil &&
		(e.Tag == "body" || e.Tag == "frame" || e.Tag == "replicate")
}

func (c *checker) run() {
	root := c.m.root
	c.schema(root, schemaRoot, 0)
	for k := range root.ChildElementsSeq() {
		if ignoredTop(k) && !c.bad[k] {
			c.m.warnf(k, "mjcf-ignored", "<%s> directly inside <mujoco> is ignored by MuJoCo: move it into <worldbody>", k.Tag)
		}
	}
	c.compiler()
	c.defaults()
	c.compose()
	c.collectNames()
	for _, wb := range root.SelectElements("worldbody") {
		if c.bad[wb] {
			continue
		}
		c.worldbody(wb)
	}
	c.assets()
	c.references()
	c.replicateQuirks()
	c.replicateKeys()
	c.keyframes()
	c.plugins()
}

// ---------------------------------------------------------------- schema

// schema checks e against its row of the table, and its subtree. In a
// subtree MuJoCo's reader ignores (namesOnly), only element and attribute
// names are checked, as MuJoCo's schema pass does.
func (c *checker) schema(e *etree.Element, spec *elemSpec, level int) {
	c.schemaIn(e, spec, level, false, false)
}

// schemaIn is schema with the state of the walk: namesOnly in a subtree
// MuJoCo ignores, inFrame in and below a <frame> or <replicate>, where
// MuJoCo 3.3's schema pass
// does not look (its reader then ignores unknown attributes, and refuses
// only unknown elements that stand directly in a body or frame).
func (c *checker) schemaIn(e *etree.Element, spec *elemSpec, level int, namesOnly, inFrame bool) {
	namesOnly = namesOnly || ignoredTop(e)
	for _, a := range e.Attr {
		key := a.Key
		if a.Space != "" {
			key = a.Space + ":" + a.Key
		}
		as, ok := spec.attrs[key]
		if !ok && inFrame {
			c.m.warnf(e, "mjcf-schema-attr", "unrecognized attribute '%s' on <%s>: MuJoCo 3.3 does not check attributes inside <frame> or <replicate> and ignores it; remove it or check its spelling", key, e.Tag)
			continue
		}
		if !ok {
			c.m.errorf(e, "mjcf-schema-attr", "unrecognized attribute '%s' on <%s> (MuJoCo 3.3 schema); remove it or check its spelling", key, e.Tag)
			continue
		}
		if !namesOnly {
			c.value(e, key, a.Value, as)
		}
	}
	if !namesOnly && spec.name != "worldbody" {
		for _, name := range spec.required {
			if e.SelectAttr(name) == nil {
				c.m.errorf(e, "mjcf-required", "required attribute missing: '%s' on <%s>", name, e.Tag)
			}
		}
	}
	// seen counts the children whose row allows one ('?'): only a second
	// one is reported.
	var seenBuf [8]specCount
	seen := seenBuf[:0]
	for _, t := range e.Child {
		k, isElem := t.(*etree.Element)
		if !isElem {
			continue
		}
		var ks *elemSpec
		for _, cs := range spec.children {
			if cs.name == k.Tag {
				ks = cs
				break
			}
		}
		if ks == nil && inFrame && e.Tag != "body" && e.Tag != "frame" && e.Tag != "replicate" {
			c.m.warnf(k, "mjcf-schema-element", "unrecognized element <%s> inside <%s>: MuJoCo 3.3 does not check elements there inside <frame> or <replicate> and ignores it; remove it", k.Tag, e.Tag)
			c.markBad(k)
			continue
		}
		if ks == nil {
			c.m.errorf(k, "mjcf-schema-element", "unrecognized element <%s> inside <%s> (MuJoCo 3.3 schema); remove it or move it where MuJoCo expects it", k.Tag, e.Tag)
			c.markBad(k)
			continue
		}
		n := 0
		if ks.card == '?' {
			seen, n = countOne(seen, ks)
		}
		if n == 2 {
			if inFrame {
				c.m.warnf(k, "mjcf-schema-unique", "element <%s> may appear only once inside <%s>; MuJoCo 3.3 does not check this inside <frame> or <replicate> and uses one of them", k.Tag, e.Tag)
			} else {
				c.m.errorf(k, "mjcf-schema-unique", "element <%s> may appear only once inside <%s>", k.Tag, e.Tag)
			}
		}
		// A replicate directly in <mujoco> is checked against body's row.
		c.schemaIn(k, ks, level+1, namesOnly, inFrame || k.Tag == "frame" || k.Tag == "replicate" && !ignoredTop(k))
	}
}

// specCount is how many children of one element a row matched.
type specCount struct {
	spec *elemSpec
	n    int
}

// countOne counts one more child matched by spec in counts and returns the
// counts and that count.
func countOne(counts []specCount, spec *elemSpec) ([]specCount, int) {
	for i := range counts {
		if counts[i].spec == spec {
			counts[i].n++
			return counts, counts[i].n
		}
	}
	return append(counts, specCount{spec, 1}), 1
}

func (c *checker) markBad(e *etree.Element) {
	c.bad[e] = true
	for k := range e.ChildElementsSeq() {
		c.markBad(k)
	}
}

// parseNumbers splits text as MuJoCo's ReadAttr does; ok is false when a
// token is not a number of the kind.
func parseNumbers(text string, kind valueKind) ([]float64, bool) {
	out, err := readNumbers(text, kind)
	return out, err == nil
}

// readNumbers is parseNumbers saying why a token is refused (errRange for
// an out-of-range number).
func readNumbers(text string, kind valueKind) ([]float64, error) {
	return appendNumbers(nil, text, kind)
}

// appendNumbers is readNumbers appending to dst (a scratch buffer, for a
// list only looked at); a nil dst gets a list of the exact length.
func appendNumbers(dst []float64, text string, kind valueKind) ([]float64, error) {
	n, ascii := countFields(text)
	if !ascii {
		// Unicode spaces separate too, as strings.Fields has it.
		fields := strings.Fields(text)
		out := slices.Grow(dst, len(fields))
		for _, f := range fields {
			v, err := readNumber(f, kind)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	out := slices.Grow(dst, n)
	for i := 0; i < len(text); {
		for i < len(text) && asciiSpace(text[i]) {
			i++
		}
		start := i
		for i < len(text) && !asciiSpace(text[i]) {
			i++
		}
		if start == i {
			break
		}
		v, err := readNumber(text[start:i], kind)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// readNumber reads one field of a number list.
func readNumber(f string, kind valueKind) (float64, error) {
	if kind == kindInt {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return 0, err
		}
		return float64(v), nil
	}
	return parseReal(f)
}

// asciiSpace is strings.Fields's set of ASCII separators.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// countFields counts the space-separated fields of text as strings.Fields
// would, when text is ASCII; ascii is false (and n meaningless) otherwise.
func countFields(text string) (n int, ascii bool) {
	inField := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 0x80 {
			return 0, false
		}
		sp := asciiSpace(c)
		if !sp && !inField {
			n++
		}
		inField = !sp
	}
	return n, true
}

// errRange marks a number MuJoCo's reader (strtod) refuses as out of range:
// an overflow, or an underflow to zero or to a subnormal.
var errRange = errors.New("number out of range")

func parseReal(f string) (float64, error) {
	// strconv accepts underscores, C's strtod does not.
	if strings.Contains(f, "_") {
		return 0, fmt.Errorf("bad number")
	}
	body := f
	for len(body) > 0 && (body[0] == '+' || body[0] == '-') {
		body = body[1:] // strings.TrimLeft(f, "+-"), without building its set
	}
	if lb := strings.ToLower(body); strings.HasPrefix(lb, "nan(") && strings.HasSuffix(lb, ")") {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return v, errRange
		}
		return 0, err
	}
	if v != 0 && !math.IsInf(v, 0) && !math.IsNaN(v) && math.Abs(v) < 0x1p-1022 {
		return v, errRange // subnormal
	}
	if v == 0 && nonzeroMantissa(body) {
		return v, errRange // underflow to zero
	}
	return v, nil
}

// nonzeroMantissa says whether the number text has a nonzero digit before
// its exponent.
func nonzeroMantissa(body string) bool {
	lb := strings.ToLower(body)
	digits, stop := "123456789", "e"
	if strings.HasPrefix(lb, "0x") {
		lb, digits, stop = lb[2:], "123456789abcdef", "p"
	}
	if i := strings.Index(lb, stop); i >= 0 {
		lb = lb[:i]
	}
	return strings.ContainsAny(lb, digits)
}

func (c *checker) value(e *etree.Element, attr, text string, as attrSpec) {
	switch as.kind {
	case kindKeyword:
		if !slices.Contains(as.keywords, text) {
			c.m.errorf(e, "mjcf-keyword", "invalid keyword '%s' in attribute '%s' of <%s>; use one of: %s", text, attr, e.Tag, strings.Join(as.keywords, ", "))
		}
	case kindReal, kindInt:
		vals, err := appendNumbers(c.scratch[:0], text, as.kind)
		if err == nil {
			c.scratch = vals
		}
		what := "numbers"
		if as.kind == kindInt {
			what = "integers"
		}
		if err == errRange {
			c.m.errorf(e, "mjcf-number", "number is too large or too small in attribute '%s' of <%s> (%q): MuJoCo refuses overflow, underflow and subnormal values", attr, e.Tag, text)
			return
		}
		if err != nil {
			c.m.errorf(e, "mjcf-number", "bad format in attribute '%s' of <%s>: %q is not a list of %s", attr, e.Tag, text, what)
			return
		}
		if len(vals) == 0 && as.kind == kindInt && as.min == 1 && as.max == 1 {
			c.m.errorf(e, "mjcf-number", "bad format in attribute '%s' of <%s>: empty, an integer is needed", attr, e.Tag)
			return
		}
		if len(vals) == 0 {
			if as.required {
				c.m.errorf(e, "mjcf-required", "required attribute missing: '%s' on <%s> (it is empty)", attr, e.Tag)
			}
			return
		}
		if as.max >= 0 && len(vals) > as.max {
			c.m.errorf(e, "mjcf-count", "attribute '%s' of <%s> has too much data: %d values, at most %d", attr, e.Tag, len(vals), as.max)
			return
		}
		if len(vals) < as.min {
			c.m.errorf(e, "mjcf-count", "attribute '%s' of <%s> does not have enough data: %d values, needs %d", attr, e.Tag, len(vals), as.min)
			return
		}
		if as.quat && vals[0] == 0 && vals[1] == 0 && vals[2] == 0 && vals[3] == 0 {
			c.m.errorf(e, "mjcf-quat", "zero quaternion in attribute '%s' of <%s>; use 1 0 0 0 for no rotation", attr, e.Tag)
		}
	}
}

// ---------------------------------------------------------------- compiler

// memoryRE is <size memory>'s form: an unsigned integer with an optional
// K, M, G, T, P or E suffix, or -1.
var memoryRE = regexp.MustCompile(`^\s*(-1|[0-9]+[KMGTPEkmgtpe]?)\s*$`)

func (c *checker) compiler() {
	for _, se := range c.m.root.SelectElements("size") {
		if v := se.SelectAttr("memory"); v != nil && !memoryRE.MatchString(v.Value) {
			c.m.errorf(se, "mjcf-size", "memory %q: an unsigned integer with an optional suffix K, M, G, T, P or E is expected", v.Value)
		}
	}
	for _, ce := range c.m.root.SelectElements("compiler") {
		if v := ce.SelectAttrValue("angle", ""); v != "" {
			c.comp.degree = v != "radian"
		}
		if v := ce.SelectAttrValue("autolimits", ""); v != "" {
			c.comp.autolimits = v == "true"
		}
		if v := ce.SelectAttr("assetdir"); v != nil {
			c.comp.meshdir, c.comp.texturedir = v.Value, v.Value
		}
		if v := ce.SelectAttr("meshdir"); v != nil {
			c.comp.meshdir = v.Value
		}
		if v := ce.SelectAttr("texturedir"); v != nil {
			c.comp.texturedir = v.Value
		}
		if v := ce.SelectAttrValue("strippath", ""); v != "" {
			c.comp.strippath = v == "true"
		}
		if v := ce.SelectAttrValue("inertiafromgeom", ""); v != "" {
			c.comp.inertiafromgeom = v
		}
		if v := ce.SelectAttrValue("balanceinertia", ""); v != "" {
			c.comp.balanceinertia = v == "true"
		}
		if v, ok := c.nums(ce, "inertiagrouprange"); ok && len(v) == 2 {
			c.comp.grouplo, c.comp.grouphi = int(v[0]), int(v[1])
		}
		if v, ok := c.nums(ce, "boundmass"); ok && len(v) == 1 {
			c.comp.boundmass = v[0]
		}
		if v, ok := c.nums(ce, "boundinertia"); ok && len(v) == 1 {
			c.comp.boundinertia = v[0]
		}
		for _, lr := range ce.SelectElements("lengthrange") {
			if v := lr.SelectAttrValue("mode", ""); v != "" {
				c.lrMode = v
			}
		}
		if es := ce.SelectAttr("eulerseq"); es != nil {
			if len(es.Value) != 3 {
				c.m.errorf(ce, "mjcf-compiler", "eulerseq must have length 3 (got %q): use three of x, y, z (X, Y, Z for extrinsic)", es.Value)
			} else if strings.Trim(es.Value, "xyzXYZ") != "" {
				c.m.warnf(ce, "mjcf-compiler", "eulerseq %q may contain only x, y, z, X, Y, Z; MuJoCo accepts it but cannot apply it to euler angles", es.Value)
			}
		}
		if ce.SelectAttrValue("coordinate", "") == "global" {
			c.m.errorf(ce, "mjcf-compiler", "global coordinates are no longer supported by MuJoCo 3; convert the model with MuJoCo 2.3.3 or older")
		}
	}
}

// nums reads attribute attr of e as numbers; ok is false when absent or bad
// (bad values are reported by the schema pass).
func (c *checker) nums(e *etree.Element, attr string) ([]float64, bool) {
	a := e.SelectAttr(attr)
	if a == nil {
		return nil, false
	}
	v, ok := parseNumbers(a.Value, kindReal)
	if !ok || len(v) == 0 {
		return nil, false
	}
	return v, true
}

// ---------------------------------------------------------------- defaults

func (c *checker) defaults() {
	main := &defClass{name: "main", attrs: map[string]map[string]string{}}
	c.classes["main"] = main
	for _, d := range c.m.root.SelectElements("default") {
		if c.bad[d] {
			continue
		}
		cls := main
		if n := d.SelectAttr("class"); n != nil && n.Value != "main" && n.Value != "" {
			c.m.errorf(d, "mjcf-default", "top-level default class 'main' cannot be renamed to '%s': drop the class attribute or nest the class in <default>", n.Value)
		}
		cls.elem = d
		c.defaultBody(d, cls)
	}
}

func (c *checker) defaultBody(d *etree.Element, cls *defClass) {
	for k := range d.ChildElementsSeq() {
		if c.bad[k] {
			continue
		}
		if k.Tag != "default" {
			c.orientation(k)
			attrs := cls.attrs[k.Tag]
			if attrs == nil {
				attrs = map[string]string{}
				cls.attrs[k.Tag] = attrs
			}
			for _, a := range k.Attr {
				attrs[a.Key] = a.Value
			}
			continue
		}
		n := k.SelectAttr("class")
		if n == nil || n.Value == "" {
			c.m.errorf(k, "mjcf-default", "empty default class name: a nested <default> needs a class attribute")
			continue
		}
		if _, dup := c.classes[n.Value]; dup {
			c.m.errorf(k, "mjcf-default", "repeated default class name '%s'; class names must be unique", n.Value)
			continue
		}
		sub := &defClass{name: n.Value, parent: cls, elem: k, attrs: map[string]map[string]string{}}
		c.classes[n.Value] = sub
		c.defaultBody(k, sub)
	}
}

// defaultTag is the <default> child that holds defaults for element e.
func defaultTag(e *etree.Element) string {
	p := e.Parent()
	switch {
	case p != nil && p.Tag == "equality":
		return "equality"
	case p != nil && p.Tag == "tendon":
		return "tendon"
	}
	return e.Tag
}

// classOf is the default class that applies to e: its class attribute, else
// the childclass of the nearest enclosing body or frame, else main. Unknown
// classes are reported once (by the caller of resolve) and yield main.
func (c *checker) classOf(e *etree.Element) *defClass {
	if a := e.SelectAttr("class"); a != nil {
		if cl, ok := c.classes[a.Value]; ok {
			return cl
		}
		return c.classes["main"]
	}
	for p := e.Parent(); p != nil; p = p.Parent() {
		if p.Tag != "body" && p.Tag != "frame" && p.Tag != "replicate" {
			if p.Tag == "worldbody" {
				break
			}
			continue
		}
		if a := p.SelectAttr("childclass"); a != nil {
			if cl, ok := c.classes[a.Value]; ok {
				return cl
			}
			break
		}
	}
	return c.classes["main"]
}

// attr returns the value of attribute name of e with defaults applied.
func (c *checker) attr(e *etree.Element, name string) (string, bool) {
	if a := e.SelectAttr(name); a != nil {
		return a.Value, true
	}
	tag := defaultTag(e)
	for cl := c.classOf(e); cl != nil; cl = cl.parent {
		if v, ok := cl.attrs[tag][name]; ok {
			return v, true
		}
	}
	return "", false
}

func (c *checker) attrOr(e *etree.Element, name, def string) string {
	if v, ok := c.attr(e, name); ok {
		return v
	}
	return def
}

// numsOf reads a numeric attribute with defaults applied. As MuJoCo reads
// a list into an array that already holds the class's values, a shorter
// list replaces only its first entries: size="1" on a geom whose class has
// size="1 2 3" is 1 2 3.
func (c *checker) numsOf(e *etree.Element, name string) ([]float64, bool) {
	var out []float64
	found := false
	add := func(v string) {
		n, err := appendNumbers(c.scratch[:0], v, kindReal)
		if err != nil || len(n) == 0 {
			return
		}
		c.scratch = n
		found = true
		if len(n) > len(out) {
			out = append(out, n[len(out):]...)
		}
	}
	if a := e.SelectAttr(name); a != nil {
		add(a.Value)
	}
	tag := defaultTag(e)
	for cl := c.classOf(e); cl != nil; cl = cl.parent {
		if v, ok := cl.attrs[tag][name]; ok {
			add(v)
		}
	}
	return out, found
}

// ---------------------------------------------------------------- names

// nameKinds maps an element (by tag and parent tag) to the kind of object
// its name belongs to; names are unique per kind.
func nameKind(e *etree.Element) string {
	p := e.Parent()
	pt := ""
	if p != nil {
		pt = p.Tag
	}
	switch pt {
	case "asset":
		switch e.Tag {
		case "mesh", "hfield", "skin", "texture", "material", "model":
			return e.Tag
		}
		return ""
	case "deformable":
		return e.Tag
	case "contact":
		return e.Tag
	case "equality":
		return "equality"
	case "tendon":
		return "tendon"
	case "actuator":
		return "actuator"
	case "sensor":
		return "sensor"
	case "custom":
		return e.Tag
	case "keyframe":
		return "key"
	case "extension", "default", "composite", "flexcomp", "flex", "spatial", "fixed", "skin", "tuple":
		return ""
	}
	switch e.Tag {
	case "body", "geom", "site", "camera", "light", "frame":
		return e.Tag
	case "flexcomp":
		return "flex"
	case "joint", "freejoint":
		return "joint"
	case "instance":
		return "plugin"
	}
	return ""
}

// assetName is the name MuJoCo gives an asset: its name attribute, else
// (mesh, hfield, skin, texture) the file name without folder or extension.
func assetName(e *etree.Element) string {
	if a := e.SelectAttr("name"); a != nil && a.Value != "" {
		return a.Value
	}
	switch e.Tag {
	case "mesh", "hfield", "skin", "texture":
		f := e.SelectAttrValue("file", "")
		if f == "" {
			return ""
		}
		base := filepath.Base(strings.ReplaceAll(f, "\\", "/"))
		return strings.TrimSuffix(base, filepath.Ext(base))
	}
	return ""
}

func (c *checker) collectNames() {
	c.names["body"] = map[string]*etree.Element{"world": nil}
	var walk func(e *etree.Element, inDefault bool)
	walk = func(e *etree.Element, inDefault bool) {
		if c.bad[e] || e.Tag == "default" || ignoredTop(e) {
			return
		}
		if kind := nameKind(e); kind != "" {
			name := ""
			if e.Parent() != nil && e.Parent().Tag == "asset" {
				name = assetName(e)
			} else if a := e.SelectAttr("name"); a != nil {
				name = a.Value
			}
			if name != "" {
				tbl := c.names[kind]
				if tbl == nil {
					tbl = map[string]*etree.Element{}
					c.names[kind] = tbl
				}
				if prev, dup := tbl[name]; dup && kind == "model" {
					// MuJoCo 3.3.8 lets two models share a name (an
					// attach takes the first).
				} else if dup {
					c.m.errorf(e, "mjcf-name", "repeated name '%s' in %s: names must be unique within each kind of object (a body and a geom may share one)%s", name, kind, c.producedBy(kind, name, prev))
				} else {
					tbl[name] = e
				}
			}
		}
		var gen []kindName
		switch e.Tag {
		case "composite":
			gen = c.compositeNames(e)
		case "flexcomp":
			gen = c.flexcompNames(e)
		}
		dupSeen := false
		for _, kn := range gen {
			tbl := c.names[kn.kind]
			if tbl == nil {
				tbl = map[string]*etree.Element{}
				c.names[kn.kind] = tbl
			}
			if prev, dup := tbl[kn.name]; dup {
				// One report per generating element is enough; two
				// composites (flexcomps) with one prefix (name) are
				// reported as such.
				if !dupSeen && !(prev != nil && prev.Tag == e.Tag) {
					c.m.errorf(e, "mjcf-name", "repeated name '%s' in %s: <%s> generates it, and it is already taken%s", kn.name, kn.kind, e.Tag, c.producedBy(kn.kind, kn.name, prev))
				}
				dupSeen = true
				continue
			}
			tbl[kn.name] = e
			c.producer[kn] = e
		}
		for k := range e.ChildElementsSeq() {
			walk(k, inDefault)
		}
	}
	walk(c.m.root, false)
}

// producedBy describes where the name of kind that prev holds comes from,
// when composition made it: ", also generated by <attach ...> at f:l".
func (c *checker) producedBy(kind, name string, prev *etree.Element) string {
	if p := c.producer[kindName{kind, name}]; p != nil {
		return fmt.Sprintf("; '%s' is also generated by <%s> at %s", name, p.Tag, c.m.where(p))
	}
	if prev == nil {
		return ""
	}
	if g := c.m.gen[prev]; g != nil && len(g.via) > 0 {
		return fmt.Sprintf("; the other '%s' is at %s, %s", name, c.m.where(prev), g.via[0])
	}
	return fmt.Sprintf("; the other '%s' is at %s", name, c.m.where(prev))
}

func (c *checker) has(kind, name string) bool {
	_, ok := c.names[kind][name]
	return ok
}

// ---------------------------------------------------------------- references

// ref checks that attribute attr of e (defaults applied when withDefault)
// names an object of kind.
func (c *checker) ref(e *etree.Element, attr, kind string, withDefault bool) {
	var v string
	var ok bool
	if withDefault {
		v, ok = c.attr(e, attr)
	} else {
		var a *etree.Attr
		if a = e.SelectAttr(attr); a != nil {
			v, ok = a.Value, true
		}
	}
	if !ok || v == "" {
		return
	}
	if !c.has(kind, v) {
		c.m.errorf(e, "mjcf-ref", "%s '%s' not found (attribute '%s' of <%s>); define it or fix the name", kind, v, attr, e.Tag)
	}
}

// mustRef is ref for an attribute that names a required object: present
// but empty, it names nothing, and MuJoCo reports it as not found.
func (c *checker) mustRef(e *etree.Element, attr, kind string) {
	if a := e.SelectAttr(attr); a != nil && a.Value == "" {
		c.m.errorf(e, "mjcf-ref", "%s '' not found: attribute '%s' of <%s> is empty; name the %s", kind, attr, e.Tag, kind)
		return
	}
	c.ref(e, attr, kind, false)
}

func (c *checker) require(e *etree.Element, attr string) bool {
	if a := e.SelectAttr(attr); a == nil {
		c.m.errorf(e, "mjcf-required", "required attribute missing: '%s' on <%s>", attr, e.Tag)
		return false
	}
	return true
}

func (c *checker) references() {
	root := c.m.root
	for sec := range root.ChildElementsSeq() {
		if c.bad[sec] {
			continue
		}
		switch sec.Tag {
		case "asset":
			for a := range sec.ChildElementsSeq() {
				switch a.Tag {
				case "material":
					c.classRef(a)
					if a.SelectAttrValue("name", "") == "" {
						c.m.errorf(a, "mjcf-name", "empty name in material: give the material a name")
					}
					if a.SelectAttr("texture") != nil {
						for _, l := range a.SelectElements("layer") {
							c.m.errorf(l, "mjcf-material", "a material with a texture attribute cannot have <layer> elements; use one or the other")
						}
					}
					c.ref(a, "texture", "texture", true)
					for _, l := range a.SelectElements("layer") {
						c.ref(l, "texture", "texture", false)
					}
				case "skin":
					c.ref(a, "material", "material", false)
					for _, b := range a.SelectElements("bone") {
						c.ref(b, "body", "body", false)
					}
				case "mesh":
					c.classRef(a)
					c.meshData(a)
				}
			}
		case "contact":
			for p := range sec.ChildElementsSeq() {
				switch p.Tag {
				case "pair":
					c.classRef(p)
					if cd, ok := c.numsOf(p, "condim"); ok && !validCondim[int(cd[0])] {
						c.m.errorf(p, "mjcf-condim", "invalid condim %g in contact pair: use 1, 3, 4 or 6", cd[0])
					}
					if c.require(p, "geom1") {
						c.mustRef(p, "geom1", "geom")
					}
					if c.require(p, "geom2") {
						c.mustRef(p, "geom2", "geom")
					}
				case "exclude":
					c.mustRef(p, "body1", "body")
					c.mustRef(p, "body2", "body")
				}
			}
		case "equality":
			for q := range sec.ChildElementsSeq() {
				c.classRef(q)
				switch q.Tag {
				case "connect", "weld":
					c.ref(q, "body1", "body", false)
					c.ref(q, "body2", "body", false)
					c.ref(q, "site1", "site", false)
					c.ref(q, "site2", "site", false)
					hasBody, hasSite1, hasSite2 := q.SelectAttr("body1") != nil, q.SelectAttr("site1") != nil, q.SelectAttr("site2") != nil
					bodyOK := hasBody && (q.Tag == "weld" || q.SelectAttr("anchor") != nil)
					siteOK := hasSite1 && hasSite2
					if bodyOK == siteOK || (hasBody && (hasSite1 || hasSite2)) {
						if q.Tag == "connect" {
							c.m.errorf(q, "mjcf-equality", "<connect> needs either body1 and anchor (body2 optional) or both site1 and site2, not a mix")
						} else {
							c.m.errorf(q, "mjcf-equality", "<weld> needs either body1 (body2, anchor, relpose optional) or both site1 and site2, not a mix")
						}
					}
				case "joint":
					c.mustRef(q, "joint1", "joint")
					c.ref(q, "joint2", "joint", false)
					for _, attr := range []string{"joint1", "joint2"} {
						if j := c.names["joint"][q.SelectAttrValue(attr, "")]; j != nil {
							if typ := c.jointType(j); typ != "hinge" && typ != "slide" {
								c.m.errorf(q, "mjcf-equality", "only hinge and slide joints allowed in a joint equality (%s '%s' is %s)", attr, q.SelectAttrValue(attr, ""), typ)
							}
						}
					}
				case "tendon":
					c.mustRef(q, "tendon1", "tendon")
					c.ref(q, "tendon2", "tendon", false)
				case "flex":
					c.mustRef(q, "flex", "flex")
				}
			}
		case "tendon":
			for t := range sec.ChildElementsSeq() {
				c.classRef(t)
				c.ref(t, "material", "material", true)
				c.tendonLimits(t)
				n := 0
				for w := range t.ChildElementsSeq() {
					n++
					switch w.Tag {
					case "site":
						c.mustRef(w, "site", "site")
					case "geom":
						c.mustRef(w, "geom", "geom")
						c.ref(w, "sidesite", "site", false)
					case "joint":
						c.mustRef(w, "joint", "joint")
					}
				}
				if n == 0 {
					c.m.errorf(t, "mjcf-tendon", "tendon has no path: add <site>/<geom> (spatial) or <joint> (fixed) elements")
				}
				if t.Tag == "spatial" {
					c.spatialPath(t)
				}
			}
		case "actuator":
			for a := range sec.ChildElementsSeq() {
				c.actuator(a)
			}
		case "sensor":
			for s := range sec.ChildElementsSeq() {
				c.sensor(s)
			}
		}
	}
}

func (c *checker) classRef(e *etree.Element) {
	if a := e.SelectAttr("class"); a != nil {
		if _, ok := c.classes[a.Value]; !ok {
			c.m.errorf(e, "mjcf-default", "unknown default class name '%s'; define it in <default>", a.Value)
		}
	}
}

func (c *checker) tendonLimits(t *etree.Element) {
	limited := c.attrOr(t, "limited", "auto")
	rng, hasRange := c.numsOf(t, "range")
	nonzero := hasRange && len(rng) == 2 && !(rng[0] == 0 && rng[1] == 0)
	if limited == "auto" && nonzero && !c.comp.autolimits {
		c.m.errorf(t, "mjcf-limited", "tendon has 'range' but not 'limited': set limited, or compiler autolimits=\"true\"")
	}
	if limited == "true" && len(rng) == 2 && rng[0] >= rng[1] {
		c.m.errorf(t, "mjcf-range", "invalid limits in tendon: range lower %g must be below upper %g", rng[0], rng[1])
	}
}

var actDefaults = map[string]bool{"general": true, "motor": true, "position": true, "velocity": true, "intvelocity": true, "damper": true, "cylinder": true, "muscle": true, "adhesion": true, "plugin": true}

func (c *checker) actuator(a *etree.Element) {
	c.classRef(a)
	c.nu++
	targets, present := 0, 0
	for _, t := range []struct{ attr, kind string }{
		{"joint", "joint"}, {"jointinparent", "joint"}, {"tendon", "tendon"}, {"site", "site"}, {"body", "body"}, {"cranksite", "site"},
	} {
		at := a.SelectAttr(t.attr)
		if at == nil {
			continue
		}
		present++
		if at.Value == "" {
			continue
		}
		targets++
		if !c.has(t.kind, at.Value) {
			c.m.errorf(a, "mjcf-ref", "unknown transmission target '%s' for actuator (attribute '%s' of <%s>): no %s of that name", at.Value, t.attr, a.Tag, t.kind)
		}
	}
	c.ref(a, "slidersite", "site", false)
	c.ref(a, "refsite", "site", false)
	if a.SelectAttr("cranksite") != nil && a.SelectAttr("slidersite") == nil {
		c.m.errorf(a, "mjcf-actuator", "slider-crank actuator needs slidersite as well as cranksite")
	}
	if a.SelectAttr("cranksite") == nil && (a.SelectAttr("slidersite") != nil || a.SelectAttr("cranklength") != nil) {
		c.m.errorf(a, "mjcf-actuator", "cranklength and slidersite can only be used in a slider-crank transmission (with cranksite)")
	}
	if a.SelectAttr("refsite") != nil && a.SelectAttr("site") == nil {
		c.m.errorf(a, "mjcf-actuator", "refsite can only be used with a site transmission")
	}
	if targets == 0 && a.Tag != "plugin" {
		c.m.errorf(a, "mjcf-actuator", "actuator has no transmission target: set joint, tendon, site or body")
	}
	if present > 1 {
		c.m.errorf(a, "mjcf-actuator", "actuator has more than one transmission target; keep exactly one of joint, jointinparent, tendon, site, body, cranksite")
	}
	// activation states
	dyn := "none"
	switch a.Tag {
	case "general", "plugin":
		dyn = c.attrOr(a, "dyntype", "none")
	case "position":
		if v, ok := c.numsOf(a, "timeconst"); ok && v[0] > 0 {
			dyn = "filterexact"
		}
	case "intvelocity":
		dyn = "integrator"
	case "cylinder":
		dyn = "filter"
	case "muscle":
		dyn = "muscle"
	}
	na := 0
	if dyn != "none" {
		na = 1
	}
	if v, ok := c.numsOf(a, "actdim"); ok && (a.Tag == "general" || a.Tag == "plugin") && v[0] >= 0 {
		na = int(v[0])
	}
	c.na += na
	c.actuatorGains(a)
	// ranges
	for _, pr := range []struct{ lim, rng, what string }{
		{"ctrllimited", "ctrlrange", "control range"}, {"forcelimited", "forcerange", "force range"}, {"actlimited", "actrange", "actrange"},
	} {
		lim := c.attrOr(a, pr.lim, "auto")
		if (a.Tag == "damper" || a.Tag == "adhesion") && pr.lim == "ctrllimited" || a.Tag == "intvelocity" && pr.lim == "actlimited" {
			lim = "true"
		}
		r, ok := c.numsOf(a, pr.rng)
		nonzero := ok && len(r) == 2 && !(r[0] == 0 && r[1] == 0)
		if lim == "auto" && nonzero && !c.comp.autolimits {
			c.m.errorf(a, "mjcf-limited", "actuator has '%s' but not '%s': set %s, or compiler autolimits=\"true\"", pr.rng, pr.lim, pr.lim)
		}
		if pr.lim == "actlimited" && dyn == "none" && (lim == "true" || lim == "auto" && nonzero) {
			c.m.errorf(a, "mjcf-actuator", "actrange specified but dyntype is 'none' in actuator: set a dyntype or drop actrange/actlimited")
		}
		if v, ok := c.numsOf(a, "inheritrange"); ok && v[0] > 0 && (a.Tag == "position" && pr.lim == "ctrllimited" || a.Tag == "intvelocity" && pr.lim == "actlimited") {
			continue // the range comes from the joint's
		}
		if lim == "true" {
			if !ok || len(r) != 2 {
				r = []float64{0, 0}
			}
			if r[0] >= r[1] {
				c.m.errorf(a, "mjcf-range", "invalid %s for actuator: lower %g must be below upper %g", pr.what, r[0], r[1])
			}
		}
	}
}

var sensorObj = map[string]string{
	"touch": "site", "accelerometer": "site", "velocimeter": "site", "gyro": "site", "force": "site", "torque": "site",
	"magnetometer": "site", "camprojection": "site", "rangefinder": "site", "insidesite": "site",
	"jointpos": "joint", "jointvel": "joint", "jointactuatorfrc": "joint", "ballquat": "joint", "ballangvel": "joint",
	"jointlimitpos": "joint", "jointlimitvel": "joint", "jointlimitfrc": "joint",
	"tendonpos": "tendon", "tendonvel": "tendon", "tendonactuatorfrc": "tendon", "tendonlimitpos": "tendon",
	"tendonlimitvel": "tendon", "tendonlimitfrc": "tendon",
	"actuatorpos": "actuator", "actuatorvel": "actuator", "actuatorfrc": "actuator",
	"subtreecom": "body", "subtreelinvel": "body", "subtreeangmom": "body",
}

var objKinds = map[string]string{"body": "body", "xbody": "body", "geom": "geom", "site": "site", "camera": "camera"}

func (c *checker) sensor(s *etree.Element) {
	if kind, ok := sensorObj[s.Tag]; ok {
		if c.require(s, kind) {
			c.mustRef(s, kind, kind)
		}
	}
	if kind, ok := sensorObj[s.Tag]; ok && kind == "joint" {
		if j := c.names["joint"][s.SelectAttrValue("joint", "")]; j != nil {
			typ := c.jointType(j)
			switch s.Tag {
			case "jointpos", "jointvel", "jointactuatorfrc":
				if typ != "hinge" && typ != "slide" {
					c.m.errorf(s, "mjcf-sensor", "joint must be slide or hinge in sensor <%s> (joint '%s' is %s)", s.Tag, s.SelectAttrValue("joint", ""), typ)
				}
			case "ballquat", "ballangvel":
				if typ != "ball" {
					c.m.errorf(s, "mjcf-sensor", "joint must be ball in sensor <%s> (joint '%s' is %s)", s.Tag, s.SelectAttrValue("joint", ""), typ)
				}
			}
		}
	}
	switch s.Tag {
	case "camprojection":
		if c.require(s, "camera") {
			c.ref(s, "camera", "camera", false)
		}
	case "framepos", "framequat", "framexaxis", "frameyaxis", "framezaxis", "framelinvel", "frameangvel", "framelinacc", "frameangacc":
		c.frameRef(s, "objtype", "objname", true)
		c.frameRef(s, "reftype", "refname", false)
	case "distance", "normal", "fromto":
		c.ref(s, "geom1", "geom", false)
		c.ref(s, "geom2", "geom", false)
		c.ref(s, "body1", "body", false)
		c.ref(s, "body2", "body", false)
	case "contact":
		c.ref(s, "geom1", "geom", false)
		c.ref(s, "geom2", "geom", false)
		c.ref(s, "body1", "body", false)
		c.ref(s, "body2", "body", false)
		c.ref(s, "subtree1", "body", false)
		c.ref(s, "subtree2", "body", false)
		c.ref(s, "site", "site", false)
	case "tactile":
		c.ref(s, "geom", "geom", false)
		c.ref(s, "mesh", "mesh", false)
	}
}

func (c *checker) frameRef(s *etree.Element, typeAttr, nameAttr string, required bool) {
	t := s.SelectAttrValue(typeAttr, "")
	n := s.SelectAttrValue(nameAttr, "")
	if t == "" && n == "" {
		if required {
			c.m.errorf(s, "mjcf-required", "<%s> needs %s and %s naming the measured object", s.Tag, typeAttr, nameAttr)
		}
		return
	}
	kind, ok := objKinds[t]
	if !ok {
		c.m.errorf(s, "mjcf-keyword", "invalid keyword '%s' in attribute '%s' of <%s>; use body, xbody, geom, site or camera", t, typeAttr, s.Tag)
		return
	}
	if n == "" {
		c.m.errorf(s, "mjcf-required", "<%s> has %s but no %s", s.Tag, typeAttr, nameAttr)
		return
	}
	if !c.has(kind, n) {
		c.m.errorf(s, "mjcf-ref", "%s '%s' not found (attribute '%s' of <%s>)", kind, n, nameAttr, s.Tag)
	}
}

// ---------------------------------------------------------------- assets

var meshExts = map[string]bool{".stl": true, ".obj": true, ".msh": true}

func (c *checker) assets() {
	for _, sec := range c.m.root.SelectElements("asset") {
		if c.bad[sec] {
			continue
		}
		for a := range sec.ChildElementsSeq() {
			switch a.Tag {
			case "mesh":
				if a.SelectAttr("builtin") != nil && a.SelectAttr("params") == nil {
					c.m.errorf(a, "mjcf-required", "required attribute missing: 'params' (a mesh with builtin needs it)")
				}
				if assetName(a) == "" {
					c.m.errorf(a, "mjcf-name", "empty name in mesh: a mesh without a file needs a name")
				}
				if v, ok := c.nums(a, "maxhullvert"); ok && v[0] != -1 && v[0] <= 3 {
					c.m.errorf(a, "mjcf-mesh", "maxhullvert must be larger than 3 (or -1 for no limit), got %g", v[0])
				}
				if f := a.SelectAttrValue("file", ""); f != "" {
					ext := strings.ToLower(filepath.Ext(f))
					if ct := a.SelectAttrValue("content_type", ""); ct != "" && !strings.Contains(ct, "/") {
						c.m.errorf(a, "mjcf-mesh-format", "invalid content type '%s': use a MIME type such as model/stl", ct)
						continue
					} else if ct != "" {
						// The content type, not the extension, picks MuJoCo's
						// reader, and MuJoCo's mesh cache may skip it: only
						// the file's existence is checked.
						c.file(a, f, c.dirs(a).meshdir)
						c.m.report.NotChecked = append(c.m.report.NotChecked, fmt.Sprintf("mesh '%s' with content_type %q: format and shape not checked", assetName(a), ct))
						continue
					}
					if !meshExts[ext] {
						c.m.errorf(a, "mjcf-mesh-format", "unknown or unsupported mesh file '%s': MuJoCo reads .stl, .obj and .msh; convert the mesh", f)
						continue
					}
					full, ok := c.file(a, f, c.dirs(a).meshdir)
					if ok && ext == ".stl" {
						ok = c.stl(a, f, full)
					}
					if ok {
						c.meshShape(a, assetName(a), full)
					}
				} else if a.SelectAttr("vertex") != nil {
					c.meshShape(a, assetName(a), "")
				} else if a.SelectAttr("builtin") == nil && a.SelectAttr("plugin") == nil && len(a.SelectElements("plugin")) == 0 {
					c.m.errorf(a, "mjcf-mesh", "mesh '%s' has no data: give it a file, vertex data or a builtin shape (at least 4 vertices required)", assetName(a))
				}
			case "hfield", "skin":
				if a.Tag == "skin" && a.SelectAttrValue("file", "") == "" && a.SelectAttr("vertex") == nil {
					c.m.errorf(a, "mjcf-skin", "missing data in skin: give it a file or vertex data")
				}
				if f := a.SelectAttrValue("file", ""); f != "" {
					c.file(a, f, c.dirs(a).meshdir)
				}
				if a.Tag == "hfield" {
					c.hfield(a)
					if v, ok := c.nums(a, "size"); ok && len(v) == 4 {
						for _, x := range v {
							if x <= 0 {
								c.m.errorf(a, "mjcf-size", "size parameter is not positive in hfield: all four values must be > 0")
								break
							}
						}
					}
				}
			case "texture":
				c.texture(a)
				attrs := []string{"file"}
				if a.SelectAttrValue("type", "cube") != "2d" && a.SelectAttrValue("file", "") == "" {
					attrs = []string{"fileright", "fileleft", "fileup", "filedown", "filefront", "fileback"}
				}
				for _, attr := range attrs {
					if f := a.SelectAttrValue(attr, ""); f != "" {
						if full, ok := c.file(a, f, c.dirs(a).texturedir); ok {
							c.textureImage(a, attr, f, full)
						}
					}
				}
			case "model":
				if f := a.SelectAttrValue("file", ""); f != "" {
					c.file(a, f, "")
				}
			}
		}
	}
}

// stl checks what MuJoCo's STL reader checks: a binary STL whose size
// matches its face count (MuJoCo reads no ASCII STL).
func (c *checker) stl(e *etree.Element, name, full string) bool {
	st, err := c.m.opts.Stat(full)
	if err != nil {
		return false
	}
	f, err := c.m.opts.Open(full)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [84]byte
	if st.Size() < 84 {
		c.m.errorf(e, "mjcf-stl", "invalid header in STL file '%s': shorter than 84 bytes", name)
		return false
	}
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return false
	}
	n := binary.LittleEndian.Uint32(head[80:])
	if n < 1 || n > 200000 {
		c.m.errorf(e, "mjcf-stl", "number of faces should be between 1 and 200000 in STL file '%s' (header says %d); perhaps this is an ASCII STL: MuJoCo reads only binary STL, convert it", name, n)
		return false
	}
	if want := 84 + 50*int64(n); st.Size() != want {
		c.m.errorf(e, "mjcf-stl", "STL file '%s' has wrong size: %d bytes for %d faces, expected %d; the file is truncated or ASCII", name, st.Size(), n, want)
		return false
	}
	if c.m.opts.FS != nil {
		// Files of the operating system go through meshShapeOf's cache;
		// those of another FS (a zip, where every open decompresses) are
		// read on from here rather than opened again by meshShape.
		sc := scannedSTL{path: full}
		sc.ok = scanSTLFaces(bufio.NewReaderSize(f, 512), int64(n), sc.sh.add)
		c.scanned = sc
	}
	return true
}

// dirs is the compiler settings asset a's files resolve with: the
// model's, or those of the attached model it was copied from.
func (c *checker) dirs(a *etree.Element) *compilerSettings {
	if fb, ok := c.fileBases[a]; ok {
		return &fb.comp
	}
	return &c.comp
}

// file checks that asset file name exists, resolved as MuJoCo does: as is
// when absolute; dir/name when dir is absolute; else main folder/dir/name.
// It returns the resolved path and whether the file exists.
func (c *checker) file(e *etree.Element, name, dir string) (string, bool) {
	f := name
	base, strip := c.m.dir, c.comp.strippath
	if fb, ok := c.fileBases[e]; ok {
		// An asset copied from an attached model: its own folder and
		// compiler settings.
		base, strip = fb.dir, fb.comp.strippath
	}
	if strip {
		f = filepath.Base(strings.ReplaceAll(f, "\\", "/"))
	}
	var full string
	switch {
	case filepath.IsAbs(f):
		full = f
	case filepath.IsAbs(dir):
		full = filepath.Join(dir, f)
	default:
		full = filepath.Join(base, dir, f)
	}
	st, err := c.m.opts.Stat(full)
	if err != nil || st.IsDir() {
		shown := filepath.Join(dir, f)
		c.m.errorf(e, "mjcf-file", "error opening file '%s': no such file (looked for %s); check the path and compiler meshdir/texturedir/assetdir", shown, c.m.display(full))
		return full, false
	}
	return full, true
}
