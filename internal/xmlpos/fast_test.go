package xmlpos

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/formats/procgen"
	"github.com/antimlabs/gizmo/internal/testcorpus"
)

// fastInputs are documents for the fast path. fast says whether it must
// read the document itself rather than hand it to parseSlow, so that the
// comparison cannot pass by the fast path giving up on everything.
var fastInputs = []struct {
	name string
	src  string
	fast bool
}{
	{"minimal", "<a/>", true},
	{"declaration", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<robot name=\"r\"/>\n", true},
	{"declaration single quotes", "<?xml version='1.0' encoding='utf-8'?><a/>", true},
	{"declaration no space", "<?xml?><a/>", true},
	{"declaration bad version", "<?xml version=\"1.1\"?><a/>", false},
	{"declaration latin1", "<?xml version=\"1.0\" encoding=\"latin1\"?><a/>", false},
	{"procinst", "<a><?pi  some data ?><?p?><?x-y.z:w a?b?></a>", true},
	{"procinst no target", "<a><? x?></a>", false},
	{"entities text", "<a>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x6a;&#0065;</a>", true},
	{"entities attr", `<a b="&lt;&gt;&amp;&apos;&quot;&#10;&#x9;&#xD;"/>`, true},
	{"entity surrogate", "<a>&#xD800;</a>", true},
	{"entity nul", "<a>&#0;</a>", false},
	{"entity too big", "<a>&#x110000;</a>", false},
	{"entity overflow", "<a>&#99999999999999999999999;</a>", false},
	{"entity upper X", "<a>&#X41;</a>", false},
	{"entity empty", "<a>&#;&#x;</a>", false},
	{"entity unknown", "<a>&nbsp;</a>", false},
	{"entity no semicolon", "<a>&amp</a>", false},
	{"entity at end", "<a/>&amp", false},
	{"ampersand alone", "<a>a & b</a>", false},
	{"crlf", "<a\r\nb=\"1\r\n2\r3\"\r\n>x\r\ny\rz\r\r\n</a\r\n>\r\n", true},
	{"cr before entity", "<a>\r&amp;\n&#13;\n</a>", true},
	{"tabs", "<a\tb=\"\t\"\t>\t<b\t/>\t</a\t>", true},
	{"unicode text", "<a>café ロボット 😀 \u00a0</a>", true},
	{"unicode attr", `<a n="ロボット 😀"/>`, true},
	{"unicode name", "<ロボット/>", false},
	{"unicode after name", "<aé/>", false},
	{"bad utf8 text", "<a>\xc3</a>", false},
	{"bad utf8 attr", "<a b=\"\xff\"/>", false},
	{"bad utf8 comment", "<a><!--\xff--></a>", true},
	{"noncharacter", "<a>\uffff</a>", false},
	{"control char", "<a>\x01</a>", false},
	{"del", "<a>\x7f</a>", true},
	{"comments", "<!----><a><!-- a - b -->x<!--->-->y</a><!-- - -->", true},
	{"comment with --", "<a><!-- a -- b --></a>", false},
	{"comment ---", "<a><!-- a ---></a>", false},
	{"comment unterminated", "<a/><!-- a --", false},
	{"comment short", "<a/><!-", false},
	{"cdata", "<a><![CDATA[<b>&amp;]]]]><![CDATA[\r\n]]>t<![CDATA[]]></a>", true},
	{"cdata bad", "<a><![CDATA[\x01]]></a>", false},
	{"cdata unterminated", "<a><![CDATA[ x ]]</a>", false},
	{"cdata misspelt", "<a><![CDATX[ x ]]></a>", false},
	{"]]> in text", "<a>x]]>y</a>", false},
	{"]] in text", "<a>x]]y]></a>", true},
	{"]]> in attr", `<a b="]]>"/>`, true},
	{"doctype", "<!DOCTYPE a><a/>", false},
	{"attrs without spaces", `<a b="1"c='2'd="3"/>`, true},
	{"attr spaces", "<a b = \"1\"\n c\t=\n'2' />", true},
	{"attr no value", "<a b/>", false},
	{"attr unquoted", "<a b=1/>", false},
	{"attr unterminated", "<a b=\"1/>", false},
	{"gt in attr", `<a b="x>y" c='>'/>`, true},
	{"lt in attr", `<a b="x<y"/>`, false},
	{"quotes in attr", `<a b="it's" c='say "hi"'/>`, true},
	{"duplicate attrs", `<a x="1" y="2" x="3" y:x="4" y:x="5"/>`, true},
	{"namespace mismatch", `<r xmlns="urn:a" xmlns:x="urn:x" x:a="1"><x:b x:c="2"/></x:r>`, false},
	{"namespaces ok", `<x:r xmlns="urn:a" xmlns:x="urn:x" x:a="1"><x:b x:c="2"/></x:r>`, true},
	{"odd colons", `<:a :b="1" c:="2"><d:/></:a>`, true},
	{"two colons", `<a:b:c/>`, false},
	{"two colons attr", `<a b:c:d="1"/>`, false},
	{"names", "<_a.b-c d.e-f_1=\"1\"><A9/></_a.b-c>", true},
	{"name starts with digit", "<1a/>", false},
	{"name starts with dash", "<-a/>", false},
	{"space after lt", "< a/>", false},
	{"space before gt", "<a ></a >", true},
	{"slash space gt", "<a / >", false},
	{"end tag junk", "<a></a b>", false},
	{"mismatch", "<a></b>", false},
	{"mismatch space", "<x:a></y:a>", false},
	{"stray end", "<a/></a>", false},
	{"unclosed", "<a><b></b>", false},
	{"two roots", "<a/><b/>", false},
	{"no root", "<!-- c -->", false},
	{"empty", "", false},
	{"whitespace only", " \n", false},
	{"text only", "text", false},
	{"lt at end", "<a/><", false},
	{"bom", "\ufeff<a/>", true},
	{"bom declaration", "\ufeff<?xml version=\"1.0\"?>\n<a/>", true},
	{"text around root", "\n  x\n<a/>\ny &amp; z\n", true},
	{"whitespace text", "<a>\n\t <b> </b>\r\n<c>\t</c></a>", true},
	{"deep ok", strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth), true},
	{"deep empty", strings.Repeat("<a>", MaxDepth-1) + "<b/>" + strings.Repeat("</a>", MaxDepth-1), true},
	{"too deep", strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1), false},
	{"too deep empty", strings.Repeat("<a>", MaxDepth) + "<b/>" + strings.Repeat("</a>", MaxDepth), false},
	{"positions", "<r>\n  <a/>\t<b/>é<c/>\n\n<d\n/></r>", true},
}

