package xmlpos

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/testcorpus"
	"github.com/beevik/etree"
)

// tricky are documents that exercise each kind of token and the decoder's
// rewriting of text; malformed ones must fail as they did before.
var tricky = map[string]string{
	"namespaces": `<robot xmlns="urn:a" xmlns:x="urn:x" x:name="r"><x:link x:a="1" b="2"/><link xmlns="urn:b"/></robot>`,
	"odd names":  `<:a :b="1" c:="2" d="3"><e:/></:a>`,
	"cdata":      "<a><![CDATA[ <not a tag> & ]]>text<![CDATA[]]><![CDATA[  \n ]]></a>",
	"comments":   "<!-- before --><a><!-- in - side? -->x<!---->y<!--\r\n--></a><!-- after -->",
	"procinst":   "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<?xml-stylesheet href=\"s.xsl\"?><a><?pi  data ?></a><?tail?>",
	"doctype":    "<?xml version=\"1.0\"?>\n<!DOCTYPE robot [\n  <!ELEMENT robot ANY>\n  <!-- c -->\n]>\n<robot/>",
	"entities":   `<a b="x &amp; y &#10; &lt;&gt;&quot;&apos; &#x41;">&amp;&#10;&#x9;&lt;tag&gt; caf&#233;</a>`,
	"crlf":       "<?xml version=\"1.0\"?>\r\n<robot name=\"r\">\r\n  <link\r\n    name=\"a\"/>\r\n  text\r\n  <link name=\"b\">\r\r\n</link>\r\n</robot>\r\n",
	"whitespace": "\n\t <a>  \n\t<b> </b>\r\n<c>\t</c>  <d>x </d>\n</a>\n\n",
	"selfclose":  "<a><b/><c></c><d /><e\n/></a>",
	"quotes": `<a b='say "hi"' c="it's" d='&apos;&quot;' e="a>b" f="tab	and newline
here"/>`,
	"duplicate attrs": `<a x="1" y="2" x="3"><b x="4" x="5"/></a>`,
	"utf8":            "<robot name=\"ロボット\">\n  <link name=\"é\"/><腕 長さ=\"1\"/>\n</robot>",
	"bom":             "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<a/>",
	"deep ok":         strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth),
	"text after root": "<a/>\ntrailing\n",

	// Malformed.
	"empty":             "",
	"no root":           "<!-- only -->\n<?pi?>\n",
	"no xml":            "no xml",
	"two roots":         "<a/>\n  <b/>",
	"unclosed":          "<robot>\n<link>",
	"mismatch":          "<robot><link></robot>",
	"mismatch only":     "<a></b>",
	"mismatch nested":   "<a><b></a></b>",
	"mismatch then two": "<a></b>\n<c/>",
	"stray end":         "<a/></a>",
	"too deep":          strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1),
	"bad attr":          `<a b=c/>`,
	"bad entity":        "<a>&nbsp;</a>",
	"latin1":            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>",
	"bad version":       "<?xml version=\"0.0\"?><a/>",
	"bad utf8":          "<a>\xff</a>",
	"lt in attr":        `<a b="<"/>`,
	"unterminated":      "<a><!-- ",
	"dashes in comment": "<a><!-- x -- y --></a>",
	"two colons":        `<a:b:c/>`,
}

func TestEquivalentInline(t *testing.T) {
	for name, src := range tricky {
		t.Run(name, func(t *testing.T) {
			checkEquivalent(t, []byte(src))
		})
	}
}

// TestEquivalentCorpus checks every URDF and MJCF file of the shared corpus.
func TestEquivalentCorpus(t *testing.T) {
	dir := testcorpus.Dir(t)
	n := 0
	err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".urdf", ".xml", ".mjcf":
		default:
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) { checkEquivalent(t, data) })
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no .urdf, .xml or .mjcf file under %s", dir)
	}
}

func FuzzParse(f *testing.F) {
	for _, src := range tricky {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEquivalent(t, data)
	})
}

// checkEquivalent compares Parse with the two-pass reference: the same error,
// or the same tree (serialised, and token by token) and the same positions.
// The tree must also be the one etree gives on its own with default settings.
func checkEquivalent(t *testing.T, data []byte) {
	t.Helper()
	got, err := Parse(data)
	want, wantErr := parseTwoPass(data)
	if wantErr != nil || err != nil {
		var se *SyntaxError
		if !errors.As(err, &se) || !reflect.DeepEqual(err, wantErr) {
			t.Fatalf("error %#v, want %#v", err, wantErr)
		}
		return
	}

	plain := etree.NewDocument()
	if err := plain.ReadFromBytes(data); err != nil {
		t.Fatalf("etree refuses what Parse accepts: %v", err)
	}
	gotS, err := got.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	wantS, err := plain.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	if gotS != wantS {
		t.Fatalf("serialised tree differs:\ngot  %q\nwant %q", gotS, wantS)
	}
	if !reflect.DeepEqual(got.ReadSettings, want.ReadSettings) || got.WriteSettings != want.WriteSettings {
		t.Errorf("settings %+v %+v, want %+v %+v", got.ReadSettings, got.WriteSettings, want.ReadSettings, want.WriteSettings)
	}
	if got.positions() != want.positions() {
		t.Errorf("%d positions, want %d", got.positions(), want.positions())
	}
	sameTokens(t, "doc", &got.Element, &want.Element, got, want)
}

