package check

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/testcorpus"
	"github.com/antimlabs/gizmo/validate"
)

// The tests below feed Validate what a careless or hostile user gives it:
// models whose root element comes late, other encodings, symbolic links and
// their loops, special files, folders with nothing to check.

// headerURDF is a URDF whose root element comes after a comment longer
// than any fixed-size head.
var headerURDF = "<?xml version=\"1.0\"?>\n<!--" + strings.Repeat(" licence text", 800) + " -->\n" +
	`<robot name="r"><link name="a"/></robot>` + "\n"

// utf16File encodes s as UTF-16 little-endian with a byte-order mark, as
// Windows editors save "Unicode" text.
func utf16File(s string) string {
	units := utf16.Encode([]rune(s))
	b := []byte{0xff, 0xfe}
	for _, u := range units {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return string(b)
}

// utf16BE encodes s as UTF-16 big-endian without a byte-order mark.
func utf16BE(s string) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.BigEndian.AppendUint16(b, u)
	}
	return string(b)
}

const plainURDF = `<robot name="r"><link name="a"/></robot>`

// validateWithin runs Validate and fails the test if it does not return
// within a minute (a read that blocks on a FIFO would never return).
func validateWithin(t *testing.T, ctx context.Context, path string) (Result, error) {
	t.Helper()
	type out struct {
		res Result
		err error
	}
	ch := make(chan out, 1)
	go func() {
		res, err := Validate(ctx, path, validate.Options{})
		ch <- out{res, err}
	}()
	select {
	case o := <-ch:
		return o.res, o.err
	case <-time.After(time.Minute):
		t.Fatalf("Validate(%s) has not returned after a minute", path)
		return Result{}, nil
	}
}

func TestDetectionNeedsNoFixedHead(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"header.urdf":     headerURDF,
		"header.xml":      headerURDF, // told by content, whatever the name
		"mj/scene.xml":    "<!--" + strings.Repeat("x", 10000) + "-->" + mjcfRobot,
		"doctype.urdf":    "<!DOCTYPE robot>\n<!--" + strings.Repeat("=", 9000) + "-->\n" + plainURDF,
		"utf16.urdf":      utf16File(`<?xml version="1.0" encoding="UTF-16"?>` + "\n" + plainURDF),
		"utf16be.urdf":    utf16BE(plainURDF),
		"package.xml":     "<!--" + strings.Repeat("y", 8000) + "--><package><name>p</name></package>",
		"meshes/long.xml": "<!--" + strings.Repeat("z", 8000) + "-->",
	})
	res, err := validateWithin(t, context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{
		{root + "/doctype.urdf", formats.KindURDF, ""},
		{root + "/header.urdf", formats.KindURDF, ""},
		{root + "/header.xml", formats.KindURDF, ""},
		{root + "/mj/scene.xml", formats.KindMJCF, ""},
		{root + "/utf16.urdf", formats.KindURDF, "urdf-encoding"},
		{root + "/utf16be.urdf", formats.KindURDF, "urdf-encoding"},
	}
	if got := summarize(res.Reports); !reflect.DeepEqual(got, want) {
		t.Errorf("reports:\ngot  %v\nwant %v", got, want)
	}
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, filepath.Base(s.Path))
	}
	if want := []string{"long.xml", "package.xml"}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped %v, want %v (%v)", skipped, want, res.Skipped)
	}
	// Named directly, the same files read the same.
	for _, name := range []string{"header.urdf", "utf16.urdf"} {
		rs, err := Path(context.Background(), filepath.Join(root, name), validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || rs[0].Format != formats.KindURDF {
			t.Errorf("%s named directly: %v", name, summarize(rs))
		}
	}
}