func TestFastPathInputs(t *testing.T) {
	for _, in := range fastInputs {
		t.Run(in.name, func(t *testing.T) {
			if _, ok, _ := parseFast([]byte(in.src)); ok != in.fast {
				t.Errorf("parseFast read it: %v, want %v", ok, in.fast)
			}
			checkFastSlow(t, []byte(in.src))
		})
	}
	for name, src := range tricky {
		t.Run("tricky/"+name, func(t *testing.T) { checkFastSlow(t, []byte(src)) })
	}
}

// TestFastPathCorpus compares the two paths on every robot file of the
// shared corpus. The fast path must read every well-formed one but those
// with a DOCTYPE, which it leaves to parseSlow.
func TestFastPathCorpus(t *testing.T) {
	dir := testcorpus.Dir(t)
	n, fast := 0, 0
	err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".urdf", ".xml", ".sdf", ".mjcf":
		default:
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			checkFastSlow(t, data)
			_, ok, _ := parseFast(data)
			if _, err := parseSlow(data); err == nil && !ok && !bytes.Contains(data, []byte("<!DOCTYPE")) {
				t.Error("well-formed, but not read by the fast path")
			}
			if ok {
				fast++
			}
		})
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no robot file under the corpus %s: is it complete?", dir)
	}
	t.Logf("%d of %d files on the fast path", fast, n)
}

// procgenDocs are the URDF and MJCF files of generated robots of every kind.
func procgenDocs(tb testing.TB) map[string][]byte {
	tb.Helper()
	prompts := []string{
		"a 6-DOF robot arm with a gripper", "a 3 dof arm", "parallel jaw gripper",
		"a quadruped robot dog", "a humanoid", "a mobile base", "a kitchen cabinet",
	}
	docs := make(map[string][]byte)
	for _, p := range prompts {
		for _, id := range []string{"a1", "b2"} {
			r := procgen.Generate(id, "Robot "+id, p)
			docs[p+"/"+id+".urdf"] = r.URDF()
			docs[p+"/"+id+".xml"] = r.MJCF()
		}
	}
	return docs
}

