package mjcf

import (
	"fmt"
	"strconv"

	"github.com/beevik/etree"
)

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
