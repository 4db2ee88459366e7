package urdf

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/validate"
)

// FuzzCheckBytes feeds arbitrary bytes to the URDF reader: it must not
// panic, and its reports must be consistent.
func FuzzCheckBytes(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "conformance", "*.urdf"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data, false)
		}
	}
	f.Add([]byte(armURDF), true)
	f.Add([]byte(billionLaughs), false)
	f.Add([]byte(`<robot name="r"><link name="a"/><joint name="j" type="revolute"><parent link="a"/><child link="a"/><limit effort="1" velocity="1"/></joint></robot>`), false)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		r := CheckBytes("f.urdf", data, dir, validate.Options{Strict: strict})
		if r.Valid != (len(r.Errors) == 0) {
			t.Fatalf("Valid = %v with %d errors", r.Valid, len(r.Errors))
		}
		if strict && len(r.Warnings) > 0 {
			t.Fatalf("strict report has warnings")
		}
		for _, p := range append(r.Errors, r.Warnings...) {
			if p.File != "f.urdf" || p.Rule == "" || p.Message == "" || p.Line < 0 || p.Col < 0 {
				t.Fatalf("malformed problem %+v", p)
			}
			if len(p.Message) > validate.MaxMessage+64 {
				t.Fatalf("a message of %d bytes: %.200s", len(p.Message), p.Message)
			}
		}
		if root, err := TreeBytes("f.urdf", data); err == nil && root == nil {
			t.Fatal("TreeBytes returned neither a tree nor an error")
		}
	})
}

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE robot [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<robot name="&lol9;"><link name="a"/></robot>
`

// TestHostileInputs checks that nesting, huge attributes and entity tricks
// are refused or read in memory proportional to the input.
func TestHostileInputs(t *testing.T) {
	hugeSize, links := 8<<20, 50000
	if testing.Short() {
		hugeSize, links = 1<<20, 2000
	}
	deep := strings.Repeat("<link>", 100000) + strings.Repeat("</link>", 100000)
	huge := `<robot name="r"><link name="` + strings.Repeat("a", hugeSize) + `"/></robot>`
	manyLinks := `<robot name="r">` + strings.Repeat(`<link name="x"/>`, links) + `</robot>`
	tests := []struct {
		name      string
		data      string
		wantError string // a rule that must be among the errors
	}{
		{"deep nesting", `<robot name="r">` + deep + `</robot>`, "urdf-xml"},
		{"billion laughs", billionLaughs, "urdf-xml"},
		{"external entity", `<!DOCTYPE robot [<!ENTITY x SYSTEM "file:///etc/passwd">]><robot name="&x;"><link name="a"/></robot>`, "urdf-xml"},
		{"huge attribute", huge, ""},
		{"many duplicate links", manyLinks, "urdf-link-duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			r := CheckBytes("h.urdf", []byte(tt.data), t.TempDir(), validate.Options{})
			runtime.ReadMemStats(&after)
			if tt.wantError != "" && !hasRule(r.Errors, tt.wantError) {
				t.Errorf("want a %s error, got %v", tt.wantError, rules(r.Errors))
			}
			if tt.wantError == "" && len(r.Errors) > 0 {
				t.Errorf("unexpected errors %v", rules(r.Errors))
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(64*len(tt.data))+(16<<20) {
				t.Errorf("allocated %d bytes for %d bytes of input", alloc, len(tt.data))
			}
			if len(r.Errors) > 0 && len(r.Errors[0].Message) > 4096 {
				t.Errorf("message of %d bytes: problems must not echo huge input", len(r.Errors[0].Message))
			}
		})
	}
}