// sameTokens compares two elements and their subtrees field by field,
// including what serialisation does not show: whitespace and CDATA flags,
// parents, indexes and the positions recorded for each element.
func sameTokens(t *testing.T, path string, g, w *etree.Element, gd, wd *Doc) {
	t.Helper()
	if g.Space != w.Space || g.Tag != w.Tag || g.Index() != w.Index() {
		t.Fatalf("%s: element %q:%q #%d, want %q:%q #%d", path, g.Space, g.Tag, g.Index(), w.Space, w.Tag, w.Index())
	}
	if gp, wp := gd.Pos(g), wd.Pos(w); gp != wp {
		t.Errorf("%s: at %v, want %v", path, gp, wp)
	}
	if len(g.Attr) != len(w.Attr) {
		t.Fatalf("%s: %d attributes, want %d", path, len(g.Attr), len(w.Attr))
	}
	for i := range g.Attr {
		ga, wa := g.Attr[i], w.Attr[i]
		if ga.Space != wa.Space || ga.Key != wa.Key || ga.Value != wa.Value || ga.Element() != g {
			t.Errorf("%s: attribute %d %+v, want %+v", path, i, ga, wa)
		}
	}
	if len(g.Child) != len(w.Child) {
		t.Fatalf("%s: %d children, want %d", path, len(g.Child), len(w.Child))
	}
	for i := range g.Child {
		p := fmt.Sprintf("%s/%d", path, i)
		if g.Child[i].Parent() != g || g.Child[i].Index() != i {
			t.Errorf("%s: parent or index wrong", p)
		}
		switch gc := g.Child[i].(type) {
		case *etree.Element:
			wc, ok := w.Child[i].(*etree.Element)
			if !ok {
				t.Fatalf("%s: element, want %T", p, w.Child[i])
			}
			sameTokens(t, p+"("+wc.Tag+")", gc, wc, gd, wd)
		case *etree.CharData:
			wc, ok := w.Child[i].(*etree.CharData)
			if !ok || gc.Data != wc.Data || gc.IsCData() != wc.IsCData() || gc.IsWhitespace() != wc.IsWhitespace() {
				t.Errorf("%s: %#v, want %#v", p, gc, w.Child[i])
			}
		case *etree.Comment:
			if wc, ok := w.Child[i].(*etree.Comment); !ok || gc.Data != wc.Data {
				t.Errorf("%s: %#v, want %#v", p, gc, w.Child[i])
			}
		case *etree.Directive:
			if wc, ok := w.Child[i].(*etree.Directive); !ok || gc.Data != wc.Data {
				t.Errorf("%s: %#v, want %#v", p, gc, w.Child[i])
			}
		case *etree.ProcInst:
			if wc, ok := w.Child[i].(*etree.ProcInst); !ok || gc.Target != wc.Target || gc.Inst != wc.Inst {
				t.Errorf("%s: %#v, want %#v", p, gc, w.Child[i])
			}
		default:
			t.Fatalf("%s: unexpected %T", p, gc)
		}
	}
}

// parseTwoPass is Parse as it was before it built the tree itself: one
// decoder pass for positions and well-formedness, then etree's own reader.
// It is the reference the one-pass Parse must agree with.
func parseTwoPass(data []byte) (*Doc, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.Entity = nil
	var starts []Pos
	depth := 0
	lines := lineStarts(data)
	for {
		line, col := dec.InputPos()
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, syntaxError(dec, err)
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 && len(starts) > 0 {
				return nil, &SyntaxError{Pos: Pos{line, col}, Msg: "more than one root element"}
			}
			depth++
			if depth > MaxDepth {
				return nil, &SyntaxError{Pos: Pos{line, col}, Msg: fmt.Sprintf("elements nested deeper than %d", MaxDepth)}
			}
			starts = append(starts, lineStartOf(data, lines, line, col))
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		l, c := dec.InputPos()
		return nil, &SyntaxError{Pos: Pos{l, c}, Msg: "unexpected end of file: an element is not closed"}
	}
	if len(starts) == 0 {
		return nil, &SyntaxError{Pos: Pos{1, 1}, Msg: "no root element"}
	}

	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = MaxDepth
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, &SyntaxError{Pos: Pos{1, 1}, Msg: err.Error()}
	}
	d := &Doc{Document: doc, pos: make(map[*etree.Element]Pos, len(starts))}
	i := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if i < len(starts) {
			d.pos[e] = starts[i]
		}
		i++
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	for _, c := range doc.ChildElements() {
		walk(c)
	}
	return d, nil
}

// lineStarts returns the byte offset at which each line of data begins.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineStartOf is the reference's startOf: from (line, col) through the
// table of line offsets to the '<' that starts the token.
func lineStartOf(data []byte, lines []int, line, col int) Pos {
	off := len(data)
	if line-1 < len(lines) {
		off = lines[line-1]
	}
	off += col - 1
	for off < len(data) && data[off] != '<' {
		if data[off] == '\n' {
			line++
			col = 0
		}
		off++
		col++
	}
	return Pos{line, col}
}

// BenchmarkParseTwoPass runs the reference on the files of BenchmarkParse,
// to compare the two on the same machine in one run.
func BenchmarkParseTwoPass(b *testing.B) {
	benchParse(b, parseTwoPass)
}
