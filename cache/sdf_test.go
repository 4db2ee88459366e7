package cache

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/antimlabs/gizmo/formats"
)

const sdfDoc = `<?xml version="1.0"?>
<sdf version="1.9"><model name="arm"><link name="base_link"/></model></sdf>
`

// TestStoreSDF: an export in gazebo_sdf, a format gizmo neither places nor
// checks, is stored as it comes (a zip with its .sdf, or the .sdf alone)
// with the .sdf as its model; an SDF file is no model for another format.
func TestStoreSDF(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		model string
	}{
		{"zip", makeZip(t, zfile{"arm.sdf", sdfDoc}, zfile{"meshes/base.stl", "solid x"}), "arm.sdf"},
		{"single file", []byte(sdfDoc), "model.sdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			e, err := c.Store(context.Background(), "ast_x", string(formats.GazeboSDF), bytesFetch(tt.data, ""))
			if err != nil {
				t.Fatal(err)
			}
			if e.Model != tt.model || e.ModelKind != formats.KindSDF {
				t.Errorf("model %q (%s), want %q (sdf)", e.Model, e.ModelKind, tt.model)
			}
			if _, err := c.Unpack(context.Background(), e); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(c.ModelPath(e)); err != nil || string(b) != sdfDoc {
				t.Errorf("model file: %v %q", err, b)
			}
		})
	}
	c := openTest(t)
	_, err := c.Store(context.Background(), "ast_x", string(formats.MuJoCo), bytesFetch(makeZip(t, zfile{"arm.sdf", sdfDoc}), ""))
	if !errors.Is(err, ErrNoModel) {
		t.Errorf("an SDF zip stored as mujoco_mjcf: %v, want ErrNoModel", err)
	}
}
