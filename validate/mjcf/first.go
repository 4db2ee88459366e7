package mjcf

import (
	"strings"

	"github.com/antimlabs/gizmo/validate"
)

// MuJoCo stops at the first error it meets; gizmo lists them all and marks
// the one MuJoCo 3.3.8 reports (Problem.First). MuJoCo meets errors in
// phases: the XML parse and includes, the schema pass, the reader (values,
// default classes, attach, the world body's rules, section by section in a
// fixed order), then the compiler: repeated names, references, asset
// files, everything else, keyframes last. A missing mesh file and a geom
// naming a mesh that does not exist are both reported by gizmo at their
// element, in document order; MuJoCo resolves references before it opens
// files, so it reports the geom.

// Phases in MuJoCo's order.
const (
	phaseParse = iota
	phaseSchema
	phaseReader
	phaseNames
	phaseRefs
	phaseFiles
	phaseCompile
	phaseKeyframes
)

var rulePhase = map[string]int{
	"mjcf-xml": phaseParse, "mjcf-read": phaseParse, "mjcf-root": phaseParse, "mjcf-include": phaseParse,
	"mjcf-schema-attr": phaseSchema, "mjcf-schema-element": phaseSchema, "mjcf-schema-unique": phaseSchema,
	"mjcf-required": phaseReader, "mjcf-keyword": phaseReader, "mjcf-number": phaseReader, "mjcf-count": phaseReader,
	"mjcf-quat": phaseReader, "mjcf-default": phaseReader, "mjcf-compiler": phaseReader, "mjcf-worldbody": phaseReader,
	"mjcf-attach": phaseReader,
	"mjcf-name":   phaseNames,
	"mjcf-ref":    phaseRefs, "mjcf-replicate": phaseRefs,
	"mjcf-file": phaseFiles, "mjcf-mesh-format": phaseFiles, "mjcf-stl": phaseFiles, "mjcf-texture": phaseFiles,
	"mjcf-keyframe": phaseKeyframes,
}

// readerSections is the order in which MuJoCo's reader reads the sections.
var readerSections = map[string]int{
	"compiler": 0, "option": 1, "size": 2, "visual": 3, "statistic": 4, "default": 5, "extension": 6,
	"custom": 7, "asset": 8, "contact": 9, "deformable": 10, "equality": 11, "tendon": 12, "actuator": 13,
	"sensor": 14, "worldbody": 15, "keyframe": 16,
}

func phaseOf(rule string) int {
	if p, ok := rulePhase[rule]; ok {
		return p
	}
	return phaseCompile
}

// sectionOf is the top-level section an element path lies in
// ("/mujoco/worldbody/body" is in worldbody).
func sectionOf(path string) int {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 2 {
		return -1
	}
	s := parts[1]
	if i := strings.IndexByte(s, '['); i >= 0 {
		s = s[:i]
	}
	if r, ok := readerSections[s]; ok {
		return r
	}
	return len(readerSections)
}

// markFirst marks the error MuJoCo would report first, when there are
// several.
func markFirst(r *validate.Report) {
	if len(r.Errors) < 2 {
		return
	}
	best := 0
	key := func(i int) [2]int {
		p := r.Errors[i]
		ph := phaseOf(p.Rule)
		sec := 0
		if ph == phaseReader {
			sec = sectionOf(p.Element)
		}
		return [2]int{ph, sec}
	}
	bk := key(0)
	for i := 1; i < len(r.Errors); i++ {
		if k := key(i); k[0] < bk[0] || k[0] == bk[0] && k[1] < bk[1] {
			best, bk = i, k
		}
	}
	r.Errors[best].First = true
}
