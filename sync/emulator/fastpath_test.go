package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
)

// The fast paths of the handlers must answer byte for byte as the general
// code they skip (encoding/json, url.ParseQuery) does: these tests compare
// them with it.

var exportBodies = []string{
	`{"format":"mujoco_mjcf"}`,
	`{"format":"isaac_sim_usd"}` + "\n",
	`{"format":"isaac_sim_urdf"} ` + "\r\n\t",
	` {"format":"mujoco_mjcf"}`,
	`{ "format" : "mujoco_mjcf" }`,
	`{"format":"mujoco_mjcf"}x`,
	`{"format":"mujoco_mjcf"}{}`,
	`{"format":"mujoco_mjcf","format":"nope"}`,
	`{"format":"mujoco\u005fmjcf"}`,
	`{"format":"MUJOCO_MJCF"}`,
	`{"format":"nope"}`,
	`{"format":""}`,
	`{"format":null}`,
	`{"format":1}`,
	`{"Format":"mujoco_mjcf"}`,
	`{"format":"mujoco_mjcf"`,
	`{"format":"mujoco_mjcf"}` + strings.Repeat(" ", 300),
	`{"format":"mujoco_mjcf"}` + strings.Repeat(" ", 300) + "x",
	`{"format":"` + strings.Repeat("a", 200) + `"}`,
	`{}`,
	`[]`,
	``,
	`null`,
}

