package check

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
)

// TestReader validates models given as bytes (standard input): the kind
// told from the content, problems named <stdin> with their lines, the
// files a model names looked up from the current folder.
func TestReader(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"meshes/a.stl": "solid a\nendsolid a\n",
		"robot.xml":    mjcfRobot,
	})
	zp := filepath.Join(t.TempDir(), "export.zip")
	makeZip(t, zp, []entry{{name: "robot/robot.urdf", body: goodURDF}, {name: "robot/meshes/a.stl", body: "solid a\nendsolid a\n"}})
	zipBytes, err := os.ReadFile(zp)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	tests := []struct {
		name, in string
		want     []summary
		line     int // the first error's line, when there is one
	}{
		{"urdf, mesh from the current folder", goodURDF, []summary{{StdinName, formats.KindURDF, ""}}, 0},
		{"urdf with an error", "<robot name=\"r\">\n<link name=\"a\"/>\n<joint name=\"j\" type=\"revolute\"><parent link=\"a\"/><child link=\"a\"/></joint>\n</robot>",
			[]summary{{StdinName, formats.KindURDF, "urdf-joint-limit"}}, 3},
		{"mjcf including a file of the current folder", mjcfScene, []summary{{StdinName, formats.KindMJCF, ""}}, 0},
		{"usda", usda, []summary{{StdinName, formats.KindUSDA, ""}}, 0},
		{"zip", string(zipBytes), []summary{{StdinName + "!/robot/robot.urdf", formats.KindURDF, ""}}, 0},
		{"not a model", "hello\n", []summary{{StdinName, "", "format-unknown"}}, 0},
		{"empty", "", []summary{{StdinName, "", "format-unknown"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Reader(context.Background(), StdinName, strings.NewReader(tt.in), validate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := summarize(res.Reports); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
			for _, r := range res.Reports {
				for _, p := range r.Errors {
					if !strings.HasPrefix(p.File, StdinName) {
						t.Errorf("problem names %q, not %s", p.File, StdinName)
					}
				}
			}
			if tt.line > 0 && res.Reports[0].Errors[0].Line != tt.line {
				t.Errorf("error on line %d, want %d: %+v", res.Reports[0].Errors[0].Line, tt.line, res.Reports[0].Errors[0])
			}
		})
	}

	t.Run("too large", func(t *testing.T) {
		maxStdin = int64(len(goodURDF)) - 1
		t.Cleanup(func() { maxStdin = MaxStdin })
		res, err := Reader(context.Background(), StdinName, strings.NewReader(goodURDF), validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := summarize(res.Reports), []summary{{StdinName, "", "file-too-large"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
	})
}
