package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antimlabs/gizmo/internal/testreq"
	"golang.org/x/crypto/bcrypt"

	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

// needTool returns the path of a program a test needs. Where it is
// missing the test skips, or fails when GIZMO_REQUIRE_REFERENCES=1 (CI),
// before the test asserts anything (see internal/testreq).
func needTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testreq.Missing(t, fmt.Sprintf("%s is not installed: %s", name, install))
	}
	return p
}

// testRegistry is Debian's docker-registry (distribution), run on a free
// loopback port with its storage in a temp folder.
type testRegistry struct {
	t       *testing.T
	exe     string
	host    string // 127.0.0.1:port
	storage string
	config  string
	cmd     *exec.Cmd
}

func startRegistry(t *testing.T) *testRegistry {
	t.Helper()
	return startRegistryAuth(t, "")
}

// startRegistryAuth starts a registry that asks for basic credentials when
// htpasswd (a line user:bcrypt-hash) is set.
func startRegistryAuth(t *testing.T, htpasswd string) *testRegistry {
	t.Helper()
	exe := needTool(t, "docker-registry", "apt-get install docker-registry")
	dir := t.TempDir()
	r := &testRegistry{t: t, exe: exe, storage: filepath.Join(dir, "storage"), config: filepath.Join(dir, "config.yml")}
	var lastErr error
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r.host = ln.Addr().String()
		ln.Close()
		cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", r.storage, r.host)
		if htpasswd != "" {
			pw := filepath.Join(dir, "htpasswd")
			if err := os.WriteFile(pw, []byte(htpasswd+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: gizmo-test\n    path: %s\n", pw)
		}
		if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if lastErr = r.start(); lastErr == nil {
			t.Cleanup(r.stop)
			return r
		}
	}
	t.Fatalf("docker-registry did not start: %v", lastErr)
	return nil
}

func (r *testRegistry) start() error {
	var logs bytes.Buffer
	r.cmd = exec.Command(r.exe, "serve", r.config)
	r.cmd.Stdout, r.cmd.Stderr = &logs, &logs
	if err := r.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { r.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("exited: %s", logs.String())
		default:
		}
		resp, err := http.Get("http://" + r.host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.stop()
	return fmt.Errorf("no answer on %s within 10 s: %s", r.host, logs.String())
}

func (r *testRegistry) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Process.Wait()
	}
}

// gizmoEnv runs the test binary as gizmo with its own cache.
type gizmoEnv struct {
	t     *testing.T
	exe   string
	env   []string
	cache string
}

func newGizmoEnv(t *testing.T, apiURL, cache string) *gizmoEnv {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	g := &gizmoEnv{t: t, exe: exe, cache: cache}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIZMO_") && !strings.HasPrefix(kv, "GORACE=") && !strings.HasPrefix(kv, "DOCKER_CONFIG") && !strings.HasPrefix(kv, "HOME=") {
			g.env = append(g.env, kv)
		}
	}
	g.env = append(g.env, "GORACE=atexit_sleep_ms=0", "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "xdg"),
		"GIZMO_CACHE_DIR="+cache, "GIZMO_API_URL="+apiURL, "GIZMO_API_KEY="+emulator.DefaultAPIKey)
	return g
}

// run runs gizmo in dir and returns its exit code, stdout and stderr.
func (g *gizmoEnv) run(dir string, args ...string) (int, string, string) {
	g.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := &exec.Cmd{Path: g.exe, Args: append([]string{"gizmo"}, args...), Env: g.env, Dir: dir, Stdout: &stdout, Stderr: &stderr}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		g.t.Fatalf("gizmo %s: %v", strings.Join(args, " "), err)
	}
	return code, stdout.String(), stderr.String()
}

func (g *gizmoEnv) mustRun(dir string, args ...string) string {
	g.t.Helper()
	code, out, errOut := g.run(dir, args...)
	if code != 0 {
		g.t.Fatalf("gizmo %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

const ociManifest = `[assets]
all = true

[[target]]
layout = "mujoco"
dir = "assets/mujoco"

[[target]]
layout = "isaac"
dir = "assets/isaac"
`

func writeProject(t *testing.T, dir, manifest string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gizmo.toml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
}

// placedFiles hashes every file a project's targets hold, but gizmo's own
// bookkeeping (.gizmo folders, whose version names are random) and
// gizmo.lock.
func placedFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	// Placed folders may be links into the cache: follow them.
	var walk func(abs, rel string)
	walk = func(abs, rel string) {
		entries, err := os.ReadDir(abs)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			p, r := filepath.Join(abs, e.Name()), filepath.Join(rel, e.Name())
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case st.IsDir() && e.Name() == ".gizmo":
			case st.IsDir():
				walk(p, r)
			default:
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				out[r] = hex.EncodeToString(sum[:])
			}
		}
	}
	walk(filepath.Join(dir, "assets"), "")
	return out
}

