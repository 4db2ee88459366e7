package emulator

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
)

// exportFormat reads the format of an export from the query and the body;
// the strict server wants both, the same. ok is false after answering.
func (s *Server) exportFormat(w http.ResponseWriter, r *http.Request) (wire string, f formats.Format, ok bool) {
	q := r.URL.Query().Get("format")
	var body struct {
		Format       string `json:"format"`
		RobotProfile string `json:"robot_profile"`
	}
	if r.ContentLength != 0 {
		if msg := decodeBody(r, &body); msg != "" {
			nestedError(w, http.StatusBadRequest, "invalid_json", msg)
			return "", "", false
		}
	}
	switch {
	case s.cur.opts.Strict && (q == "" || body.Format == ""):
		validationError(w, "format", "send the format in both the query (?format=) and the body (this server is strict)")
		return "", "", false
	case q != "" && body.Format != "" && q != body.Format:
		validationError(w, "format", fmt.Sprintf("the query says format %q, the body %q", q, body.Format))
		return "", "", false
	}
	wire = body.Format
	if wire == "" {
		wire = q
	}
	if wire == "" {
		validationError(w, "format", "field required: mjcf, usd or sdf")
		return "", "", false
	}
	for _, cf := range currentFormats {
		if cf.wire == wire {
			return wire, cf.f, true
		}
	}
	msg := fmt.Sprintf("unknown format %q: want mjcf, usd or sdf", wire)
	if wire == "urdf" || wire == string(formats.IsaacURDF) {
		msg = fmt.Sprintf("format %q is not served: this generation exports mjcf, usd and sdf (no URDF)", wire)
	}
	validationError(w, "format", msg)
	return "", "", false
}

func (s *Server) handleAssetExport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, f, ok := s.exportFormat(w, r)
	if !ok {
		return
	}
	rec, found := s.record(id)
	if !found {
		notFound(w, "asset", id)
		return
	}
	if st := rec.status(s.now()); st != api.StatusReady {
		nestedError(w, http.StatusConflict, "asset_not_ready", fmt.Sprintf("asset %s is %s; export it once it is ready", id, currentStatus(st)))
		return
	}
	if !s.cur.charge(w, "an export") {
		return
	}
	e, err := s.zipExport(exportKey{id, f}, func() ([]byte, string, error) {
		if f == formats.GazeboSDF {
			return sdfExport(rec.ID, rec.Name, rec.Prompt)
		}
		return s.cfg.Generate(rec.ID, rec.Name, rec.Prompt, f)
	})
	if err != nil {
		nestedError(w, http.StatusInternalServerError, "export_failed", err.Error())
		return
	}
	s.serveZip(w, r, e)
}

// CurrentExportBytes is the ZIP the current generation answers for an
// asset's export, so tests can compare stored files byte for byte.
func (s *Server) CurrentExportBytes(id string, f formats.Format) ([]byte, error) {
	rec, ok := s.record(id)
	if !ok {
		return nil, fmt.Errorf("emulator: no asset %q", id)
	}
	e, err := s.zipExport(exportKey{id, f}, func() ([]byte, string, error) {
		if f == formats.GazeboSDF {
			return sdfExport(rec.ID, rec.Name, rec.Prompt)
		}
		return s.cfg.Generate(rec.ID, rec.Name, rec.Prompt, f)
	})
	if err != nil {
		return nil, err
	}
	return io.ReadAll(e.reader())
}

// zipKey marks the current generation's (zipped) exports in the LRU.
const zipKey = "zip:"

// zipExport returns the export for key as a ZIP: gen's body as it is when
// it is one already, else wrapped in one.
func (s *Server) zipExport(key exportKey, gen func() ([]byte, string, error)) (*exported, error) {
	k := exportKey{zipKey + key.id, key.f}
	if e := s.cache.get(k); e != nil {
		return e, nil
	}
	body, name, err := gen()
	if err != nil {
		return nil, fmt.Errorf("emulator: export %s/%s: %w", key.id, key.f, err)
	}
	if formats.Detect(body) != formats.KindZip {
		if body, err = zipOne(name, body); err != nil {
			return nil, err
		}
		name = strings.TrimSuffix(name, "."+extOf(name)) + ".zip"
	}
	e := newExported(k, body, name)
	s.cache.put(e)
	return e, nil
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

// serveZip writes an export answer: 200 application/zip, the whole body,
// cut short with the truncate rate as downloads are.
func (s *Server) serveZip(w http.ResponseWriter, r *http.Request, e *exported) {
	s.serveExport(w, r, e)
}
