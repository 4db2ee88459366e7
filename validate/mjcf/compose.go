package mjcf

import (
	"fmt"
	"path/filepath"

	"github.com/beevik/etree"
)

// This file expands MuJoCo 3's model composition before the checks that
// depend on the body tree, names, references and masses, as MuJoCo 3.3.8's
// reader does:
//
//   - <attach model body prefix> copies body (or, without body, the whole
//     world body) of the model a <model> asset names, with every name and
//     every reference prefixed, into a frame where the <attach> stands. The
//     first attach of a model with a prefix also copies, prefixed, the
//     model's default classes, all its assets and all its actuators,
//     sensors, tendons, equalities and contact pairs and excludes (MuJoCo
//     copies them whether or not they refer to the attached body). Files
//     of the attached model resolve against its own folder and compiler
//     settings. An attach whose prefixed body already exists next to it is
//     skipped, as MuJoCo skips it; elsewhere in the tree it is an error.
//   - <replicate count offset euler sep> becomes count frames, copy i with
//     every name suffixed by sep and i, zero-padded to the digits of count.
//     Inner replicates expand first, so nested suffixes read inner then
//     outer. MuJoCo 3.3.8 also renames the references of the model's
//     actuators, sensors, tendons, equalities and contact elements, and
//     sizes keyframes by the joints it has read when the first replicate
//     expands: both quirks are reproduced (replicateQuirks, keyframes).
//   - <frame> is looked through by the body walk (collectBody), its
//     childclass applying to what it holds (classOf).
//   - <composite type="cable"> and <flexcomp> add the names of the bodies,
//     joints, geoms and sites they generate (compositeNames, flexcompNames)
//     so references to them resolve and collisions are reported.
//
// Copies remember the element they copy and the chain that produced them
// (model.gen), so their problems point at the original file and line and
// say how the element got into the model.

// maxAttachDepth bounds models attaching models attaching models.
const maxAttachDepth = 8

// maxGenerated bounds the elements composition may generate in one model
// (replicate copies, generated names): a larger model is not expanded
// further and says so in Report.NotChecked, rather than exhausting memory.
const maxGenerated = 200_000

// subModel is a model a <model> asset names, loaded for <attach>.
type subModel struct {
	name   string
	elem   *etree.Element // the <model> asset
	c      *checker       // the model's own checker (its tree, compiler settings, classes)
	copied map[string]bool
}

// fileBase says how the file of an asset copied from an attached model
// resolves: against that model's folder and compiler settings.
type fileBase struct {
	dir  string
	comp compilerSettings
}

// refAttrs are the attributes that name another element, prefixed by
// <attach> along with names.
var refAttrs = map[string]bool{
	"name": true, "class": true, "childclass": true, "mesh": true, "material": true, "hfield": true,
	"texture": true, "target": true, "joint": true, "jointinparent": true, "tendon": true, "site": true,
	"body": true, "cranksite": true, "slidersite": true, "refsite": true, "objname": true, "refname": true,
	"body1": true, "body2": true, "geom1": true, "geom2": true, "site1": true, "site2": true,
	"joint1": true, "joint2": true, "tendon1": true, "tendon2": true, "subtree1": true, "subtree2": true,
	"camera": true, "geom": true, "sidesite": true, "actuator": true, "flex": true, "prefix": true,
}

// sectionRefAttrs are the reference attributes of the elements in the
// actuator, sensor, tendon, equality and contact sections.
var sectionRefAttrs = []string{
	"joint", "jointinparent", "tendon", "site", "body", "cranksite", "slidersite", "refsite", "objname",
	"refname", "body1", "body2", "geom1", "geom2", "site1", "site2", "joint1", "joint2", "tendon1",
	"tendon2", "subtree1", "subtree2", "camera", "geom", "sidesite", "actuator", "flex",
}

// compose loads the models that <model> assets name and expands <attach>
// and <replicate> in the world body.
func (c *checker) compose() {
	c.loadModels()
	seen := map[string]*etree.Element{}
	for _, wb := range c.m.root.SelectElements("worldbody") {
		if c.bad[wb] {
			continue
		}
		c.expandIn(wb, wb, seen)
	}
}

// loadModels reads the models the <model> assets name, each checked as
// MuJoCo's reader checks it (schema, compiler, defaults) and with its own
// composition expanded.
func (c *checker) loadModels() {
	c.subs = map[string]*subModel{}
	for _, sec := range c.m.root.SelectElements("asset") {
		if c.bad[sec] {
			continue
		}
		for _, a := range sec.SelectElements("model") {
			if c.bad[a] {
				continue
			}
			c.loadModel(a)
		}
	}
}

