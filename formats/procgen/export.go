package procgen

import (
	"archive/zip"
	"bytes"
	"fmt"
	"sort"
	"time"

	"github.com/antimlabs/gizmo/formats"
)

// zipTime is the modification time of every zip entry, so archives are
// byte-identical across runs.
var zipTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Export renders the robot in format f: for formats.IsaacURDF a zip holding
// <slug>.urdf and meshes/*.stl, for formats.MuJoCo a zip holding <slug>.xml
// and assets/*.stl, for formats.IsaacUSD the <slug>.usda text. filename is
// the name to serve it under. The bytes are identical on every call.
func (r *Robot) Export(f formats.Format) (body []byte, filename string, err error) {
	switch f {
	case formats.IsaacURDF:
		files := r.meshFiles("meshes/")
		files[r.slug+".urdf"] = r.URDF()
		body, err = zipFiles(files)
		return body, r.slug + "_urdf.zip", err
	case formats.MuJoCo:
		files := r.meshFiles("assets/")
		files[r.slug+".xml"] = r.MJCF()
		if r.modular {
			files[wheelModule] = r.wheelModuleMJCF()
		}
		body, err = zipFiles(files)
		return body, r.slug + "_mjcf.zip", err
	case formats.IsaacUSD:
		return r.USDA(), r.slug + ".usda", nil
	}
	return nil, "", fmt.Errorf("export %s: unknown format %q: use %s, %s or %s", r.id, f, formats.IsaacUSD, formats.IsaacURDF, formats.MuJoCo)
}

// meshFiles returns the robot's STL meshes keyed by dir+stem+".stl".
func (r *Robot) meshFiles(dir string) map[string][]byte {
	files := map[string][]byte{}
	for _, l := range r.meshes() {
		name := dir + l.Geom.Mesh + ".stl"
		if _, ok := files[name]; !ok {
			files[name] = encodeSTL(l.Geom.Mesh, meshTriangles(l.Geom))
		}
	}
	return files
}

// zipFiles writes files into a zip in sorted name order with a fixed
// modification time.
func zipFiles(files map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		h := &zip.FileHeader{Name: n, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", n, err)
		}
		if _, err := w.Write(files[n]); err != nil {
			return nil, fmt.Errorf("zip %s: %w", n, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}
