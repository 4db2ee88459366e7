package mjcf

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
)

func TestSchemaTableParses(t *testing.T) {
	root, err := parseSchema(schemaTable)
	if err != nil {
		t.Fatal(err)
	}
	wb := root.child("worldbody")
	if wb == nil || wb.child("body") == nil || wb.child("body").child("body") == nil {
		t.Fatal("worldbody/body/body missing: body recursion broken")
	}
	frame := wb.child("frame")
	if frame == nil || frame.child("geom") == nil || frame.child("frame") == nil {
		t.Fatal("frame does not share body's children")
	}
	if d := root.child("default"); d == nil || d.child("default") == nil || d.child("geom") == nil {
		t.Fatal("default recursion broken")
	}
	if _, err := parseSchema("mujoco! model\n   odd"); err == nil {
		t.Fatal("odd indentation accepted")
	}
	if _, err := parseSchema("mujoco! model:zz\n"); err == nil {
		t.Fatal("unknown type accepted")
	}
}

// schemaSite is one element of the table with the path that reaches it.
type schemaSite struct {
	path []string
	spec *elemSpec
}

// schemaSites lists every element of the table once, breadth first, so
// each comes with the shortest path that reaches it.
func schemaSites() []schemaSite {
	var out []schemaSite
	seen := map[*elemSpec]bool{schemaRoot: true}
	queue := []schemaSite{{[]string{"mujoco"}, schemaRoot}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		out = append(out, s)
		for _, c := range s.spec.children {
			if seen[c] {
				continue
			}
			seen[c] = true
			p := append(append([]string(nil), s.path...), c.name)
			queue = append(queue, schemaSite{p, c})
		}
	}
	return out
}

// sampleValue is a value of the attribute's type that MuJoCo's reader
// parses (it may still reject it later, which the test ignores).
func sampleValue(as attrSpec) string {
	switch as.kind {
	case kindKeyword:
		return as.keywords[0]
	case kindReal, kindInt:
		if as.quat {
			return "1 0 0 0"
		}
		n := as.min
		if n == 0 {
			n = 1
		}
		return strings.TrimSpace(strings.Repeat("1 ", n))
	}
	return "x"
}

// document nests path into a model, the last element carrying attrs. An
// element of a body goes into a body, not straight into the world body
// (which takes no joints, inertia or attributes), and required attributes of
// a few elements are filled in.
func document(path []string, attrs string) string {
	if len(path) >= 2 && (path[1] == "body" || path[1] == "frame" || path[1] == "replicate") {
		// MuJoCo ignores these at the top level: probe them in the world.
		path = append([]string{"mujoco", "worldbody"}, path[1:]...)
	}
	if len(path) >= 3 && path[1] == "worldbody" && path[2] != "body" {
		path = append([]string{"mujoco", "worldbody", "body"}, path[2:]...)
	}
	var b strings.Builder
	for i, name := range path {
		b.WriteString("<" + name)
		own := ""
		if i == len(path)-1 {
			own = attrs
		}
		if i > 0 && path[1] != "default" {
			key := name
			if i > 0 {
				key = path[i-1] + "/" + name
			}
			fill := required[key]
			if fill == "" {
				fill = required[name]
			}
			for _, kv := range strings.Fields(fill) {
				k, _, _ := strings.Cut(kv, "=")
				if !strings.Contains(own, " "+k+"=") {
					own += " " + strings.ReplaceAll(strings.Replace(kv, "=", `="`, 1), "_", " ") + `"`
				}
			}
		}
		b.WriteString(own)
		if i == len(path)-1 {
			b.WriteString("/>")
		} else {
			b.WriteString(">")
		}
	}
	for i := len(path) - 2; i >= 0; i-- {
		b.WriteString("</" + path[i] + ">")
	}
	return b.String()
}