func TestUTF16Message(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"r.urdf": utf16File(plainURDF), "m.xml": utf16File(mjcfRobot)})
	for name, rule := range map[string]string{"r.urdf": "urdf-encoding", "m.xml": "mjcf-encoding"} {
		rs, err := Path(context.Background(), filepath.Join(root, name), validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || len(rs[0].Errors) != 1 || rs[0].Errors[0].Rule != rule ||
			!strings.Contains(rs[0].Errors[0].Message, "UTF-16") || !strings.Contains(rs[0].Errors[0].Message, "UTF-8") {
			t.Errorf("%s: want one %s error naming UTF-16 and UTF-8, got %+v", name, rule, rs)
		}
	}
}

func TestSymlinkedFolders(t *testing.T) {
	root := t.TempDir()
	// gizmo's placed layout: the project links into the cache's trees.
	write(t, root, map[string]string{
		"cache/trees/t1/scene.xml":     mjcfScene,
		"cache/trees/t1/robot.xml":     mjcfRobot,
		"cache/trees/t2/robot.urdf":    plainURDF,
		"project/assets/readme.md":     "hi",
		"project/assets/own/local.xml": mjcfRobot,
	})
	links := map[string]string{
		"project/assets/mujoco/my-arm": "../../../cache/trees/t1",
		"project/assets/isaac":         "../../cache/trees/t2",
		"cache/trees/t1/parts/up":      "..",             // a loop back up the tree
		"cache/trees/t2/self":          ".",              // a loop onto itself
		"cache/trees/t2/dangling.urdf": "nowhere/x.urdf", // broken: skipped with a note
		"project/assets/file.urdf":     "../../cache/trees/t2/robot.urdf",
	}
	for name, target := range links {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	arm := filepath.Join(root, "project", "assets", "mujoco", "my-arm")
	res, err := validateWithin(t, context.Background(), arm)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summarize(res.Reports), []summary{{arm + "/scene.xml", formats.KindMJCF, ""}}; !reflect.DeepEqual(got, want) {
		t.Errorf("the placed folder itself:\ngot  %v\nwant %v", got, want)
	}
	assets := filepath.Join(root, "project", "assets")
	res, err = validateWithin(t, context.Background(), assets)
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{
		{assets + "/file.urdf", formats.KindURDF, ""},
		{assets + "/isaac/robot.urdf", formats.KindURDF, ""},
		{assets + "/mujoco/my-arm/scene.xml", formats.KindMJCF, ""},
		{assets + "/own/local.xml", formats.KindMJCF, ""},
	}
	if got := summarize(res.Reports); !reflect.DeepEqual(got, want) {
		t.Errorf("the assets folder:\ngot  %v\nwant %v", got, want)
	}
	var notes []string
	for _, s := range res.Skipped {
		notes = append(notes, strings.TrimPrefix(s.Path, assets+"/")+": "+s.Reason)
	}
	joined := strings.Join(notes, "\n")
	for _, w := range []string{"isaac/self: ", "mujoco/my-arm/parts/up: ", "isaac/dangling.urdf: "} {
		if !strings.Contains(joined, w) {
			t.Errorf("no note for %s in:\n%s", w, joined)
		}
	}
}

func TestNothingChecked(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"docs/README.md":    "# hi",
		"docs/meshes/a.stl": "solid a\nendsolid a\n",
		"docs/package.xml":  "<package/>",
	})
	if err := os.Mkdir(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dir, says string }{
		{"empty", "the folder is empty"},
		{"docs", "package.xml"},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			p := filepath.Join(root, tt.dir)
			res, err := validateWithin(t, context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Reports) != 1 || len(res.Reports[0].Errors) != 1 || res.Reports[0].Errors[0].Rule != "no-model" {
				t.Fatalf("want one no-model error, got %+v", res.Reports)
			}
			msg := res.Reports[0].Errors[0].Message
			if !strings.Contains(msg, "nothing was checked") || !strings.Contains(msg, tt.says) {
				t.Errorf("message %q does not say nothing was checked and %q", msg, tt.says)
			}
		})
	}
}

