package layout

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/antimlabs/gizmo/formats"
)

// TestModelPath: what Source.ModelPath predicts is the path Place records,
// for every format, for text and binary USD, and with or without a Kind.
func TestModelPath(t *testing.T) {
	usdSource := func(t *testing.T, name string, body []byte, kind formats.Kind) Source {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o444); err != nil {
			t.Fatal(err)
		}
		return Source{Format: formats.IsaacUSD, Hash: sha(body), Tree: dir, Model: name, Kind: kind}
	}
	tests := []struct {
		name   string
		layout Layout
		src    func(t *testing.T) Source
		want   string
	}{
		{"mujoco", MuJoCo, func(t *testing.T) Source {
			return procgenSource(t, "ast_1", "Arm", "a robotic arm", formats.MuJoCo)
		}, "arm.xml"},
		{"isaac urdf", Isaac, func(t *testing.T) Source {
			return procgenSource(t, "ast_1", "Arm", "a robotic arm", formats.IsaacURDF)
		}, "urdf/arm.urdf"},
		{"usda with its kind", Isaac, func(t *testing.T) Source {
			return usdSource(t, "robot.usd", []byte("#usda 1.0\n"), formats.KindUSDA)
		}, "arm.usda"},
		{"usdc with its kind", Isaac, func(t *testing.T) Source {
			return usdSource(t, "robot.usd", []byte("PXR-USDC\x00\x00\x00\x00"), formats.KindUSDC)
		}, "arm.usd"},
		{"usda named so, kind unknown", Isaac, func(t *testing.T) Source {
			return usdSource(t, "robot.usda", []byte("#usda 1.0\n"), formats.KindUnknown)
		}, "arm.usda"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src(t)
			if got := src.ModelPath("arm"); got != tt.want {
				t.Errorf("ModelPath = %q, want %q", got, tt.want)
			}
			tgt := Target{Dir: t.TempDir(), Layout: tt.layout}
			p, err := tgt.Place(Asset{ID: "ast_1", Name: "Arm", Slug: "arm", Sources: []Source{src}})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Models) != 1 || p.Models[0].Path != src.ModelPath("arm") {
				t.Errorf("Place recorded %+v, ModelPath says %q", p.Models, src.ModelPath("arm"))
			}
			if _, err := os.Stat(filepath.Join(tgt.Dir, "arm", filepath.FromSlash(tt.want))); err != nil {
				t.Errorf("the model is not where ModelPath says: %v", err)
			}
		})
	}
}
