package validate

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/internal/xmlpos"
)

// At builds a Problem located at elem of doc: line and column from doc, and
// an element path such as /robot/joint[@name='j1']/limit. format and args
// make the message, as fmt.Sprintf does. elem may be nil (no location).
func At(doc *xmlpos.Doc, elem *etree.Element, file string, sev Severity, rule, format string, args ...any) Problem {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	p := Problem{Severity: sev, Rule: rule, Message: msg, File: file}
	if elem != nil {
		pos := doc.Pos(elem)
		p.Line, p.Col = pos.Line, pos.Col
		p.Element = ElementPath(elem)
	}
	return p
}

// ElementPath names elem by its ancestry: each step is the tag, qualified by
// [@name='…'] when the element has a name, or by a 1-based position among
// same-tag siblings when there are several.
func ElementPath(elem *etree.Element) string {
	var steps []string
	for e := elem; e != nil; e = e.Parent() {
		if e.Tag == "" && e.Parent() == nil { // the document itself
			break
		}
		steps = append(steps, step(e))
	}
	var b strings.Builder
	for i := len(steps) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(steps[i])
	}
	return b.String()
}

func step(e *etree.Element) string {
	tag := e.FullTag()
	if a := e.SelectAttr("name"); a != nil {
		return fmt.Sprintf("%s[@name=%s]", tag, quote(a.Value))
	}
	p := e.Parent()
	if p == nil {
		return tag
	}
	n, idx := 0, 0
	for s := range p.ChildElementsSeq() {
		if s.FullTag() == tag {
			n++
			if s == e {
				idx = n
			}
		}
	}
	if n > 1 {
		return fmt.Sprintf("%s[%d]", tag, idx)
	}
	return tag
}

// quote writes an XPath string literal for s.
func quote(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	parts := strings.Split(s, "'")
	return "concat('" + strings.Join(parts, `', "'", '`) + "')"
}