func TestModelExtensionUnknownContent(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"a.urdf":  "robot: not xml at all",
		"b.usd":   "hello",
		"c.xml":   "<launch/>", // .xml is shared with other programs: skipped, with a note
		"ok.urdf": plainURDF,
	})
	res, err := validateWithin(t, context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{
		{root + "/a.urdf", "", "format-unknown"},
		{root + "/b.usd", "", "format-unknown"},
		{root + "/ok.urdf", formats.KindURDF, ""},
	}
	if got := summarize(res.Reports); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if len(res.Skipped) != 1 || filepath.Base(res.Skipped[0].Path) != "c.xml" || !strings.Contains(res.Skipped[0].Reason, "<launch>") {
		t.Errorf("skipped %+v, want c.xml with its root element", res.Skipped)
	}
}

func TestSpecialFiles(t *testing.T) {
	root := t.TempDir()
	fifo := filepath.Join(root, "pipe.urdf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, root, map[string]string{"ok.urdf": plainURDF})
	tests := []struct {
		path, says string
	}{
		{fifo, "named pipe"},
		{"/dev/zero", "device"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			if _, err := os.Stat(tt.path); err != nil {
				t.Fatalf("%s: %v", tt.path, err)
			}
			res, err := validateWithin(t, context.Background(), tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Reports) != 1 || len(res.Reports[0].Errors) != 1 || res.Reports[0].Errors[0].Rule != "path-not-regular" {
				t.Fatalf("want one path-not-regular error, got %+v", res.Reports)
			}
			if msg := res.Reports[0].Errors[0].Message; !strings.Contains(msg, tt.says) {
				t.Errorf("message %q does not say %q", msg, tt.says)
			}
		})
	}
	// In a folder, the FIFO is skipped with a note, and the rest checked.
	res, err := validateWithin(t, context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summarize(res.Reports), []summary{{root + "/ok.urdf", formats.KindURDF, ""}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != fifo || !strings.Contains(res.Skipped[0].Reason, "named pipe") {
		t.Errorf("skipped %+v, want the FIFO", res.Skipped)
	}
	// A mesh that is a FIFO is not opened either.
	write(t, root, map[string]string{"m/r.urdf": `<robot name="r"><link name="a"><visual><geometry><mesh filename="pipe.stl"/></geometry></visual></link></robot>`})
	if err := syscall.Mkfifo(filepath.Join(root, "m", "pipe.stl"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := validateWithin(t, context.Background(), filepath.Join(root, "m", "r.urdf")); err != nil {
		t.Fatal(err)
	}
}

func TestManyFiles(t *testing.T) {
	root := t.TempDir()
	const n = 10000
	files := map[string]string{}
	for i := range n {
		switch {
		case i%100 == 0:
			files[fmt.Sprintf("d%02d/r%05d.urdf", i/1000, i)] = plainURDF
		case i%10 == 0:
			files[fmt.Sprintf("d%02d/p%05d.xml", i/1000, i)] = "<package/>"
		default:
			files[fmt.Sprintf("d%02d/meshes/m%05d.stl", i/1000, i)] = "solid\nendsolid\n"
		}
	}
	write(t, root, files)
	res, err := validateWithin(t, context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reports) != n/100 || len(res.Skipped) != n/10-n/100 {
		t.Fatalf("%d reports and %d skipped, want %d and %d", len(res.Reports), len(res.Skipped), n/100, n/10-n/100)
	}
	for _, r := range res.Reports {
		if !r.Valid {
			t.Errorf("%s: %v", r.Path, r.Errors)
		}
	}
}

// hostileXML are documents built to exhaust a parser: entity expansion,
// external entities, deep nesting, an attribute longer than any model
// needs. Each must be refused quickly, with a message of bounded size, and
// nothing of an external entity's target may show up in the report.
func hostileXML(secret string) map[string]string {
	laughs := "<!ENTITY lol \"lol\">\n"
	prev := "lol"
	for i := 1; i <= 9; i++ {
		laughs += fmt.Sprintf("<!ENTITY lol%d \"%s\">\n", i, strings.Repeat("&"+prev+";", 10))
		prev = fmt.Sprintf("lol%d", i)
	}
	return map[string]string{
		"laughs.urdf": "<?xml version=\"1.0\"?>\n<!DOCTYPE robot [\n" + laughs + "]>\n<robot name=\"&lol9;\"><link name=\"a\"/></robot>\n",
		"laughs.xml":  "<?xml version=\"1.0\"?>\n<!DOCTYPE mujoco [\n" + laughs + "]>\n<mujoco model=\"&lol9;\"/>\n",
		"xxe.urdf":    "<?xml version=\"1.0\"?>\n<!DOCTYPE robot [<!ENTITY xxe SYSTEM \"file://" + secret + "\">]>\n<robot name=\"&xxe;\"><link name=\"a\"/></robot>\n",
		"xxe.xml":     "<!DOCTYPE mujoco [<!ENTITY xxe SYSTEM \"file://" + secret + "\">]>\n<mujoco model=\"&xxe;\"/>\n",
		"deep.urdf":   `<robot name="r">` + strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000) + `<link name="x"/></robot>`,
		"deep.xml":    `<mujoco>` + strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000) + `</mujoco>`,
		"attr.urdf":   `<robot name="` + strings.Repeat("x", 16<<20+1) + `"><link name="a"/></robot>`,
		"attr.xml":    `<mujoco model="` + strings.Repeat("x", 16<<20+1) + `"/>`,
	}
}

func TestHostileXML(t *testing.T) {
	root := t.TempDir()
	secret := filepath.Join(root, "secret.txt")
	const secretText = "s3cr3t-t0ken"
	if err := os.WriteFile(secret, []byte(secretText), 0o600); err != nil {
		t.Fatal(err)
	}
	files := hostileXML(secret)
	dir := filepath.Join(root, "in")
	write(t, dir, files)
	for name := range files {
		t.Run(name, func(t *testing.T) {
			res, err := validateWithin(t, context.Background(), filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Reports) != 1 || len(res.Reports[0].Errors) == 0 {
				t.Fatalf("want one report with errors, got %+v", summarize(res.Reports))
			}
			for _, p := range res.Reports[0].Errors {
				if len(p.Message) > validate.MaxMessage+100 {
					t.Errorf("a message of %d bytes", len(p.Message))
				}
				if strings.Contains(p.Message, secretText) || strings.Contains(p.Message, "lollol") {
					t.Errorf("an entity was expanded: %.200s", p.Message)
				}
			}
			if strings.HasPrefix(name, "attr.") && !strings.Contains(res.Reports[0].Errors[0].Message, "over the 16 MiB") {
				t.Errorf("long attribute: %s", res.Reports[0].Errors[0].Message)
			}
			if name == "attr.urdf" && res.Reports[0].Errors[0].Rule != "urdf-too-large" {
				t.Errorf("long attribute: rule %s, want urdf-too-large", res.Reports[0].Errors[0].Rule)
			}
			if strings.HasPrefix(name, "deep.") && !strings.Contains(res.Reports[0].Errors[0].Message, "nested deeper than") {
				t.Errorf("deep nesting: %s", res.Reports[0].Errors[0].Message)
			}
		})
	}
}

// TestHostileArchiveFixtures: every zip of the repository's testdata/hostile
// is refused as archive-unsafe, naming its entry, and nothing of it is
// checked or left extracted.
func TestHostileArchiveFixtures(t *testing.T) {
	for _, c := range testcorpus.HostileArchives(t) {
		t.Run(filepath.Base(c.Path), func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			rs, err := Path(context.Background(), c.Path, validate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 || len(rs[0].Errors) != 1 || rs[0].Errors[0].Rule != "archive-unsafe" {
				t.Fatalf("reports %v; want one archive-unsafe error", summarize(rs))
			}
			if msg := rs[0].Errors[0].Message; !strings.Contains(msg, strconv.Quote(c.Entry)) {
				t.Errorf("message %q does not name the entry %q", msg, c.Entry)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left in the temp folder: %v", ents)
			}
		})
	}
}
