package layout

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/xmlpos"
)

// mjcfFileAttrs lists, per MJCF element, the attributes naming a file, and
// whether the file is found through meshdir (true) or texturedir (false).
var mjcfFileAttrs = map[string]struct {
	attrs []string
	mesh  bool
}{
	"mesh":    {[]string{"file"}, true},
	"hfield":  {[]string{"file"}, true},
	"skin":    {[]string{"file"}, true},
	"texture": {[]string{"file", "fileright", "fileleft", "fileup", "filedown", "filefront", "fileback"}, false},
}

// mjcfDoc is one XML file of a model: the main file, an included one, or
// a model a <model> asset names (for MuJoCo 3's <attach>), with the files
// that one includes.
type mjcfDoc struct {
	rel  string // path in the source tree
	doc  *xmlpos.Doc
	dest string // path in the placed folder
	// owner is the index in the list of the model file this one belongs
	// to: 0 for the main file and its includes, its own index for a model
	// asset. A model asset resolves its includes and files against its own
	// folder and compiler settings.
	owner int
	dir   string // the owner's folder in the source tree
}

// mjcfRef is one file attribute to rewrite.
type mjcfRef struct {
	el   *etree.Element
	attr string
	src  string // resolved path in the source tree
}

// sceneXML is the scene file of the mujoco layout: the model, a floor and a
// light, under names prefixed gizmo_ so they do not clash with the model's.
const sceneXML = `<mujoco model="%s scene">
  <!-- Written by gizmo: the model, a floor and a light. Load this file to simulate. -->
  <include file="%s"/>

  <visual>
    <headlight diffuse="0.6 0.6 0.6" ambient="0.3 0.3 0.3" specular="0 0 0"/>
  </visual>

  <asset>
    <texture name="gizmo_groundplane" type="2d" builtin="checker" mark="edge" rgb1="0.2 0.3 0.4" rgb2="0.1 0.2 0.3" markrgb="0.8 0.8 0.8" width="300" height="300"/>
    <material name="gizmo_groundplane" texture="gizmo_groundplane" texuniform="true" texrepeat="5 5" reflectance="0.2"/>
  </asset>

  <worldbody>
    <light name="gizmo_light" pos="0 0 3" dir="0 0 -1" directional="true"/>
    <geom name="gizmo_floor" size="0 0 0.05" type="plane" material="gizmo_groundplane"/>
  </worldbody>
</mujoco>
`

