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

	"github.com/antimlabs/gizmo/validate/reference"
	"github.com/antimlabs/gizmo/validate/reference/reftest"
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

// document nests path into a model, the last element carrying attrs.
func document(path []string, attrs string) string {
	var b strings.Builder
	for i, name := range path {
		b.WriteString("<" + name)
		if i == len(path)-1 {
			b.WriteString(attrs)
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
	}
	var probes []probe
	var paths []string
	dir := t.TempDir()
	add := func(what string, inTable bool, doc string) {
		d := filepath.Join(dir, fmt.Sprint(len(paths)))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, "m.xml")
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		probes = append(probes, probe{what, inTable})
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
			add(where+"@"+a, true, document(s.path, fmt.Sprintf(" %s=%q", a, sampleValue(s.spec.attrs[a]))))
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
	for i, p := range probes {
		msg := strings.Join(verdicts[i].Messages, " ")
		refused := strings.Contains(msg, "Schema violation")
		switch {
		case p.inTable && refused:
			t.Errorf("%s: in gizmo's table but MuJoCo 3 refuses it: %s", p.what, msg)
		case !p.inTable && !refused:
			t.Errorf("%s: not in gizmo's table but MuJoCo 3 accepts it (%s): add it", p.what, msg)
		}
	}
	t.Logf("%d schema probes", len(probes))
}