// decodeFormatReference is how the export handler read its body before
// readFormat: encoding/json's decoder for the whole body.
func decodeFormatReference(body, contentType string) (*string, string) {
	r := httptest.NewRequest("POST", "/assets/x/export", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	var req struct {
		Format *string `json:"format"`
	}
	if msg := decodeBody(r, &req); msg != "" {
		return nil, msg
	}
	return req.Format, ""
}

func checkReadFormat(t *testing.T, body, contentType string) {
	t.Helper()
	r := httptest.NewRequest("POST", "/assets/x/export", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	got, gotMsg := readFormat(r)
	want, wantMsg := decodeFormatReference(body, contentType)
	if gotMsg != wantMsg || (got == nil) != (want == nil) || (got != nil && *got != *want) {
		t.Errorf("body %q, Content-Type %q: readFormat = %v %q, want %v %q", body, contentType, deref(got), gotMsg, deref(want), wantMsg)
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestReadFormatMatchesDecoder(t *testing.T) {
	for _, body := range exportBodies {
		for _, ct := range []string{"application/json", "", "text/plain", "application/json; charset=utf-8", "application/"} {
			checkReadFormat(t, body, ct)
		}
	}
}

func FuzzReadFormat(f *testing.F) {
	for _, b := range exportBodies {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) { checkReadFormat(t, body, "application/json") })
}

var rawQueries = []string{
	"expires=1700000000&sig=abc",
	"sig=abc&expires=1700000000",
	"expires=1&expires=2&sig=a&sig=b",
	"expires&sig",
	"expires=&sig=",
	"",
	"&&expires=1&&",
	"=1&expires=2",
	"x=1;y&expires=1&sig=a",
	"expires=%31&sig=a",
	"expires=1+2&sig=a%zz",
	"sig=a=b&expires==1",
	"EXPIRES=1&sig=a",
}

func checkSignedParams(t *testing.T, raw string) {
	t.Helper()
	u := &url.URL{Path: "/_download/a/b", RawQuery: raw}
	exp, sig := signedParams(u)
	q := u.Query()
	if exp != q.Get("expires") || sig != q.Get("sig") {
		t.Errorf("query %q: signedParams = %q, %q; url.Values says %q, %q", raw, exp, sig, q.Get("expires"), q.Get("sig"))
	}
}

func TestSignedParamsMatchesQuery(t *testing.T) {
	for _, raw := range rawQueries {
		checkSignedParams(t, raw)
	}
}

func FuzzSignedParams(f *testing.F) {
	for _, raw := range rawQueries {
		f.Add(raw)
	}
	f.Fuzz(checkSignedParams)
}

var exportURLs = []string{
	"http://127.0.0.1:8750/_download/ast_00000001/mujoco_mjcf?expires=1700000000&sig=0123abcd",
	"http://h&x:1/_download/a&b/isaac_sim_usd?expires=-5&sig=ff",
	"http://a<b>/x",
	`http://a"b\c/x`,
	"http://é/x",
	"http://a\x01b/x",
	"http://a\u2028b/x",
	"http://a\x7fb/x",
	"",
}

func checkExportJSON(t *testing.T, u string, exp time.Time) {
	t.Helper()
	b, ok := exportJSON([]byte(u), exp)
	want, err := json.Marshal(api.Export{URL: u, ExpiresAt: exp})
	if !ok {
		if err == nil && strings.Trim(u, " !#$%'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~&") == "" {
			t.Errorf("exportJSON(%q, %v) fell back for a printable URL", u, exp)
		}
		return
	}
	if err != nil || !bytes.Equal(b, append(want, '\n')) {
		t.Errorf("exportJSON(%q, %v) = %s, json.Marshal says %s (%v)", u, exp, b, want, err)
	}
}

func TestExportJSONMatchesMarshal(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 11, 28, 9, 15, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, u := range exportURLs {
		for _, exp := range times {
			checkExportJSON(t, u, exp)
		}
	}
	if _, ok := exportJSON([]byte(exportURLs[0]), times[0]); !ok {
		t.Error("exportJSON fell back for the usual URL")
	}
}

func FuzzExportJSON(f *testing.F) {
	for _, u := range exportURLs {
		f.Add(u, int64(1700000000))
	}
	f.Fuzz(func(t *testing.T, u string, unix int64) {
		checkExportJSON(t, u, time.Unix(unix, 0).UTC())
	})
}

// TestPageJSONMatchesMarshal: the list made of cached JSON is the
// json.Marshal of its api.Page, for assets of every status, the clock
// moving them on.
func TestPageJSONMatchesMarshal(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	s, err := New(Config{Assets: 25, Seed: 2, SeedSettle: time.Minute, FailRate: 0.5, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s.AddAsset(`A <gripper> & "arm" é`, "", nil, api.StatusReady)
	s.AddAsset("A quadruped", "q", []string{"a<b", "é"}, api.StatusFailed)
	s.AddAsset("A cabinet", "", []string{}, "unknown")
	for _, step := range []time.Duration{0, 31 * time.Second, 30 * time.Second} {
		now = now.Add(step)
		for _, lo := range [][2]int{{20, 0}, {100, 0}, {5, 24}, {1, 27}, {10, 28}, {10, 1000}} {
			limit, offset := lo[0], lo[1]
			recs, total := s.page(limit, offset)
			got, ok := pageJSON(recs, now, total, limit, offset)
			assets := []api.Asset{}
			for _, r := range recs {
				assets = append(assets, r.asset(now, false))
			}
			want, _ := json.Marshal(api.Page{Assets: assets, Total: total, Limit: limit, Offset: offset})
			if !ok || !bytes.Equal(got, append(want, '\n')) {
				t.Errorf("at %v, limit %d offset %d: pageJSON =\n%s\njson.Marshal =\n%s", now, limit, offset, got, want)
			}
		}
	}
}

// TestDownloadHeadersShared: a download's header values are shared between
// requests; what one answer's header gets added must not leak into the
// next.
func TestDownloadHeadersShared(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.AddAsset("A 7-DOF collaborative robot arm", "", nil, api.StatusReady)
	exp := s.now().Add(time.Minute).Unix()
	target := "/_download/" + a.ID + "/" + string(formats.MuJoCo) + "?expires=" + strconv.FormatInt(exp, 10) + "&sig=" + s.sign(a.ID, formats.MuJoCo, exp)
	var first string
	for i := range 3 {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != 200 {
			t.Fatalf("download %d: %d %s", i, rec.Code, rec.Body)
		}
		// A wrapper adding to the header after the handler.
		rec.Header().Add("Cache-Control", "no-store")
		rec.Header().Add("Etag", "x")
		rec.Header().Add("Content-Type", "x")
		got := strings.Join(rec.Result().Header.Values("Cache-Control"), ",") + rec.Result().Header.Get("Etag") + rec.Body.String()[:10]
		if i == 0 {
			first = got
		} else if got != first {
			t.Errorf("download %d: %q, first %q", i, got, first)
		}
	}
	e, _ := s.export(record{ID: a.ID}, formats.MuJoCo)
	if len(e.etagHeader) != 1 || len(e.contentType) != 1 || len(cacheControl) != 1 || len(jsonContentType) != 1 {
		t.Errorf("a shared header value changed: %q %q %q %q", e.etagHeader, e.contentType, cacheControl, jsonContentType)
	}
}

// sign is the hex HMAC-SHA256 of a download: asset, format and expiry.
func (s *Server) sign(id string, f formats.Format, expires int64) string {
	var b [2 * sha256.Size]byte
	return string(s.signer.sum(b[:0], id, f, expires))
}