// buildMuJoCo writes the mujoco layout of the MJCF model at model (a path in
// t) into w: <slug>.xml, scene.xml, included files beside them, and every
// referenced file under assets/. It returns the placed model files.
func buildMuJoCo(w *writer, t *tree, model, slug string) ([]string, error) {
	modelDir := path.Dir(model)
	if modelDir == "." {
		modelDir = ""
	}
	docs, err := loadMJCF(t, model, modelDir)
	if err != nil {
		return nil, err
	}

	// Compiler settings hold for the whole model (the main file or a model
	// asset, with their includes); the last one wins.
	type dirs struct {
		meshdir, texdir, assetdir string
		strip                     bool
	}
	settings := map[int]*dirs{}
	for _, d := range docs {
		st := settings[d.owner]
		if st == nil {
			st = &dirs{}
			settings[d.owner] = st
		}
		for _, c := range d.doc.Root().FindElements("//compiler") {
			if a := c.SelectAttr("meshdir"); a != nil {
				st.meshdir = a.Value
			}
			if a := c.SelectAttr("texturedir"); a != nil {
				st.texdir = a.Value
			}
			if a := c.SelectAttr("assetdir"); a != nil {
				st.assetdir = a.Value
			}
			if a := c.SelectAttr("strippath"); a != nil {
				st.strip = a.Value == "true"
			}
		}
	}
	for _, st := range settings {
		if st.meshdir == "" {
			st.meshdir = st.assetdir
		}
		if st.texdir == "" {
			st.texdir = st.assetdir
		}
	}

	var refs []mjcfRef
	for _, d := range docs {
		meshdir, texdir, strip := settings[d.owner].meshdir, settings[d.owner].texdir, settings[d.owner].strip
		for _, el := range d.doc.Root().FindElements("//*") {
			spec, ok := mjcfFileAttrs[el.Tag]
			if !ok || insideDefault(el) {
				continue
			}
			base := texdir
			if spec.mesh {
				base = meshdir
			}
			for _, attr := range spec.attrs {
				a := el.SelectAttr(attr)
				if a == nil || a.Value == "" {
					continue
				}
				f := a.Value
				if strip {
					f = path.Base(strings.ReplaceAll(f, "\\", "/"))
				}
				src, err := resolveMJCF(t, d.dir, base, f)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: <%s %s=%q>: %w", d.rel, d.doc.Line(el), el.Tag, attr, a.Value, err)
				}
				refs = append(refs, mjcfRef{el: el, attr: attr, src: src})
			}
		}
	}

	// Every referenced file, and the material libraries of OBJ meshes.
	files := map[string]bool{}
	for _, r := range refs {
		files[r.src] = true
	}
	for _, s := range sidecars(t, keys(files)) {
		files[s] = true
	}
	all := keys(files)
	common := commonDir(all)

	for _, r := range refs {
		r.el.CreateAttr(r.attr, relTo(common, r.src))
	}
	// Included files sit beside the model, flat, so that a path relative to
	// the main file and one relative to the including file agree.
	main := modelFile(formats.MuJoCo, slug, false)
	used := map[string]bool{main: true, "scene.xml": true}
	byRel := map[string]*mjcfDoc{}
	for i := range docs {
		d := &docs[i]
		byRel[d.rel] = d
		if i == 0 {
			d.dest = main
			continue
		}
		name := Slug(strings.TrimSuffix(path.Base(d.rel), path.Ext(d.rel))) + ".xml"
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%s-%d.xml", strings.TrimSuffix(name, ".xml"), n)
		}
		used[name] = true
		d.dest = name
	}
	for _, d := range docs {
		for _, inc := range d.doc.Root().FindElements("//include") {
			rel, _ := inside(path.Join(d.dir, inc.SelectAttrValue("file", "")))
			if to, ok := byRel[rel]; ok {
				inc.CreateAttr("file", to.dest)
			}
		}
		for _, m := range modelAssets(d.doc) {
			rel, _ := inside(path.Join(d.dir, m.SelectAttrValue("file", "")))
			if to, ok := byRel[rel]; ok {
				m.CreateAttr("file", to.dest)
			}
		}
	}
	// One compiler in the main file (and one in each model asset) says
	// where the assets are; the others lose their directories.
	for _, d := range docs {
		for _, c := range d.doc.Root().FindElements("//compiler") {
			for _, a := range []string{"meshdir", "texturedir", "assetdir", "strippath"} {
				c.RemoveAttr(a)
			}
		}
	}
	for i, d := range docs {
		if d.owner != i {
			continue
		}
		root := d.doc.Root()
		comp := root.SelectElement("compiler")
		if comp == nil {
			comp = etree.NewElement("compiler")
			root.InsertChildAt(0, comp)
			root.InsertChildAt(0, etree.NewText("\n  "))
		}
		comp.CreateAttr("meshdir", "assets")
		comp.CreateAttr("texturedir", "assets")
	}

	for _, d := range docs {
		b, err := d.doc.WriteToBytes()
		if err != nil {
			return nil, err
		}
		if err := w.file(d.dest, b); err != nil {
			return nil, err
		}
	}
	for _, f := range all {
		if err := w.place("assets/"+relTo(common, f), t.abs(f)); err != nil {
			return nil, err
		}
	}
	scene := fmt.Sprintf(sceneXML, xmlEscape(slug), xmlEscape(main))
	if err := w.file("scene.xml", []byte(scene)); err != nil {
		return nil, err
	}
	return []string{main, "scene.xml"}, nil
}

// modelAssets lists the <model> assets of an MJCF file (MuJoCo 3's
// models for <attach>).
func modelAssets(doc *xmlpos.Doc) []*etree.Element {
	var out []*etree.Element
	for _, a := range doc.Root().SelectElements("asset") {
		out = append(out, a.SelectElements("model")...)
	}
	return out
}

