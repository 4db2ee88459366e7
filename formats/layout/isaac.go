package layout

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/xmlpos"
)

// buildURDF writes the URDF part of the isaac layout: urdf/<slug>.urdf with
// every mesh and texture under urdf/meshes/, their URIs rewritten to paths
// relative to the URDF. It returns the placed model file.
func buildURDF(w *writer, t *tree, model, slug string) ([]string, error) {
	if !t.has(model) {
		return nil, fmt.Errorf("model file %s is not in %s", model, t.root)
	}
	data, err := readFile(t.abs(model))
	if err != nil {
		return nil, err
	}
	doc, err := xmlpos.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", model, err)
	}
	if doc.Root() == nil || doc.Root().Tag != "robot" {
		return nil, fmt.Errorf("%s: not a URDF file (the root element must be <robot>)", model)
	}
	modelDir := path.Dir(model)
	if modelDir == "." {
		modelDir = ""
	}
	packages := packageDirs(t)

	type ref struct {
		el  *etree.Element
		src string
	}
	var refs []ref
	files := map[string]bool{}
	for _, el := range doc.Root().FindElements("//*[@filename]") {
		if el.Tag != "mesh" && el.Tag != "texture" {
			continue
		}
		uri := el.SelectAttrValue("filename", "")
		src, err := resolveURI(t, packages, modelDir, uri)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: <%s filename=%q>: %w", model, doc.Line(el), el.Tag, uri, err)
		}
		refs = append(refs, ref{el, src})
		files[src] = true
	}
	for _, s := range sidecars(t, keys(files)) {
		files[s] = true
	}
	all := keys(files)
	common := commonDir(all)
	for _, r := range refs {
		r.el.CreateAttr("filename", "meshes/"+relTo(common, r.src))
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	placed := modelFile(formats.IsaacURDF, slug, false)
	if err := w.file(placed, out); err != nil {
		return nil, err
	}
	for _, f := range all {
		if err := w.place("urdf/meshes/"+relTo(common, f), t.abs(f)); err != nil {
			return nil, err
		}
	}
	return []string{placed}, nil
}

// packageDirs maps ROS package names to their folders in the tree: a folder
// holding a package.xml names the package, and so does every folder's own
// name (the first one found, shallowest first).
func packageDirs(t *tree) map[string]string {
	out := map[string]string{}
	depth := func(p string) int { return strings.Count(p, "/") }
	set := func(name, dir string) {
		if old, ok := out[name]; !ok || depth(dir) < depth(old) {
			out[name] = dir
		}
	}
	for _, f := range t.files {
		dir := path.Dir(f)
		if dir == "." {
			dir = ""
		}
		if path.Base(f) == "package.xml" {
			if data, err := readFile(t.abs(f)); err == nil {
				doc := etree.NewDocument()
				if doc.ReadFromBytes(data) == nil && doc.Root() != nil {
					if n := doc.Root().SelectElement("name"); n != nil {
						out[strings.TrimSpace(n.Text())] = dir
						continue
					}
				}
			}
		}
		for d := dir; d != ""; d = path.Dir(d) {
			if _, ok := out[path.Base(d)]; !ok {
				set(path.Base(d), d)
			}
			if path.Dir(d) == "." {
				break
			}
		}
	}
	return out
}

// resolveURI finds the file a URDF mesh URI names in the tree:
// package://NAME/rest through the package's folder (or the tree root),
// file:// and absolute paths by their trailing part, and relative paths
// against the URDF's folder.
func resolveURI(t *tree, packages map[string]string, modelDir, uri string) (string, error) {
	notFound := fmt.Errorf("the file is not in the export; ask Gizmo to re-export the asset")
	switch {
	case strings.HasPrefix(uri, "package://"):
		rest := strings.TrimPrefix(uri, "package://")
		pkg, sub, _ := strings.Cut(rest, "/")
		var cands []string
		if dir, ok := packages[pkg]; ok {
			cands = append(cands, path.Join(dir, sub))
		}
		cands = append(cands, sub, path.Join(modelDir, sub), path.Join(modelDir, "..", sub))
		for _, c := range cands {
			if p, ok := inside(c); ok && t.has(p) {
				return p, nil
			}
		}
		if p := t.bySuffix(rest); p != "" {
			return p, nil
		}
		return "", notFound
	case strings.HasPrefix(uri, "file://"):
		u, err := url.Parse(uri)
		if err != nil {
			return "", err
		}
		if p := t.bySuffix(u.Path); p != "" {
			return p, nil
		}
		return "", notFound
	case strings.Contains(uri, "://"):
		return "", fmt.Errorf("gizmo places only files that come with the export, not remote URIs")
	}
	f := strings.ReplaceAll(uri, "\\", "/")
	if !path.IsAbs(f) {
		if p, ok := inside(path.Join(modelDir, f)); ok && t.has(p) {
			return p, nil
		}
	}
	if p := t.bySuffix(f); p != "" {
		return p, nil
	}
	return "", notFound
}

// buildUSD writes the USD part of the isaac layout: <slug>.usda (or .usd for
// a binary crate) with the files beside the model kept at their relative
// paths, so that the layer's relative asset paths still resolve.
func buildUSD(w *writer, t *tree, model, slug string, reservedPrefix []string) ([]string, error) {
	if !t.has(model) {
		return nil, fmt.Errorf("model file %s is not in %s", model, t.root)
	}
	head, err := readHead(t.abs(model))
	if err != nil {
		return nil, err
	}
	modelDir := path.Dir(model)
	if modelDir == "." {
		modelDir = ""
	}
	placed := modelFile(formats.IsaacUSD, slug, formats.Detect(head) == formats.KindUSDA)
	if err := w.place(placed, t.abs(model)); err != nil {
		return nil, err
	}
	for _, f := range t.files {
		if f == model || (modelDir != "" && !strings.HasPrefix(f, modelDir+"/")) {
			continue
		}
		rel := relTo(modelDir, f)
		for _, r := range reservedPrefix {
			if rel == r || strings.HasPrefix(rel, r+"/") {
				return nil, fmt.Errorf("the USD export holds %s, which the isaac layout keeps for the URDF; place the formats in two targets", f)
			}
		}
		if err := w.place(rel, t.abs(f)); err != nil {
			return nil, err
		}
	}
	return []string{placed}, nil
}
