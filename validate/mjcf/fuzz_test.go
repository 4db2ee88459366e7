package mjcf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/validate"
)

// FuzzCheckBytes feeds arbitrary bytes to the MJCF reader: it must not
// panic or hang, and its report must be consistent. Files next to the fuzzed
// model include each other in a cycle, so include tricks are reachable.
func FuzzCheckBytes(f *testing.F) {
	variants, _ := filepath.Glob(filepath.Join("testdata", "conformance", "*.xml"))
	for i, p := range variants {
		if i%4 != 0 {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(strings.Repeat("<body>", 300) + strings.Repeat("</body>", 300)))
	f.Add([]byte("<mujoco><worldbody>" + strings.Repeat("<body><joint/><geom size='.1'/>", 200) + strings.Repeat("</body>", 200) + "</worldbody></mujoco>"))
	f.Add([]byte(`<mujoco><worldbody><geom size="` + strings.Repeat("1 ", 100000) + `"/></worldbody></mujoco>`))
	f.Add([]byte(`<mujoco><include file="a.xml"/><include file="m.xml"/></mujoco>`))
	f.Add([]byte(`<!DOCTYPE m [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><mujoco model="&b;"/>`))
	f.Add([]byte(`<mujoco><default><default class="a"><default class="a"/></default></default><worldbody><body childclass="a"><geom class="b"/></body></worldbody></mujoco>`))
	dir := f.TempDir()
	for name, content := range map[string]string{
		"a.xml": `<mujoco><include file="b.xml"/></mujoco>`,
		"b.xml": `<mujoco><include file="a.xml"/><worldbody><geom size=".1"/></worldbody></mujoco>`,
		"t.stl": "solid x\nendsolid x\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := CheckBytes(filepath.Join(dir, "m.xml"), data, validate.Options{})
		if r.Valid != (len(r.Errors) == 0) {
			t.Fatalf("Valid=%v with %d errors", r.Valid, len(r.Errors))
		}
		for _, p := range append(r.Errors, r.Warnings...) {
			if p.Rule == "" || p.Message == "" || p.File == "" {
				t.Fatalf("incomplete problem %+v", p)
			}
		}
	})
}

// BenchmarkCheckMJCF validates the corpus's Menagerie models; bytes are
// those of each model's XML and the files it includes.
func BenchmarkCheckMJCF(b *testing.B) {
	corpus := corpusDir(b)
	models, err := filepath.Glob(filepath.Join(corpus, "mjcf", "*", "*.xml"))
	if err != nil || len(models) == 0 {
		b.Fatalf("no models: %v", err)
	}
	var total int64
	for _, m := range models {
		files, err := Includes(m, validate.Options{})
		if err != nil {
			continue // include-only fragments still count their own bytes
		}
		for _, f := range append(files, m) {
			if st, err := os.Stat(f); err == nil {
				total += st.Size()
			}
		}
	}
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, m := range models {
			Check(m, validate.Options{})
		}
	}
}