// loadMJCF reads the main file and, depth first, every file it includes
// and every model its <model> assets name (and what those include).
// MuJoCo resolves include and model asset paths against the main file's
// folder, or, in a model a model asset names, against that model's.
func loadMJCF(t *tree, model, modelDir string) ([]mjcfDoc, error) {
	var docs []mjcfDoc
	seen := map[string]bool{}
	var load func(rel string, owner int, dir string) error
	load = func(rel string, owner int, dir string) error {
		if seen[rel] {
			return nil
		}
		seen[rel] = true
		data, err := readFile(t.abs(rel))
		if err != nil {
			return err
		}
		doc, err := xmlpos.Parse(data)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if doc.Root() == nil || doc.Root().Tag != "mujoco" {
			return fmt.Errorf("%s: not an MJCF file (the root element must be <mujoco>)", rel)
		}
		if owner < 0 {
			owner = len(docs)
		}
		docs = append(docs, mjcfDoc{rel: rel, doc: doc, owner: owner, dir: dir})
		for _, inc := range doc.Root().FindElements("//include") {
			f := inc.SelectAttrValue("file", "")
			p, ok := inside(path.Join(dir, f))
			if f == "" || path.IsAbs(f) || !ok || !t.has(p) {
				return fmt.Errorf("%s:%d: <include file=%q>: the file is not in the export; ask Gizmo to re-export the asset", rel, doc.Line(inc), f)
			}
			if err := load(p, owner, dir); err != nil {
				return err
			}
		}
		for _, m := range modelAssets(doc) {
			f := m.SelectAttrValue("file", "")
			p, ok := inside(path.Join(dir, f))
			if f == "" || path.IsAbs(f) || !ok || !t.has(p) {
				return fmt.Errorf("%s:%d: <model file=%q>: the file is not in the export; ask Gizmo to re-export the asset", rel, doc.Line(m), f)
			}
			pdir := path.Dir(p)
			if pdir == "." {
				pdir = ""
			}
			if err := load(p, -1, pdir); err != nil {
				return err
			}
		}
		return nil
	}
	if !t.has(model) {
		return nil, fmt.Errorf("model file %s is not in %s", model, t.root)
	}
	if err := load(model, 0, modelDir); err != nil {
		return nil, err
	}
	return docs, nil
}

// resolveMJCF finds the file an MJCF file attribute names: relative to the
// model's folder and the compiler directory, or by its trailing path for an
// absolute path written on another machine.
func resolveMJCF(t *tree, modelDir, base, f string) (string, error) {
	f = strings.ReplaceAll(f, "\\", "/")
	if !path.IsAbs(f) && !path.IsAbs(base) {
		if p, ok := inside(path.Join(modelDir, base, f)); ok && t.has(p) {
			return p, nil
		}
	}
	if p := t.bySuffix(path.Join(base, f)); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("the file is not in the export; ask Gizmo to re-export the asset")
}

func insideDefault(el *etree.Element) bool {
	for p := el.Parent(); p != nil; p = p.Parent() {
		if p.Tag == "default" {
			return true
		}
	}
	return false
}

// sidecars returns the files meshes load in turn: the material libraries of
// OBJ files (mtllib) and the maps those name, when they are in the tree.
func sidecars(t *tree, files []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(dir, name string) string {
		name = strings.TrimSpace(strings.ReplaceAll(name, "\\", "/"))
		p, ok := inside(path.Join(dir, name))
		if name == "" || !ok || !t.has(p) || seen[p] {
			return ""
		}
		seen[p] = true
		out = append(out, p)
		return p
	}
	for _, f := range files {
		switch strings.ToLower(path.Ext(f)) {
		case ".obj":
			for _, lib := range directives(t.abs(f), "mtllib") {
				if mtl := add(path.Dir(f), lib); mtl != "" {
					for _, m := range directives(t.abs(mtl), "map_Kd", "map_Ka", "map_Ks", "map_Bump", "map_d", "bump", "norm") {
						fs := strings.Fields(m)
						if len(fs) > 0 {
							add(path.Dir(mtl), fs[len(fs)-1])
						}
					}
				}
			}
		case ".dae":
			data, err := readFile(t.abs(f))
			if err != nil {
				continue
			}
			doc := etree.NewDocument()
			if doc.ReadFromBytes(data) != nil || doc.Root() == nil {
				continue
			}
			for _, el := range doc.Root().FindElements("//image/init_from") {
				add(path.Dir(f), strings.TrimPrefix(strings.TrimSpace(el.Text()), "file://"))
			}
		}
	}
	return out
}

// directives returns the arguments of lines starting with one of the words
// in a text file (OBJ, MTL).
func directives(file string, words ...string) []string {
	data, err := readFile(file)
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, w := range words {
			if strings.HasPrefix(line, w+" ") || strings.HasPrefix(line, w+"\t") {
				out = append(out, strings.TrimSpace(line[len(w):]))
			}
		}
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xmlEscapeTo(&b, s)
	return b.String()
}