func sameFiles(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the publisher placed no file", what)
	}
	for p, h := range want {
		if got[p] != h {
			t.Errorf("%s: %s: hash %.12s, the publisher's %.12s", what, p, got[p], h)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: %s placed, but not by the publisher", what, p)
		}
	}
}

func apiRequests(srv *emulator.Server) int64 {
	s := srv.Stats()
	return s.List.Requests + s.Get.Requests + s.Create.Requests + s.Export.Requests + s.Download.Requests
}

type pushJSON struct {
	Digest   string `json:"digest"`
	Entries  int    `json:"entries"`
	Uploaded int    `json:"blobs_uploaded"`
	Present  int    `json:"blobs_present"`
}

// publish syncs a project from the emulator, places it and pushes it.
func publish(t *testing.T, reg *testRegistry, assets int) (srv *emulator.Server, pub *gizmoEnv, dir string) {
	t.Helper()
	srv, u := emulatortest.StartTest(t, emulator.Config{Assets: assets, Seed: 7})
	work := t.TempDir()
	pub = newGizmoEnv(t, u, filepath.Join(work, "cache"))
	dir = filepath.Join(work, "publisher")
	writeProject(t, dir, ociManifest)
	pub.mustRun(dir, "prepare")
	return srv, pub, dir
}

func push(t *testing.T, g *gizmoEnv, dir, ref string) pushJSON {
	t.Helper()
	var res pushJSON
	if err := json.Unmarshal([]byte(g.mustRun(dir, "push", "--json", ref)), &res); err != nil {
		t.Fatalf("push --json: %v", err)
	}
	if !strings.HasPrefix(res.Digest, "sha256:") || res.Entries == 0 {
		t.Fatalf("push: %+v", res)
	}
	return res
}

