package procgen

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// TestSDFWellFormed checks that every kind of robot renders as well-formed
// SDF XML with one link and joint per model element, and that the zip holds
// every mesh the SDF references.
func TestSDFWellFormed(t *testing.T) {
	for _, prompt := range []string{
		"A 6-DOF industrial robotic arm with a parallel jaw gripper",
		"A four-legged quadruped robot for rough terrain",
		"A humanoid robot with two arms and two legs",
		"A wheeled mobile base with a differential drive",
		"An articulated cabinet with drawers and doors",
	} {
		t.Run(prompt, func(t *testing.T) {
			r := Generate("ast_sdf", "sdf", prompt)
			var doc struct {
				XMLName xml.Name `xml:"sdf"`
				Model   struct {
					Links []struct {
						Name string `xml:"name,attr"`
					} `xml:"link"`
					Joints []struct {
						Name string `xml:"name,attr"`
					} `xml:"joint"`
				} `xml:"model"`
			}
			if err := xml.Unmarshal(r.SDF(), &doc); err != nil {
				t.Fatalf("SDF is not well-formed: %v", err)
			}
			if len(doc.Model.Links) != len(r.Links) || len(doc.Model.Joints) != len(r.Joints) {
				t.Errorf("SDF has %d links, %d joints; the robot %d, %d", len(doc.Model.Links), len(doc.Model.Joints), len(r.Links), len(r.Joints))
			}
			body, name, err := r.ExportSDF()
			if err != nil || !strings.HasSuffix(name, "_sdf.zip") {
				t.Fatalf("ExportSDF: %q, %v", name, err)
			}
			zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			var model []byte
			for _, f := range zr.File {
				have[f.Name] = true
				if strings.HasSuffix(f.Name, ".sdf") {
					rc, _ := f.Open()
					model, _ = io.ReadAll(rc)
					rc.Close()
				}
			}
			for _, l := range r.meshes() {
				if !have["meshes/"+l.Geom.Mesh+".stl"] {
					t.Errorf("mesh %s missing from the zip", l.Geom.Mesh)
				}
			}
			if !bytes.Equal(model, r.SDF()) {
				t.Error("the zip's .sdf differs from SDF()")
			}
			again, _, _ := r.ExportSDF()
			if !bytes.Equal(again, body) {
				t.Error("ExportSDF is not deterministic")
			}
		})
	}
}
