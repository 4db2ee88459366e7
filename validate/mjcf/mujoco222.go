package mjcf

import (
	_ "embed"
	"strings"

	"github.com/beevik/etree"
)

// mujoco222Text lists the elements and attributes of the 3.3 table that
// MuJoCo 2.2.2 (Debian's mujoco-compile, a second opinion) refuses, one
// "parent/element" or "parent/element@attribute" a line, parents of body
// elements written as body. TestMuJoCo222Table regenerates it from
// mujoco-compile (-update222) and checks a sample of it.
//
//go:embed mujoco222.txt
var mujoco222Text string

var mujoco222Unknown = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(mujoco222Text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// key222 names e for mujoco222Unknown.
func key222(e *etree.Element) string {
	parent := ""
	if p := e.Parent(); p != nil {
		parent = p.Tag
	}
	switch parent {
	case "worldbody", "frame", "replicate":
		parent = "body"
	}
	return parent + "/" + e.Tag
}

// target222 warns, under --target mujoco, about what MuJoCo 2.2.2 would
// refuse: models using it need MuJoCo 3.
func (c *checker) target222() {
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if c.bad[e] || ignoredTop(e) {
			return
		}
		k := key222(e)
		if mujoco222Unknown[k] {
			c.m.warnf(e, "mjcf-mujoco222", "MuJoCo 2.2.2 does not know <%s> here: this model needs MuJoCo 3", e.Tag)
			return // its attributes and children are moot
		}
		for _, a := range e.Attr {
			if mujoco222Unknown[k+"@"+a.Key] {
				c.m.warnf(e, "mjcf-mujoco222", "MuJoCo 2.2.2 does not know attribute '%s' of <%s>: this model needs MuJoCo 3", a.Key, e.Tag)
			}
		}
		for k := range e.ChildElementsSeq() {
			walk(k)
		}
	}
	for k := range c.m.root.ChildElementsSeq() {
		walk(k)
	}
}