// TestOCIFleet: one publisher pushes; eight nodes with their own caches
// prepare from the registry with the Gizmo API unreachable, all at once,
// and place exactly what the publisher placed; the emulator sees none of
// their requests. Pushing the same lock again gives the same digest and
// uploads nothing.
func TestOCIFleet(t *testing.T) {
	reg := startRegistry(t)
	srv, pub, pubDir := publish(t, reg, 10)
	ref := "oci://" + reg.host + "/robots/fleet:v1"
	first := push(t, pub, pubDir, ref)
	if first.Uploaded != first.Entries+1 {
		t.Errorf("first push uploaded %d blobs, want one per export (%d) and the config", first.Uploaded, first.Entries)
	}
	again := push(t, pub, pubDir, ref)
	if again.Digest != first.Digest || again.Uploaded != 0 || again.Present != first.Uploaded {
		t.Errorf("second push of the same lock: %+v, want digest %s, 0 uploaded, %d present", again, first.Digest, first.Uploaded)
	}
	want := placedFiles(t, pubDir)
	before := apiRequests(srv)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAPI := "http://" + closed.Addr().String()
	closed.Close()
	const nodes = 8
	work := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]string, nodes)
	for i := range nodes {
		dir := filepath.Join(work, fmt.Sprintf("node%d", i))
		writeProject(t, dir, ociManifest)
		g := newGizmoEnv(t, deadAPI, filepath.Join(work, fmt.Sprintf("cache%d", i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stdout, stderr bytes.Buffer
			cmd := &exec.Cmd{Path: g.exe, Args: []string{"gizmo", "prepare", "--from", ref}, Env: g.env, Dir: dir, Stdout: &stdout, Stderr: &stderr}
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Sprintf("node %d: %v\n%s", i, err, stderr.String())
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for i := range nodes {
		dir := filepath.Join(work, fmt.Sprintf("node%d", i))
		sameFiles(t, fmt.Sprintf("node %d", i), want, placedFiles(t, dir))
		lock, err := os.ReadFile(filepath.Join(dir, "gizmo.lock"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(lock), `source_digest = "`+first.Digest+`"`) {
			t.Errorf("node %d: gizmo.lock does not record the bundle's digest %s:\n%s", i, first.Digest, lock)
		}
	}
	if n := apiRequests(srv) - before; n != 0 {
		t.Errorf("the nodes sent %d requests to the Gizmo API, want 0", n)
	}
	// A node prepares again with --locked: nothing to do, still no request.
	g := newGizmoEnv(t, deadAPI, filepath.Join(work, "cache0"))
	g.mustRun(filepath.Join(work, "node0"), "prepare", "--locked", "--from", ref)
	// The cache a pull filled verifies clean.
	g.mustRun(filepath.Join(work, "node0"), "cache", "verify")
}

// TestOCIOrasPull: an independent client, the oras CLI, pulls what gizmo
// pushed and finds one readable folder per export whose files are the
// cache's.
func TestOCIOrasPull(t *testing.T) {
	oras := needTool(t, "oras", "go install oras.land/oras/cmd/oras@v1.3.6")
	reg := startRegistry(t)
	_, pub, pubDir := publish(t, reg, 4)
	ref := reg.host + "/robots/oras:v1"
	push(t, pub, pubDir, "oci://"+ref)
	out := t.TempDir()
	cmd := exec.Command(oras, "pull", "--plain-http", "-o", out, ref)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oras pull: %v\n%s", err, b)
	}
	// oras's folders hold exactly the cache's unpacked exports (and each
	// archive's download under .gizmo/), byte for byte.
	hashes := func(root string, skip func(p string) bool) map[string]int {
		got := map[string]int{}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !skip(p) {
				data, _ := os.ReadFile(p)
				sum := sha256.Sum256(data)
				got[hex.EncodeToString(sum[:])]++
			}
			return nil
		})
		return got
	}
	pulled := hashes(out, func(p string) bool { return strings.Contains(p, "/.gizmo/") })
	trees := hashes(filepath.Join(pub.cache, "trees"), func(string) bool { return false })
	if len(trees) == 0 {
		t.Fatal("the publisher's cache has no unpacked exports")
	}
	for h, n := range trees {
		if pulled[h] != n {
			t.Errorf("file %.12s: %d in the cache's trees, %d in oras's folders", h, n, pulled[h])
		}
	}
	for h := range pulled {
		if trees[h] == 0 {
			t.Errorf("oras pulled a file (%.12s) that is in no export", h)
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			t.Errorf("oras pull wrote %s as a file, want one folder per export", e.Name())
		}
	}
}

// TestOCITampered: a blob changed in the registry's storage is refused by
// name, with exit 4, and nothing of the bundle is cached.
func TestOCITampered(t *testing.T) {
	reg := startRegistry(t)
	_, pub, pubDir := publish(t, reg, 3)
	ref := "oci://" + reg.host + "/robots/tamper:v1"
	push(t, pub, pubDir, ref)
	// Flip a byte in the middle of every layer blob (the config and
	// manifest are small JSON; layers are gzip'd tars).
	var tampered []string
	filepath.WalkDir(filepath.Join(reg.storage, "docker/registry/v2/blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "data" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil || len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			return err
		}
		data[len(data)/2] ^= 0xff
		tampered = append(tampered, filepath.Base(filepath.Dir(p)))
		return os.WriteFile(p, data, 0o644)
	})
	if len(tampered) == 0 {
		t.Fatal("found no layer blob to tamper with in the registry's storage")
	}
	work := t.TempDir()
	g := newGizmoEnv(t, "http://127.0.0.1:1", filepath.Join(work, "cache"))
	code, _, stderr := g.run(work, "pull", ref)
	if code != 4 {
		t.Fatalf("pull of a tampered bundle: exit %d, want 4\n%s", code, stderr)
	}
	named := false
	for _, h := range tampered {
		named = named || strings.Contains(stderr, h)
	}
	if !named || !strings.Contains(stderr, "digest mismatch") {
		t.Errorf("the error does not name the tampered blob and the mismatch:\n%s", stderr)
	}
	if out := g.mustRun(work, "cache", "ls", "--json"); strings.Contains(out, `"sha256"`) {
		t.Errorf("a refused pull left entries in the cache:\n%s", out)
	}
	g.mustRun(work, "cache", "verify")
}

