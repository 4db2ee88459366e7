package mjcf

import (
	"regexp"
	"strings"

	"github.com/beevik/etree"
)

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
