package mjcf

import (
	"slices"
	"strings"

	"github.com/beevik/etree"
)

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
