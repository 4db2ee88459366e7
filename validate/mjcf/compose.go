package mjcf

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

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

// replicate expands the <replicate> k (whose own replicates are expanded)
// into its copies and returns them.
func (c *checker) replicate(k *etree.Element) []*etree.Element {
	cnt, err := strconv.Atoi(strings.TrimSpace(k.SelectAttrValue("count", "")))
	if err != nil {
		c.markBad(k) // reported by the schema pass
		return nil
	}
	cc := k.SelectAttr("childclass")
	if cc != nil {
		if _, ok := c.classes[cc.Value]; !ok {
			c.m.errorf(k, "mjcf-default", "unknown default childclass '%s' on <replicate>; define it in <default>", cc.Value)
			cc = nil
		}
	}
	if size := countElements(k) * cnt; cnt > 0 && (size > maxGenerated || c.generated+size > maxGenerated) {
		c.m.report.NotChecked = append(c.m.report.NotChecked, fmt.Sprintf(
			"<replicate count=\"%d\"> at %s: more than %d generated elements, not expanded; what depends on its copies is not checked", cnt, c.m.where(k), maxGenerated))
		c.complex = true
		c.markBad(k)
		return nil
	}
	c.generated += countElements(k) * max(cnt, 0)
	if cnt > 0 && len(c.replicates) == 0 {
		c.nqAt, c.nvAt = c.jointSizesThrough(k)
	}
	sep := k.SelectAttrValue("sep", "")
	digits := len(strconv.Itoa(cnt))
	var copies []*etree.Element
	for i := 0; i < cnt; i++ {
		suffix := fmt.Sprintf("%s%0*d", sep, digits, i)
		step := fmt.Sprintf("copy %d of %d (suffix '%s') made by <replicate> at %s", i+1, cnt, suffix, c.m.where(k))
		f := c.newFrame(k, []string{step})
		if cc != nil {
			f.CreateAttr("childclass", cc.Value)
		}
		for _, ch := range k.ChildElements() {
			if ch.Tag == "plugin" {
				// It would configure the temporary body MuJoCo builds
				// the copies from, which it then deletes.
				continue
			}
			f.AddChild(c.copyTree(ch, []string{step}, func(e *etree.Element) {
				if a := e.SelectAttr("name"); a != nil && a.Value != "" {
					a.Value += suffix
				}
			}))
		}
		copies = append(copies, f)
	}
	if cnt > 0 {
		c.seq++
		c.replicates = append(c.replicates, replicated{elem: k, suffix: fmt.Sprintf("%s%0*d", sep, digits, 0), seq: c.seq})
	}
	replace(k, copies)
	return copies
}

// jointSizesThrough counts the qpos and qvel sizes of the joints MuJoCo
// has read when it expands the replicate k, its first: those before k in
// the world body, in document order, and those in k's content, once. MuJoCo
// 3.3.8 sizes a keyframe's qpos and qvel by them (the keyframe is copied
// with the first replicate's first copy and must match then).
func (c *checker) jointSizesThrough(k *etree.Element) (nq, nv int) {
	var walk func(e *etree.Element) bool
	walk = func(e *etree.Element) bool {
		for x := range e.ChildElementsSeq() {
			if c.bad[x] && x != k {
				continue
			}
			switch x.Tag {
			case "joint", "freejoint":
				switch c.jointType(x) {
				case "free":
					nq, nv = nq+7, nv+6
				case "ball":
					nq, nv = nq+4, nv+3
				case "hinge", "slide":
					nq, nv = nq+1, nv+1
				}
			case "body", "frame", "replicate":
				if walk(x) {
					return true
				}
			}
			if x == k {
				return true
			}
		}
		return false
	}
	for _, wb := range c.m.root.SelectElements("worldbody") {
		if !c.bad[wb] && walk(wb) {
			break
		}
	}
	return nq, nv
}

// countElements counts e's descendants.
func countElements(e *etree.Element) int {
	n := 0
	for k := range e.ChildElementsSeq() {
		n += 1 + countElements(k)
	}
	return n
}

// replicated is one expanded <replicate> with its first copy's suffix.
type replicated struct {
	elem   *etree.Element
	suffix string
	seq    int // when it was expanded (see checker.seq)
}

