package cache

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/layout"
	"github.com/antimlabs/gizmo/internal/archive"
)

// singleName is the file name a single-file download gets in its tree
// when the server gave no usable name for it: the extension simulators and
// importers expect. (Trees stored before single files were named after
// the download keep it: an entry records its model's name.)
var singleName = map[formats.Kind]string{
	formats.KindURDF: "model.urdf",
	formats.KindMJCF: "model.xml",
	formats.KindUSDA: "model.usda",
	formats.KindUSDC: "model.usdc",
	formats.KindSDF:  "model.sdf",
}

// singleExts are the extensions a single model file of a kind may keep
// (USD reads .usd as either encoding).
var singleExts = map[formats.Kind][]string{
	formats.KindURDF: {".urdf"},
	formats.KindMJCF: {".xml"},
	formats.KindUSDA: {".usda", ".usd"},
	formats.KindUSDC: {".usdc", ".usd"},
	formats.KindSDF:  {".sdf"},
}

// singleFileName is the name a single-file download of kind gets in its
// tree: the server's filename hint (arm_1.usda), as a zip's model keeps
// the name Gizmo gave it, when the hint is a plain ASCII file name; else
// the hint made one (layout.Slug: "Робот.usda" gives robot.usda); with an
// extension that fits the content (arm_1.usda for a hint arm_1.bin). With
// no usable hint: singleName.
func singleFileName(hint string, kind formats.Kind) string {
	exts := singleExts[kind]
	if len(exts) == 0 {
		return singleName[kind]
	}
	base := path.Base(strings.ReplaceAll(hint, `\`, "/"))
	ext := strings.ToLower(path.Ext(base))
	stem := strings.TrimSuffix(base, path.Ext(base))
	keep := false
	for _, e := range exts {
		keep = keep || ext == e
	}
	if !keep {
		ext = exts[0]
	}
	if !plainStem(stem) {
		if !strings.ContainsFunc(stem, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			return singleName[kind]
		}
		stem = layout.Slug(stem)
	}
	return stem + ext
}

// plainStem reports whether s is a file name's stem every file system and
// simulator takes as it is: ASCII letters, digits, '_', '-' and inner
// dots, starting with a letter or digit, at most 100 bytes, and no Windows
// device name (con.usda cannot be made there; layout.Slug renames it).
func plainStem(s string) bool {
	if s == "" || len(s) > 100 || windowsDevice(s) {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '_' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

func preview(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return string(b)
}

var modelExt = map[string]bool{".urdf": true, ".xml": true, ".mjcf": true, ".usd": true, ".usda": true, ".usdc": true, ".sdf": true}

var includeRE = regexp.MustCompile(`<include\s+file\s*=\s*["']([^"']+)["']`)

// findModel picks the model file of a zip, reading its entries with head: a .urdf/.xml with a
// <robot> or <mujoco> root, or a USD file, at the top level (or inside the
// single top-level folder). It prefers the kind that matches format, skips
// MJCF files that another one includes, prefers a file that includes others
// (a scene) and then one with a body (not a bare fragment), then takes the
// first by name.
func findModel(head func(name string) ([]byte, error), files []string, format string) (string, formats.Kind, error) {
	var cands []string
	for _, depth := range []int{0, 1} {
		for _, f := range files {
			if strings.Count(f, "/") == depth && modelExt[strings.ToLower(path.Ext(f))] {
				cands = append(cands, f)
			}
		}
		if len(cands) > 0 {
			break
		}
	}
	want := map[string][]formats.Kind{
		string(formats.IsaacURDF): {formats.KindURDF},
		string(formats.MuJoCo):    {formats.KindMJCF},
		string(formats.IsaacUSD):  {formats.KindUSDA, formats.KindUSDC},
		string(formats.GazeboSDF): {formats.KindSDF},
	}[format]
	kinds := map[string]formats.Kind{}
	included := map[string]bool{}
	score := map[string]int{} // 2: includes other files (a scene); 1: has a body
	for _, f := range cands {
		b, err := head(f)
		if err != nil {
			return "", "", err
		}
		k := formats.Detect(b)
		if k == formats.KindUnknown || k == formats.KindZip || (k == formats.KindSDF) != (format == string(formats.GazeboSDF)) {
			continue
		}
		kinds[f] = k
		incs := includeRE.FindAllSubmatch(b, -1)
		for _, m := range incs {
			included[path.Join(path.Dir(f), string(m[1]))] = true
		}
		if len(incs) > 0 {
			score[f] += 2
		}
		if bytes.Contains(b, []byte("<worldbody")) || bytes.Contains(b, []byte("<link")) || k == formats.KindUSDA || k == formats.KindUSDC {
			score[f]++
		}
	}
	var best []string
	for _, pass := range []func(string) bool{
		func(f string) bool { return containsKind(want, kinds[f]) && !included[f] },
		func(f string) bool { return containsKind(want, kinds[f]) },
		func(f string) bool { return !included[f] },
		func(string) bool { return true },
	} {
		for f := range kinds {
			if pass(f) {
				best = append(best, f)
			}
		}
		if len(best) > 0 {
			break
		}
	}
	if len(best) == 0 {
		return "", "", fmt.Errorf("%w: the zip holds no .urdf/.xml with a <robot> or <mujoco> root, nor a USD file, at its top level (entries: %s)",
			ErrNoModel, abbreviate(files, 8))
	}
	sort.Slice(best, func(i, j int) bool {
		if score[best[i]] != score[best[j]] {
			return score[best[i]] > score[best[j]]
		}
		return best[i] < best[j]
	})
	return best[0], kinds[best[0]], nil
}

func containsKind(ks []formats.Kind, k formats.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func abbreviate(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(", … (%d more)", len(s)-n)
}

// modelHead is how much of a candidate model file findModel reads.
const modelHead = 1 << 20

// overlayHead reads the start of the files of a zip shown by o, for
// findModel.
func overlayHead(o *archive.Overlay) func(name string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		p := filepath.Join(o.Root(), filepath.FromSlash(name))
		if st, err := o.Stat(p); err == nil && st.Size() <= modelHead {
			return o.ReadFile(p)
		}
		f, err := o.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, modelHead))
	}
}

// windowsDevice reports whether stem is a device name Windows reserves in
// every folder (CON, NUL, COM1, ...), whatever the extension.
func windowsDevice(stem string) bool {
	s := strings.ToLower(stem)
	switch s {
	case "con", "prn", "aux", "nul":
		return true
	}
	return len(s) == 4 && (strings.HasPrefix(s, "com") || strings.HasPrefix(s, "lpt")) && s[3] >= '1' && s[3] <= '9'
}