// newerAttrs are attributes of later MuJoCo releases (or of neighbouring
// elements) that the 3.3 table leaves out; MuJoCo 3.3.8 must refuse each,
// or the table misses it.
var newerAttrs = map[string][]string{
	"geom":          {"surfacevel", "adhesion", "name2"},
	"option":        {"sleep_tolerance"},
	"flag":          {"sleep", "diagexact", "ipc"},
	"body":          {"sleep", "simple", "class"},
	"camera":        {"projection", "output"},
	"light":         {"softness"},
	"joint":         {"kind"},
	"compiler":      {"conflict"},
	"flexcomp":      {"cellcount"},
	"motor":         {"nsample", "interp", "delay", "damping", "armature"},
	"jointpos":      {"nsample", "interp", "delay", "interval"},
	"key":           {"class"},
	"texture":       {"class"},
	"material":      {"mesh"},
	"site":          {"mesh"},
	"inertial":      {"name"},
	"freejoint":     {"class"},
	"flex":          {"nodecoord", "cellcount", "dof"},
	"pair":          {"adhesion"},
	"general":       {"nsample", "interp", "delay", "input", "velrange", "ffrange", "damping", "armature"},
	"position":      {"nsample", "interp", "delay", "damping", "armature"},
	"attach":        {"frame"},
	"accelerometer": {"nsample", "interp", "delay", "interval"},
}

// newerElements are elements of later MuJoCo releases, by parent path; MuJoCo
// 3.3.8 must refuse each.
var newerElements = map[string][]string{
	"mujoco/actuator": {"orientation", "pid", "dcmotor"},
	"mujoco/default":  {"orientation", "pid", "dcmotor"},
	"mujoco/equality": {"flexvert", "flexstrain"},
}

// samples are values for text attributes MuJoCo reads as keywords.
var samples = map[string]string{"contact@data": "found"}

// required fills in attributes MuJoCo reads before the probed one.
var required = map[string]string{
	"numeric": "name=n", "text": "name=t data=d", "tuple": "name=t", "hfield": "nrow=2 ncol=2 size=1_1_1_1",
	"replicate": "count=2", "attach": "model=m prefix=p", "layer": "role=rgb",
	"inertial": "pos=0_0_0 mass=1", "composite": "type=grid", "flexcomp": "name=f", "instance": "name=i",
	"asset/mesh": "name=m", "exclude": "body1=world body2=world", "bone": "body=world bindpos=0_0_0 bindquat=1_0_0_0 vertid=0 vertweight=1",
	"composite/joint": "kind=main", "fixed/joint": "joint=j coef=1", "tuple/element": "objtype=body objname=world prm=1",
	"deformable/flex": "body=world element=0", "equality/joint": "joint1=j", "equality/tendon": "tendon1=t",
	"equality/flex": "flex=f", "sensor/user": "dim=1", "connect": "body1=world anchor=0_0_0", "weld": "body1=world",
}