// prefixer prefixes every name and reference of an element.
func prefixer(prefix string) func(*etree.Element) {
	return func(e *etree.Element) {
		for i := range e.Attr {
			a := &e.Attr[i]
			if a.Space != "" || !refAttrs[a.Key] {
				continue
			}
			if a.Value != "" || a.Key == "prefix" {
				a.Value = prefix + a.Value
			}
		}
		if e.Tag == "composite" && e.SelectAttr("prefix") == nil && prefix != "" {
			e.CreateAttr("prefix", prefix)
		}
	}
}

// attach expands the <attach> k in body and returns the frame holding the
// copy (nil when nothing is attached).
func (c *checker) attach(k, body *etree.Element, seen map[string]*etree.Element) *etree.Element {
	pa := k.SelectAttr("prefix")
	if pa == nil {
		c.markBad(k) // required: the schema pass reported it
		return nil
	}
	prefix := pa.Value
	if k.SelectAttr("model") == nil {
		c.markBad(k) // required: the schema pass reported it
		return nil
	}
	name := k.SelectAttrValue("model", "")
	// MuJoCo 3.3.8 looks for the prefixed body before it looks for the
	// model: an attach whose body exists is skipped whatever its model.
	if ba := k.SelectAttr("body"); ba != nil {
		full := prefix + ba.Value
		if p, ok := seen[full]; ok {
			if p == body {
				c.m.warnf(k, "mjcf-attach", "body '%s' already exists here, so MuJoCo 3.3 skips this <attach> and attaches nothing; use another prefix to attach a second copy", full)
			} else {
				c.m.errorf(k, "mjcf-attach", "frame and body '%s' have mismatched parents: a body '%s' already exists elsewhere in the tree; use another prefix", full, full)
			}
			c.markBad(k)
			return nil
		}
	}
	sub := c.subs[name]
	if sub == nil {
		if _, declared := c.names["model"][name]; !declared && !c.modelDeclared(name) {
			c.m.errorf(k, "mjcf-attach", "could not find model '%s': declare it in <asset> with <model name=\"%s\" file=\"...\"/>", name, name)
		}
		c.markBad(k)
		return nil
	}
	var roots []*etree.Element
	if ba := k.SelectAttr("body"); ba != nil {
		b := findBody(sub.c.m.root, ba.Value, sub.c.bad)
		if b == nil {
			c.m.errorf(k, "mjcf-attach", "could not find body '%s' in model '%s' (%s); check the body name", ba.Value, name, sub.c.m.path)
			c.markBad(k)
			return nil
		}
		roots = []*etree.Element{b}
	} else {
		for _, wb := range sub.c.m.root.SelectElements("worldbody") {
			if sub.c.bad[wb] {
				continue
			}
			roots = append(roots, wb.ChildElements()...)
		}
	}
	// The copies come from another file: their chain includes how the
	// <attach> itself came in.
	steps := c.m.chain(fmt.Sprintf("attached by <attach model='%s' prefix='%s'> at", name, prefix), k)
	f := c.newFrame(k, nil)
	f.CreateAttr("childclass", prefix+"main")
	edit := prefixer(prefix)
	for _, r := range roots {
		if sub.c.bad[r] {
			continue
		}
		f.AddChild(c.copyTree(r, steps, edit))
	}
	c.copyModel(sub, prefix, steps)
	replace(k, []*etree.Element{f})
	return f
}

// modelDeclared says whether a <model> asset declares name (it may have
// failed to load: its problems are reported there).
func (c *checker) modelDeclared(name string) bool {
	for _, sec := range c.m.root.SelectElements("asset") {
		for _, a := range sec.SelectElements("model") {
			if a.SelectAttrValue("name", "") == name {
				return true
			}
		}
	}
	return false
}

// findBody finds the body called name in root's world bodies.
func findBody(root *etree.Element, name string, bad map[*etree.Element]bool) *etree.Element {
	var walk func(e *etree.Element) *etree.Element
	walk = func(e *etree.Element) *etree.Element {
		for k := range e.ChildElementsSeq() {
			if bad[k] {
				continue
			}
			if k.Tag == "body" && k.SelectAttrValue("name", "") == name {
				return k
			}
			if k.Tag == "body" || k.Tag == "frame" {
				if b := walk(k); b != nil {
					return b
				}
			}
		}
		return nil
	}
	for _, wb := range root.SelectElements("worldbody") {
		if b := walk(wb); b != nil {
			return b
		}
	}
	return nil
}

