package mjcf

import (
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
