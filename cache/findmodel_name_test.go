package cache

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/formats"
)

func TestSingleFileName(t *testing.T) {
	for _, tt := range []struct {
		hint string
		kind formats.Kind
		want string
	}{
		// The server's name, as a zip's model keeps Gizmo's.
		{"arm_1.usda", formats.KindUSDA, "arm_1.usda"},
		{"arm_1.usd", formats.KindUSDC, "arm_1.usd"},
		{"gripper-2.urdf", formats.KindURDF, "gripper-2.urdf"},
		{"arm.v2.xml", formats.KindMJCF, "arm.v2.xml"},
		{"arm.sdf", formats.KindSDF, "arm.sdf"},
		// An extension that does not fit the content is replaced.
		{"arm_1.bin", formats.KindUSDA, "arm_1.usda"},
		{"arm_1", formats.KindUSDC, "arm_1.usdc"},
		{"arm.USDA", formats.KindUSDA, "arm.usda"},
		// Not a plain name: made one; never a path.
		{"Робот.usda", formats.KindUSDA, "robot.usda"},
		{"Arm 1.usda", formats.KindUSDA, "arm-1.usda"},
		{"../../etc/passwd.urdf", formats.KindURDF, "passwd.urdf"},
		{`C:\x\arm.urdf`, formats.KindURDF, "arm.urdf"},
		{".hidden.usda", formats.KindUSDA, "hidden.usda"},
		{"con.usda", formats.KindUSDA, "con-asset.usda"},
		{strings.Repeat("a", 300) + ".usda", formats.KindUSDA, strings.Repeat("a", 48) + ".usda"},
		// No usable hint: model.<ext>, as before.
		{"", formats.KindUSDA, "model.usda"},
		{"🤖.usda", formats.KindUSDA, "model.usda"},
		{"..", formats.KindURDF, "model.urdf"},
		{"/", formats.KindMJCF, "model.xml"},
	} {
		t.Run(tt.hint, func(t *testing.T) {
			got := singleFileName(tt.hint, tt.kind)
			if got != tt.want {
				t.Errorf("singleFileName(%q, %s) = %q, want %q", tt.hint, tt.kind, got, tt.want)
			}
			if !filepath.IsLocal(got) || filepath.Base(got) != got {
				t.Errorf("singleFileName(%q) = %q is not one plain file name", tt.hint, got)
			}
		})
	}
}

// A single USD file is stored under the server's name for it, as the
// models in zips are; its tree holds that file.
func TestStoreSingleFileNamed(t *testing.T) {
	c := openTest(t)
	data := []byte("#usda 1.0\n(\n)\n")
	e, err := c.Store(context.Background(), "ast_usd1", string(formats.IsaacUSD), func(ctx context.Context, w Writer) (string, error) {
		w.SetFilename("arm_1.usda")
		_, err := io.Copy(w, strings.NewReader(string(data)))
		return `"e"`, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.Model != "arm_1.usda" || strings.Join(e.Files, " ") != "arm_1.usda" {
		t.Fatalf("entry names the model %q (files %v), want arm_1.usda", e.Model, e.Files)
	}
	mp, err := c.Unpack(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(mp) != "arm_1.usda" {
		t.Errorf("Unpack = %s, want .../arm_1.usda", mp)
	}
	if b, err := os.ReadFile(mp); err != nil || string(b) != string(data) {
		t.Errorf("model file: %q, %v", b, err)
	}
}