// copyModel copies, once per prefix, what an attach brings besides the
// tree: default classes, assets, and the actuator, sensor, tendon,
// equality and contact sections, all prefixed.
func (c *checker) copyModel(sub *subModel, prefix string, steps []string) {
	if sub.copied[prefix] {
		return
	}
	sub.copied[prefix] = true
	for n, cl := range sub.c.classes {
		c.classes[prefix+n] = &defClass{name: prefix + n, elem: cl.elem, attrs: cl.attrs}
	}
	for n, cl := range sub.c.classes {
		if cl.parent != nil {
			c.classes[prefix+n].parent = c.classes[prefix+cl.parent.name]
		}
	}
	edit := prefixer(prefix)
	c.seq++
	for _, sec := range sub.c.m.root.SelectElements("asset") {
		if sub.c.bad[sec] {
			continue
		}
		for _, a := range sec.ChildElements() {
			if a.Tag == "model" || sub.c.bad[a] {
				continue
			}
			n := assetName(a)
			cp := c.copyTree(a, steps, edit)
			if n != "" {
				cp.CreateAttr("name", prefix+n)
			}
			c.fileBases[cp] = fileBase{dir: sub.c.m.dir, comp: sub.c.comp}
			c.section("asset").AddChild(cp)
		}
	}
	for _, tag := range []string{"contact", "equality", "tendon", "actuator", "sensor"} {
		for _, sec := range sub.c.m.root.SelectElements(tag) {
			if sub.c.bad[sec] {
				continue
			}
			for _, e := range sec.ChildElements() {
				if sub.c.bad[e] {
					continue
				}
				cp := c.copyTree(e, steps, edit)
				c.sectionSeq[cp] = c.seq
				c.section(tag).AddChild(cp)
			}
		}
	}
	if len(sub.c.m.root.SelectElements("keyframe")) > 0 {
		c.m.report.NotChecked = append(c.m.report.NotChecked,
			fmt.Sprintf("keyframes of the attached model '%s' (MuJoCo merges them into the model's keyframes)", sub.name))
	}
}

// section returns the first top-level section tag of the model, adding
// one when there is none.
func (c *checker) section(tag string) *etree.Element {
	for _, s := range c.m.root.SelectElements(tag) {
		if !c.bad[s] {
			return s
		}
	}
	s := c.m.root.CreateElement(tag)
	c.m.gen[s] = &generated{orig: c.m.root}
	return s
}

// replicateQuirks reports what MuJoCo 3.3.8 does to a model with a
// <replicate>: it renames (and copies) the references of every actuator,
// sensor, tendon, equality and contact pair or exclude that exists when
// the replicate is expanded with the replicate's suffix, so none of them
// resolves. The model's own sections are read before its world body, so
// they always exist then; those an <attach> copies exist only after it.
func (c *checker) replicateQuirks() {
	if len(c.replicates) == 0 {
		return
	}
	for _, tag := range []string{"contact", "equality", "tendon", "actuator", "sensor"} {
		for _, sec := range c.m.root.SelectElements(tag) {
			if c.bad[sec] {
				continue
			}
			for _, e := range sec.ChildElements() {
				if c.bad[e] {
					continue
				}
				attr, val := firstRef(e)
				if attr == "" {
					continue
				}
				var r *replicated
				for i := range c.replicates {
					if c.replicates[i].seq > c.sectionSeq[e] {
						r = &c.replicates[i]
						break
					}
				}
				if r == nil {
					continue // copied by an attach after every replicate
				}
				c.m.errorf(e, "mjcf-replicate", "MuJoCo 3.3.8 cannot resolve '%s' (attribute '%s' of <%s>) in a model with a <replicate> (at %s): its replicate renames the references of every actuator, sensor, tendon, equality and contact element with the copy suffix, so '%s' is looked up as '%s'; write the copies out or drop the replicate",
					val, attr, e.Tag, c.m.where(r.elem), val, val+r.suffix)
			}
		}
	}
}

