package emulator

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/procgen"
	"github.com/antimlabs/gizmo/sync/api"
)

// The emulator's own routes beside the stats, with no key, to put an
// account in a state the API cannot reach by itself:
//
//	POST   /_emulator/assets       {"prompt", "name", "tags", "status", "extra_formats"}
//	DELETE /_emulator/assets/{id}
//
// The first adds an asset with a fixed status (failed, pending, or one the
// API does not document, such as archived) and formats beyond the
// documented ones (gazebo_sdf); the second deletes an asset, so that
// clients see it answer 404.

func (s *Server) handleAdminAdd(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Prompt string   `json:"prompt"`
		Name   string   `json:"name"`
		Tags   []string `json:"tags"`
		Status string   `json:"status"`
		Extra  []string `json:"extra_formats"`
	}
	if msg := decodeBody(r, &req); msg != "" {
		apiError(w, http.StatusBadRequest, "invalid_request", "invalid_json", msg)
		return
	}
	if req.Status == "" {
		req.Status = string(api.StatusReady)
	}
	var extra []formats.Format
	for _, f := range req.Extra {
		extra = append(extra, formats.Format(f))
	}
	a, err := s.AddAsset(req.Prompt, req.Name, req.Tags, api.Status(req.Status), extra...)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request", "invalid_asset", err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) handleAdminDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !s.Delete(id) {
		apiError(w, http.StatusNotFound, "not_found", "asset_not_found", fmt.Sprintf("no asset %q", id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// offersExtra tells whether the asset offers f beyond the documented
// formats.
func (r *record) offersExtra(f formats.Format) bool {
	for _, x := range r.Extra {
		if x == f {
			return true
		}
	}
	return false
}

// validExtra tells whether s can name an extra format: lower-case letters,
// digits and underscores, starting with a letter, at most 64 bytes.
func validExtra(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// extraExport is the body of an export in a format gizmo does not
// document: a small SDF world for a name with "sdf" in it, else text. A
// client can store it, never place or check it.
func extraExport(id, name string, f formats.Format) ([]byte, string) {
	slug := procgen.Slug(name)
	if slug == "" {
		slug = id
	}
	if strings.Contains(string(f), "sdf") {
		var b bytes.Buffer
		fmt.Fprintf(&b, "<?xml version=\"1.0\"?>\n<sdf version=\"1.9\">\n  <model name=%q>\n    <link name=\"base_link\">\n      <inertial><mass>1.0</mass></inertial>\n    </link>\n  </model>\n</sdf>\n", slug)
		return b.Bytes(), slug + ".sdf"
	}
	return []byte(fmt.Sprintf("asset %s exported as %s (emulated)\n", id, f)), slug + "." + string(f)
}

// Create makes an asset as POST /assets does: pending, processing after
// GenDelay/2, then ready (or failed, with FailRate) after GenDelay.
func (s *Server) Create(prompt, name string, tags []string) (api.Asset, error) {
	if strings.TrimSpace(prompt) == "" {
		return api.Asset{}, fmt.Errorf("emulator: empty prompt")
	}
	return s.create(prompt, name, tags)
}