func TestFastPathProcgen(t *testing.T) {
	for name, data := range procgenDocs(t) {
		t.Run(name, func(t *testing.T) {
			if _, ok, _ := parseFast(data); !ok {
				t.Error("not on the fast path")
			}
			checkFastSlow(t, data)
		})
	}
}

func FuzzFastPath(f *testing.F) {
	for _, in := range fastInputs {
		f.Add([]byte(in.src))
	}
	for _, src := range tricky {
		f.Add([]byte(src))
	}
	for _, data := range procgenDocs(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastSlow(t, data)
	})
}

// checkFastSlow checks that Parse, fast path or not, gives what parseSlow
// gives: the same error, or the same tree and positions; and that the fast
// path reads nothing parseSlow refuses.
func checkFastSlow(t *testing.T, data []byte) {
	t.Helper()
	fd, fast, _ := parseFast(data)
	want, wantErr := parseSlow(data)
	if fast && wantErr != nil {
		t.Fatalf("the fast path reads what parseSlow refuses: %v", wantErr)
	}
	got, err := Parse(data)
	// Owned reads its own copy of the bytes the same way.
	owned, ownedErr := ParseWith(append([]byte(nil), data...), Options{Owned: true})
	if (ownedErr == nil) != (err == nil) || err != nil && ownedErr.Error() != err.Error() {
		t.Fatalf("ParseWith Owned: %v, Parse: %v", ownedErr, err)
	}
	if err == nil {
		sameDoc(t, owned, want)
		// Without white-space text, the elements are the same.
		noSpace, err := ParseWith(data, Options{NoSpace: true})
		if err != nil {
			t.Fatalf("ParseWith NoSpace: %v", err)
		}
		sameElements(t, &noSpace.Element, &want.Element, noSpace, want)
	}
	if err != nil || wantErr != nil {
		var se *SyntaxError
		if !errors.As(err, &se) || !reflect.DeepEqual(err, wantErr) || err.Error() != wantErr.Error() {
			t.Fatalf("error %#v, want %#v", err, wantErr)
		}
		return
	}
	if fast {
		got = fd
	}
	sameDoc(t, got, want)
}

// sameDoc compares two parsed documents: settings, every token of the tree
// and every recorded position.
func sameDoc(t *testing.T, got, want *Doc) {
	t.Helper()
	if !reflect.DeepEqual(got.ReadSettings, want.ReadSettings) || got.WriteSettings != want.WriteSettings {
		t.Errorf("settings %+v %+v, want %+v %+v", got.ReadSettings, got.WriteSettings, want.ReadSettings, want.WriteSettings)
	}
	if got.positions() != want.positions() {
		t.Errorf("%d positions, want %d", got.positions(), want.positions())
	}
	gs, err := got.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	ws, err := want.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	if gs != ws {
		t.Fatalf("serialised tree differs:\ngot  %q\nwant %q", gs, ws)
	}
	sameTokens(t, "doc", &got.Element, &want.Element, got, want)
}

// sameElements compares the element trees below a and b: names,
// attributes and positions, whatever text there is between them.
func sameElements(t *testing.T, a, b *etree.Element, da, db *Doc) {
	t.Helper()
	ka, kb := a.ChildElements(), b.ChildElements()
	if len(ka) != len(kb) {
		t.Fatalf("<%s>: %d child elements, want %d", a.Tag, len(ka), len(kb))
	}
	for i := range ka {
		x, y := ka[i], kb[i]
		if x.Space != y.Space || x.Tag != y.Tag || !reflect.DeepEqual(attrsOf(x), attrsOf(y)) || da.Pos(x) != db.Pos(y) {
			t.Fatalf("element %s:%s %v at %v, want %s:%s %v at %v", x.Space, x.Tag, attrsOf(x), da.Pos(x), y.Space, y.Tag, attrsOf(y), db.Pos(y))
		}
		sameElements(t, x, y, da, db)
	}
}

func attrsOf(e *etree.Element) []string {
	var out []string
	for _, a := range e.Attr {
		out = append(out, a.Space+":"+a.Key+"="+a.Value)
	}
	return out
}

// positions is how many elements have a recorded position.
func (d *Doc) positions() int {
	n := len(d.pos)
	for _, c := range d.chunks {
		n += len(c.pos)
	}
	return n
}