// replicateKeys reports keyframes MuJoCo 3.3.8 renames with a
// replicate's first suffix, unnamed ones included: two with one name
// collide.
func (c *checker) replicateKeys() {
	if len(c.replicates) == 0 {
		return
	}
	suffix := c.replicates[0].suffix
	seen := map[string]bool{}
	for _, kf := range c.m.root.SelectElements("keyframe") {
		if c.bad[kf] {
			continue
		}
		for _, k := range kf.SelectElements("key") {
			n := k.SelectAttrValue("name", "")
			if seen[n] && n == "" {
				c.m.errorf(k, "mjcf-name", "repeated name '%s' in key: in a model with a <replicate>, MuJoCo 3.3.8 names every key with the first copy's suffix, unnamed keys too, so two unnamed keys collide; name them", n+suffix)
			}
			seen[n] = true
		}
	}
}

// firstRef is the first reference attribute of a section element, or of
// its children (a tendon's path).
func firstRef(e *etree.Element) (attr, val string) {
	for _, a := range sectionRefAttrs {
		if v := e.SelectAttrValue(a, ""); v != "" {
			return a, v
		}
	}
	for k := range e.ChildElementsSeq() {
		if a, v := firstRef(k); a != "" {
			return a, v
		}
	}
	return "", ""
}

// compositeNames lists the names a <composite> generates: for a cable of
// N vertices, N-1 bodies B_first, B_1 ... B_last with joints J_... and
// geoms G0 ..., and the sites S_first and S_last, all after its prefix.
func (c *checker) compositeNames(k *etree.Element) []kindName {
	if k.SelectAttrValue("type", "") != "cable" {
		return nil
	}
	n := 0
	if v, ok := c.nums(k, "vertex"); ok {
		n = len(v) / 3
	} else if v, ok := c.nums(k, "count"); ok {
		n = clampCount(v[0])
	}
	nb := n - 1
	if nb < 1 || !c.mayGenerate(k, 3*nb+2) {
		return nil
	}
	prefix := k.SelectAttrValue("prefix", "")
	label := func(i int) string {
		switch i {
		case 0:
			return "first"
		case nb - 1:
			return "last"
		}
		return strconv.Itoa(i)
	}
	var out []kindName
	for i := 0; i < nb; i++ {
		out = append(out, kindName{"body", prefix + "B_" + label(i)})
		if i > 0 || k.SelectAttrValue("initial", "ball") != "none" {
			out = append(out, kindName{"joint", prefix + "J_" + label(i)})
		}
		out = append(out, kindName{"geom", prefix + "G" + strconv.Itoa(i)})
	}
	out = append(out, kindName{"site", prefix + "S_first"}, kindName{"site", prefix + "S_last"})
	return out
}

// flexcompNames lists the bodies a <flexcomp> generates: one per point,
// name_i, unless it is rigid or its dofs are interpolated. Only grid and
// direct point sets are counted.
func (c *checker) flexcompNames(k *etree.Element) []kindName {
	name := k.SelectAttrValue("name", "")
	if name == "" || k.SelectAttrValue("rigid", "false") == "true" || k.SelectAttrValue("dof", "full") != "full" {
		return nil
	}
	n := 0
	switch k.SelectAttrValue("type", "grid") {
	case "grid":
		f := 1.0
		v, _ := c.nums(k, "count")
		for i := 0; i < 3 && i < len(v); i++ {
			f *= v[i]
		}
		n = clampCount(f)
	case "direct":
		v, _ := c.nums(k, "point")
		n = len(v) / 3
	}
	if n <= 0 || !c.mayGenerate(k, n) {
		return nil
	}
	out := make([]kindName, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, kindName{"body", fmt.Sprintf("%s_%d", name, i)})
	}
	return out
}

// mayGenerate says whether e may generate n more names within
// maxGenerated, noting it as not checked when it may not.
func (c *checker) mayGenerate(e *etree.Element, n int) bool {
	if n > maxGenerated || c.generated+n > maxGenerated {
		c.m.report.NotChecked = append(c.m.report.NotChecked, fmt.Sprintf(
			"the names <%s> at %s generates: more than %d, not listed; references to them are not checked", e.Tag, c.m.where(e), maxGenerated))
		return false
	}
	c.generated += n
	return true
}

// clampCount turns a count read as a number into an int, past
// maxGenerated (or not a number) as maxGenerated+1.
func clampCount(f float64) int {
	if !(f <= maxGenerated) {
		return maxGenerated + 1
	}
	if f < 0 {
		return 0
	}
	return int(f)
}

// kindName is a generated name and its kind.
type kindName struct{ kind, name string }
