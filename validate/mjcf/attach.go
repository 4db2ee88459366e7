package mjcf

import (
	"fmt"

	"github.com/beevik/etree"
)

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