// TestOCILockedMovedTag: a node whose gizmo.lock was written from a tag
// refuses --locked once the tag points elsewhere, naming both digests; a
// reference pinned by digest still prepares.
func TestOCILockedMovedTag(t *testing.T) {
	reg := startRegistry(t)
	_, pub, pubDir := publish(t, reg, 4)
	ref := "oci://" + reg.host + "/robots/moving:stable"
	v1 := push(t, pub, pubDir, ref)
	work := t.TempDir()
	node := filepath.Join(work, "node")
	writeProject(t, node, ociManifest)
	g := newGizmoEnv(t, "http://127.0.0.1:1", filepath.Join(work, "cache"))
	g.mustRun(node, "prepare", "--from", ref)
	// The publisher narrows its selection and pushes to the same tag.
	writeProject(t, pubDir, strings.Replace(ociManifest, "[[target]]\nlayout = \"isaac\"\ndir = \"assets/isaac\"\n", "", 1))
	pub.mustRun(pubDir, "prepare")
	v2 := push(t, pub, pubDir, ref)
	if v2.Digest == v1.Digest {
		t.Fatal("the second bundle has the first one's digest")
	}
	code, _, stderr := g.run(node, "prepare", "--locked", "--from", ref)
	if code != 7 || !strings.Contains(stderr, v1.Digest) || !strings.Contains(stderr, v2.Digest) {
		t.Fatalf("prepare --locked after the tag moved: exit %d, want 7 naming %s and %s:\n%s", code, v1.Digest, v2.Digest, stderr)
	}
	pinned := "oci://" + reg.host + "/robots/moving@" + v1.Digest
	g.mustRun(node, "prepare", "--from", pinned)
	g.mustRun(node, "prepare", "--locked", "--from", pinned)
}

// TestOCIRegistryStops: a registry that goes away in the middle of a pull
// gives a clean error; the rerun completes and the cache verifies clean.
func TestOCIRegistryStops(t *testing.T) {
	reg := startRegistry(t)
	_, pub, pubDir := publish(t, reg, 6)
	pushed := push(t, pub, pubDir, "oci://"+reg.host+"/robots/flaky:v1")
	// A proxy that serves the manifest, the config and three layers, then
	// drops every connection, as a registry that stopped would.
	target, _ := url.Parse("http://" + reg.host)
	var blobs atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet && blobs.Add(1) > 4 {
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("no hijacker")
				return
			}
			c, _, _ := hj.Hijack()
			c.Close()
			return
		}
		rp.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go proxy.Serve(ln)
	t.Cleanup(func() { proxy.Close() })
	work := t.TempDir()
	g := newGizmoEnv(t, "http://127.0.0.1:1", filepath.Join(work, "cache"))
	code, _, stderr := g.run(work, "pull", "oci://"+ln.Addr().String()+"/robots/flaky:v1")
	if code == 0 {
		t.Fatalf("pull through a registry that stopped succeeded:\n%s", stderr)
	}
	if !strings.Contains(stderr, "robots/flaky") {
		t.Errorf("the error does not name the repository:\n%s", stderr)
	}
	g.mustRun(work, "cache", "verify")
	out := g.mustRun(work, "pull", "--json", "oci://"+reg.host+"/robots/flaky:v1")
	var res struct{ Stored, Present int }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	// What the cut pull stored completely is kept.
	if res.Stored == 0 || res.Stored+res.Present != pushed.Entries {
		t.Errorf("rerun: %+v, want all %d exports stored or present, some stored now", res, pushed.Entries)
	}
	g.mustRun(work, "cache", "verify")
}

