package urdf

import "testing"

// TestScanHelpers pins the small byte-scan helpers the markup scans share.
func TestScanHelpers(t *testing.T) {
	ends := []struct {
		nodes []node
		rest  string
		want  string
		ok    bool
	}{
		{prologNodes, "<!-- c --><robot/>", "-->", true},
		{prologNodes, "<![CDATA[x]]>", "]]>", true},
		{prologNodes, "<!DOCTYPE robot>", ">", true},
		{prologNodes, "<?xml version='1.0'?>", ">", true},
		{prologNodes, "<robot/>", "", false},
		{markupNodes, "<?pi x?>", "?>", true},
		{markupNodes, "<!DOCTYPE robot>", "", false},
		{markupNodes, "</robot>", "", false},
	}
	for _, c := range ends {
		if got, ok := nodeEnd(c.nodes, []byte(c.rest)); got != c.want || ok != c.ok {
			t.Errorf("nodeEnd(%q) = %q, %v; want %q, %v", c.rest, got, ok, c.want, c.ok)
		}
	}
	past := []struct {
		data, end string
		i, want   int
	}{
		{"<!-- c -->x", "-->", 0, 10},
		{"ab>cd>", ">", 3, 6},
		{"<!-- open", "-->", 0, 9},
	}
	for _, c := range past {
		if got := skipPast([]byte(c.data), c.i, c.end); got != c.want {
			t.Errorf("skipPast(%q, %d, %q) = %d, want %d", c.data, c.i, c.end, got, c.want)
		}
	}
	for _, c := range []struct {
		data            string
		i, line, column int
	}{{"abc", 1, 1, 2}, {"a\nbc", 3, 2, 2}, {"\n\n", 2, 3, 1}} {
		if l, col := position([]byte(c.data), c.i); l != c.line || col != c.column {
			t.Errorf("position(%q, %d) = %d:%d, want %d:%d", c.data, c.i, l, col, c.line, c.column)
		}
	}
}
