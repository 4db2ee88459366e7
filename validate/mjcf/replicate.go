package mjcf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

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
