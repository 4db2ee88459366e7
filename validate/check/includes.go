package check

import (
	"path/filepath"

	"github.com/beevik/etree"

	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/mjcf"
)

// maxIncludeScan bounds how many files scanIncludes reads.
const maxIncludeScan = 256

// scanIncludes follows <include file="..."> elements from the MJCF model at
// path, transitively, resolving each name against the main model's folder
// and then the including file's, as MuJoCo 3 does. Files that cannot be
// read are listed anyway (the model's check reports them) but not followed.
// Files are read through opts.FS.
func scanIncludes(path string, opts validate.Options) []string {
	mainDir := filepath.Dir(path)
	seen := map[string]bool{}
	var out []string
	queue := []string{path}
	for len(queue) > 0 && len(seen) < maxIncludeScan {
		cur := queue[0]
		queue = queue[1:]
		if seen[cur] {
			continue
		}
		seen[cur] = true
		doc := etree.NewDocument()
		doc.ReadSettings.MaxDepth = 256
		data, err := opts.ReadFile(cur, mjcf.MaxFileSize)
		if err != nil {
			continue
		}
		if err := doc.ReadFromBytes(data); err != nil {
			continue
		}
		for _, inc := range doc.FindElements("//include") {
			name := inc.SelectAttrValue("file", "")
			if name == "" {
				continue
			}
			p := name
			if !filepath.IsAbs(p) {
				p = filepath.Join(mainDir, name)
				if _, err := opts.Stat(p); err != nil {
					if alt := filepath.Join(filepath.Dir(cur), name); alt != p {
						if _, err := opts.Stat(alt); err == nil {
							p = alt
						}
					}
				}
			}
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			if !seen[p] {
				out = append(out, p)
				queue = append(queue, p)
			}
		}
	}
	return out
}
