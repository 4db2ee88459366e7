package xmlpos

import (
	"errors"
	"strings"
	"testing"
)

func TestPositions(t *testing.T) {
	src := "<?xml version=\"1.0\"?>\n<!-- c -->\n<robot name=\"r\">\n  <link name=\"a\"/>\n  text <link\n     name=\"b\"><visual/></link>\n</robot>\n"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	root := d.Root()
	want := map[string]Pos{"robot": {3, 1}}
	if got := d.Pos(root); got != want["robot"] {
		t.Errorf("robot at %v, want %v", got, want["robot"])
	}
	links := root.SelectElements("link")
	if got := d.Pos(links[0]); got != (Pos{4, 3}) {
		t.Errorf("link a at %v, want 4:3", got)
	}
	if got := d.Pos(links[1]); got != (Pos{5, 8}) {
		t.Errorf("link b at %v, want 5:8", got)
	}
	if got := d.Line(links[1].SelectElement("visual")); got != 6 {
		t.Errorf("visual on line %d, want 6", got)
	}
}

func TestSyntaxError(t *testing.T) {
	for _, src := range []string{"<robot><link></robot>", "<robot>", "", "<a/><b/>", "no xml"} {
		_, err := Parse([]byte(src))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a SyntaxError", src, err)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	var b []byte
	for i := 0; i < MaxDepth+1; i++ {
		b = append(b, "<a>"...)
	}
	for i := 0; i < MaxDepth+1; i++ {
		b = append(b, "</a>"...)
	}
	if _, err := Parse(b); err == nil {
		t.Fatal("deep nesting accepted")
	}
}

// BenchmarkParseLarge parses a document of many elements on many lines: the
// cost of finding each element's position must not grow with its offset.
func BenchmarkParseLarge(b *testing.B) {
	benchLarge(b, Parse)
}

// BenchmarkParseLargeSlow is BenchmarkParseLarge on the encoding/xml path
// alone.
func BenchmarkParseLargeSlow(b *testing.B) {
	benchLarge(b, parseSlow)
}

func benchLarge(b *testing.B, parse func([]byte) (*Doc, error)) {
	var buf []byte
	buf = append(buf, "<robot name=\"r\">\n"...)
	for i := 0; i < 20000; i++ {
		buf = append(buf, "  <link name=\"l\">\n    <visual/>\n  </link>\n"...)
	}
	buf = append(buf, "</robot>\n"...)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := parse(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMaxNodes: a document with more nodes than the bound is refused, on
// the fast path and the slow one (a DOCTYPE sends a document there), and
// one at the bound is read.
func TestMaxNodes(t *testing.T) {
	maxNodes = 100
	t.Cleanup(func() { maxNodes = MaxNodes })
	doc := func(prolog string, n int) []byte {
		return []byte(prolog + "<r>" + strings.Repeat("<a/><!--c--><![CDATA[x]]>", n/3) + "</r>")
	}
	for _, tt := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"fast, at the bound", doc("", 99), true},
		{"fast, over", doc("", 102), false},
		{"slow, at the bound", doc("<!DOCTYPE r>", 98), true},
		{"slow, over", doc("<!DOCTYPE r>", 102), false},
	} {
		_, err := Parse(tt.data)
		if tt.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), "more than 100 elements") {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}