// TestOCIMountable: the image-shaped variant has an image config whose
// diff_ids are the layers' uncompressed digests, and gizmo pulls it like
// the plain bundle.
func TestOCIMountable(t *testing.T) {
	reg := startRegistry(t)
	_, pub, pubDir := publish(t, reg, 3)
	ref := reg.host + "/robots/mount:v1"
	res := push(t, pub, pubDir, "oci://"+ref+"")
	var mres pushJSON
	if err := json.Unmarshal([]byte(pub.mustRun(pubDir, "push", "--json", "--mountable", "oci://"+reg.host+"/robots/mount:image")), &mres); err != nil {
		t.Fatal(err)
	}
	if mres.Digest == res.Digest {
		t.Fatal("the mountable variant has the plain bundle's digest")
	}
	get := func(path string, accept string) []byte {
		req, _ := http.NewRequest("GET", "http://"+reg.host+"/v2/robots/mount/"+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b.String())
		}
		return b.Bytes()
	}
	var man struct {
		Config struct{ MediaType, Digest string }
		Layers []struct{ MediaType, Digest string }
	}
	if err := json.Unmarshal(get("manifests/image", "application/vnd.oci.image.manifest.v1+json"), &man); err != nil {
		t.Fatal(err)
	}
	if man.Config.MediaType != "application/vnd.oci.image.config.v1+json" {
		t.Fatalf("config media type %q, want an OCI image config", man.Config.MediaType)
	}
	var img struct {
		OS     string `json:"os"`
		RootFS struct {
			Type    string   `json:"type"`
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(get("blobs/"+man.Config.Digest, "*/*"), &img); err != nil {
		t.Fatal(err)
	}
	if img.OS != "linux" || img.RootFS.Type != "layers" || len(img.RootFS.DiffIDs) != len(man.Layers) {
		t.Fatalf("image config: %+v for %d layers", img, len(man.Layers))
	}
	for i, l := range man.Layers {
		if l.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
			t.Errorf("layer %d: media type %q", i, l.MediaType)
		}
		// diff_id is the SHA-256 of the gunzipped layer.
		zr, err := gzip.NewReader(bytes.NewReader(get("blobs/"+l.Digest, "*/*")))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, zr); err != nil {
			t.Fatal(err)
		}
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != img.RootFS.DiffIDs[i] {
			t.Errorf("layer %d: diff_id %s, the layer unpacks to %s", i, img.RootFS.DiffIDs[i], got)
		}
	}
	work := t.TempDir()
	node := filepath.Join(work, "node")
	writeProject(t, node, ociManifest)
	g := newGizmoEnv(t, "http://127.0.0.1:1", filepath.Join(work, "cache"))
	g.mustRun(node, "prepare", "--from", "oci://"+reg.host+"/robots/mount:image")
	sameFiles(t, "node", placedFiles(t, pubDir), placedFiles(t, node))
}

// TestOCICredentials: a registry that asks for credentials refuses a push
// without them (exit 6, naming the registry and what to do), takes them
// from --username and --password-stdin or from a Docker config file, and
// no output ever holds the password.
func TestOCICredentials(t *testing.T) {
	const user, password = "fleet", "s3cret-registry-token"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	reg := startRegistryAuth(t, user+":"+string(hash))
	_, pub, pubDir := publish(t, reg, 3)
	ref := "oci://" + reg.host + "/robots/private:v1"
	runIn := func(stdin string, args ...string) (int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := &exec.Cmd{Path: pub.exe, Args: append([]string{"gizmo"}, args...), Env: pub.env, Dir: pubDir,
			Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr}
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		out := stdout.String() + stderr.String()
		if strings.Contains(out, password) {
			t.Errorf("gizmo %s printed the password:\n%s", strings.Join(args, " "), out)
		}
		return code, out
	}
	if code, out := runIn("", "push", ref); code != 6 || !strings.Contains(out, reg.host) || !strings.Contains(out, "--password-stdin") {
		t.Errorf("push without credentials: exit %d, want 6 naming the registry and what to do:\n%s", code, out)
	}
	if code, out := runIn("wrong-token\n", "push", "--username", user, "--password-stdin", ref); code != 6 || !strings.Contains(out, "401") {
		t.Errorf("push with a wrong password: exit %d, want 6 and the registry's 401:\n%s", code, out)
	}
	if code, out := runIn(password+"\n", "push", "--username", user, "--password-stdin", ref); code != 0 {
		t.Fatalf("push with --username and --password-stdin: exit %d\n%s", code, out)
	}
	if code, out := runIn("", "push", "--username", user, ref); code != 2 {
		t.Errorf("--username without --password-stdin: exit %d, want 2:\n%s", code, out)
	}
	// A node reads the credentials from a Docker config file.
	work := t.TempDir()
	cfg := filepath.Join(work, "docker-config.json")
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	if err := os.WriteFile(cfg, []byte(`{"auths":{"`+reg.host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(work, "node")
	writeProject(t, node, ociManifest)
	g := newGizmoEnv(t, "http://127.0.0.1:1", filepath.Join(work, "cache"))
	code, out, errOut := g.run(node, "prepare", "--registry-config", cfg, "--from", ref)
	if code != 0 || strings.Contains(out+errOut, password) || strings.Contains(out+errOut, auth) {
		t.Errorf("prepare --from with a Docker config: exit %d (the secret must not show)\n%s%s", code, out, errOut)
	}
	sameFiles(t, "node", placedFiles(t, pubDir), placedFiles(t, node))
}
