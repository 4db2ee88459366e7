package urdf

import (
	"testing"

	"github.com/antimlabs/gizmo/validate"
)

// TestTopLevel pins how the top level of a document is read, with the
// verdicts check_urdf (tinyxml2) gives on each input.
func TestTopLevel(t *testing.T) {
	const r = `<robot name="r"><link name="a"/></robot>`
	tests := []struct {
		name   string
		src    string
		accept bool // check_urdf's verdict
	}{
		{"plain", r, true},
		{"elements around", `<a/>` + r + `<b x='1'/>`, true},
		{"element before", `<foo/>` + r, true},
		{"two robots", `<robot name='x'><link name='q'/></robot>` + r, true},
		{"text then garbage", r + `junk<foo`, true},
		{"unclosed after", r + `<foo>`, false},
		{"malformed before", `<a><b></a>` + r, false},
		{"mismatched after", r + `<b></c>`, false},
		{"robot nested", `<a>` + r + `</a>`, false},
		{"text before robot", `<foo/>junk` + r, false},
		{"processing instruction with '>'", `<?pi a>b?>` + r, false},
		{"declaration with '>'", `<?xml version="1.0" > ?>` + r, false},
		{"declaration '? >'", `<?xml version="1.0"? >` + r, true},
		{"comment with '>'", `<!-- a > b -->` + r, true},
		{"NUL after the robot", r + "\x00<foo", true},
		{"NUL inside the robot", `<robot name="r"><link name="a"/>` + "\x00" + `</robot>`, false},
		{"mismatched inside", `<robot name="r"><link name="a"></linkx></robot>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := CheckBytes("t.urdf", []byte(tt.src), t.TempDir(), validate.Options{})
			if got := len(rep.Errors) == 0; got != tt.accept {
				t.Errorf("accepted = %v, check_urdf says %v: %v", got, tt.accept, rep.Errors)
			}
		})
	}
}