// TestSchemaAgainstMuJoCo3 asks MuJoCo 3.3.8 about every element and
// attribute of the table: a table entry MuJoCo's schema refuses makes gizmo
// too lenient, a newer attribute it accepts means the table misses it.
func TestSchemaAgainstMuJoCo3(t *testing.T) {
	if testing.Short() {
		t.Skip("schema cross-check loads about 1500 models in MuJoCo; skipped with -short")
	}
	reftest.Require(t, reference.ToolMuJoCo3)
	type probe struct {
		what    string
		inTable bool
		attr    string // value probes: the attribute
		bad     bool   // value probes: gizmo refuses the value
	}
	var probes []probe
	var paths []string
	dir := t.TempDir()
	addValue := func(what, attr string, bad bool, doc string) {
		d := filepath.Join(dir, fmt.Sprint(len(paths)))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, "m.xml")
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		probes = append(probes, probe{what: what, inTable: true, attr: attr, bad: bad})
		paths = append(paths, p)
	}
	add := func(what string, inTable bool, doc string) {
		d := filepath.Join(dir, fmt.Sprint(len(paths)))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, "m.xml")
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		probes = append(probes, probe{what: what, inTable: inTable})
		paths = append(paths, p)
	}
	for _, s := range schemaSites() {
		where := strings.Join(s.path, "/")
		add(where, true, document(s.path, ""))
		names := make([]string, 0, len(s.spec.attrs))
		for a := range s.spec.attrs {
			names = append(names, a)
		}
		sort.Strings(names)
		for _, a := range names {
			as := s.spec.attrs[a]
			sample := sampleValue(as)
			if v, ok := samples[s.spec.name+"@"+a]; ok {
				sample = v
			}
			add(where+"@"+a, true, document(s.path, fmt.Sprintf(" %s=%q", a, sample)))
			if s.spec.name == "worldbody" || where == "mujoco/replicate" {
				// MuJoCo refuses any attribute on <worldbody>, and reads
				// nothing of a top-level <replicate>.
				continue
			}
			for _, v := range badValues(as) {
				addValue(fmt.Sprintf("%s@%s=%q", where, a, v), a, true, document(s.path, fmt.Sprintf(" %s=%q", a, v)))
			}
		}
		for _, e := range newerElements[where] {
			add(where+"/"+e, false, document(append(append([]string(nil), s.path...), e), ""))
		}
		for _, a := range newerAttrs[s.spec.name] {
			if _, ok := s.spec.attrs[a]; !ok {
				add(where+"@"+a, false, document(s.path, fmt.Sprintf(" %s=%q", a, "1")))
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	verdicts, err := reference.MuJoCo3Batch(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	inconclusive, valueProbes := 0, 0
	for i, p := range probes {
		msg := strings.Join(verdicts[i].Messages, " ")
		if p.attr != "" {
			valueProbes++
			switch {
			case verdicts[i].Accepted:
				t.Errorf("%s: gizmo refuses the value but MuJoCo 3 accepts the model: loosen the type", p.what)
			case !valueRefused(msg, p.attr):
				inconclusive++
				t.Logf("inconclusive %s: MuJoCo 3 stopped at another error first (%s)", p.what, msg)
			}
			continue
		}
		refused := strings.Contains(msg, "Schema violation")
		if p.inTable && !refused && strings.Contains(p.what, "@") {
			attr := p.what[strings.LastIndex(p.what, "@")+1:]
			if valueRefused(msg, attr) {
				t.Errorf("%s: MuJoCo 3 refuses gizmo's sample value: %s", p.what, msg)
			}
		}
		switch {
		case p.inTable && refused:
			t.Errorf("%s: in gizmo's table but MuJoCo 3 refuses it: %s", p.what, msg)
		case !p.inTable && !refused:
			t.Errorf("%s: not in gizmo's table but MuJoCo 3 accepts it (%s): add it", p.what, msg)
		}
	}
	t.Logf("%d schema probes, %d of %d value probes inconclusive", len(probes), inconclusive, valueProbes)
	// An inconclusive probe checks nothing: keep them a small minority (4
	// of 1,421 when this bound was set).
	if valueProbes < 1000 || inconclusive*100 > valueProbes {
		t.Errorf("%d of %d value probes inconclusive: want at least 1000 probes, at most 1%% of them inconclusive", inconclusive, valueProbes)
	}
}

// badValues are values gizmo's table refuses for as: one number too few or
// too many, a fraction for an integer, a bad token in an unbounded list, an
// unknown keyword.
func badValues(as attrSpec) []string {
	nums := func(n int) string { return strings.TrimSpace(strings.Repeat("1 ", n)) }
	var out []string
	switch as.kind {
	case kindKeyword:
		out = append(out, "bogus")
	case kindReal, kindInt:
		if as.max >= 0 {
			out = append(out, nums(as.max+1))
		}
		if as.min > 1 {
			out = append(out, nums(as.min-1))
		}
		if as.kind == kindInt {
			out = append(out, "1.5")
		} else if as.max < 0 {
			out = append(out, "1 z") // unbounded lists: a bad token
		}
	}
	return out
}

// valueRefused says whether MuJoCo's message refuses attribute attr's value.
func valueRefused(msg, attr string) bool {
	for _, f := range []string{
		"attribute '%s' does not have enough data", "attribute '%s' has too much data",
		"problem reading attribute '%s'", "bad format in attribute '%s'",
	} {
		if strings.Contains(msg, fmt.Sprintf(f, attr)) {
			return true
		}
	}
	return strings.Contains(msg, "invalid keyword") || strings.Contains(msg, "zero quaternion")
}

func (e *elemSpec) child(name string) *elemSpec {
	for _, c := range e.children {
		if c.name == name {
			return c
		}
	}
	return nil
}
