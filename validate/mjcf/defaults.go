package mjcf

import (
	"github.com/beevik/etree"
)

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