func (c *checker) loadModel(a *etree.Element) {
	f := a.SelectAttrValue("file", "")
	if f == "" {
		return
	}
	// MuJoCo reads a model asset relative to the main model's folder.
	full := f
	if !filepath.IsAbs(f) {
		full = filepath.Join(c.m.dir, f)
	}
	if st, err := c.m.opts.Stat(full); err != nil || st.IsDir() {
		return // assets reports the missing file
	}
	if c.depth >= maxAttachDepth || c.m.visited[full] {
		c.m.errorf(a, "mjcf-attach", "model file '%s' attaches itself, directly or through other models; break the cycle", f)
		return
	}
	sub := load(c.m.display(full), nil, c.m.report, c.m.opts)
	step := fmt.Sprintf("in model '%s' read by <model> at %s", a.SelectAttrValue("name", ""), c.m.where(a))
	done := map[*source]bool{}
	for _, src := range sub.origin {
		if src != nil && !done[src] {
			done[src] = true
			src.via = append(src.via, step)
		}
	}
	if sub.fatal {
		c.m.errorf(a, "mjcf-attach", "could not parse model file '%s': fix the errors reported in it", f)
		return
	}
	for e, src := range sub.origin {
		c.m.origin[e] = src
	}
	sub.origin = c.m.origin
	sub.gen = c.m.gen
	for v := range c.m.visited {
		sub.visited[v] = true
	}
	c.m.files = append(c.m.files, full)
	c.m.files = append(c.m.files, sub.files...)
	sc := newChecker(sub)
	sc.bad = c.bad
	sc.depth = c.depth + 1
	sc.schema(sub.root, schemaRoot, 0)
	sc.compiler()
	sc.defaults()
	sc.compose()
	c.m.files = append(c.m.files, sc.m.files[len(sub.files):]...)
	name := a.SelectAttrValue("name", "")
	if name == "" {
		name = sub.root.SelectAttrValue("model", "")
	}
	if _, dup := c.subs[name]; !dup { // MuJoCo attaches the first of a name
		c.subs[name] = &subModel{name: name, elem: a, c: sc, copied: map[string]bool{}}
	}
}

// expandIn expands the <attach> and <replicate> elements below e, whose
// nearest body is body. seen maps each body name met so far to its parent
// body, for attach's check of an existing body.
func (c *checker) expandIn(e, body *etree.Element, seen map[string]*etree.Element) {
	for _, k := range e.ChildElements() {
		if c.bad[k] {
			continue
		}
		switch k.Tag {
		case "body":
			if n := k.SelectAttrValue("name", ""); n != "" {
				if _, ok := seen[n]; !ok {
					seen[n] = body
				}
			}
			c.expandIn(k, k, seen)
		case "frame":
			c.expandIn(k, body, seen)
		case "replicate":
			c.expandIn(k, body, map[string]*etree.Element{})
			for _, f := range c.replicate(k) {
				c.noteBodies(f, body, seen)
			}
		case "attach":
			if f := c.attach(k, body, seen); f != nil {
				c.noteBodies(f, body, seen)
			}
		}
	}
}

// noteBodies adds the bodies below e (whose nearest body is body) to seen.
func (c *checker) noteBodies(e, body *etree.Element, seen map[string]*etree.Element) {
	for k := range e.ChildElementsSeq() {
		switch k.Tag {
		case "body":
			if n := k.SelectAttrValue("name", ""); n != "" {
				if _, ok := seen[n]; !ok {
					seen[n] = body
				}
			}
			c.noteBodies(k, k, seen)
		case "frame":
			c.noteBodies(k, body, seen)
		}
	}
}

// copyTree deep-copies x, recording for every copied element the element
// it copies and the chain that produced it (steps first), and applies edit
// to each copy.
func (c *checker) copyTree(x *etree.Element, steps []string, edit func(*etree.Element)) *etree.Element {
	cp := x.Copy()
	c.pairCopy(x, cp, steps, edit)
	return cp
}

func (c *checker) pairCopy(x, cp *etree.Element, steps []string, edit func(*etree.Element)) {
	orig, via := x, []string(nil)
	if g := c.m.gen[x]; g != nil {
		orig, via = g.orig, g.via
	}
	c.m.gen[cp] = &generated{orig: orig, via: append(append([]string(nil), steps...), via...)}
	if c.bad[x] {
		c.bad[cp] = true
	}
	if edit != nil {
		edit(cp)
	}
	xs, cs := x.ChildElements(), cp.ChildElements()
	for i := range xs {
		c.pairCopy(xs[i], cs[i], steps, edit)
	}
}

// newFrame makes the frame that stands for producer (an <attach> or a
// copy of a <replicate>).
func (c *checker) newFrame(producer *etree.Element, via []string) *etree.Element {
	f := etree.NewElement("frame")
	orig := producer
	if g := c.m.gen[producer]; g != nil {
		orig = g.orig
		via = append(via, g.via...)
	}
	c.m.gen[f] = &generated{orig: orig, via: via}
	return f
}

// replace puts the elements news where old stands.
func replace(old *etree.Element, news []*etree.Element) {
	p := old.Parent()
	idx := old.Index()
	p.RemoveChildAt(idx)
	for i, n := range news {
		p.InsertChildAt(idx+i, n)
	}
}
