// Package usd checks USD files as far as gizmo can without OpenUSD: it tells
// text layers (#usda 1.0) from binary crates (PXR-USDC), and in a text layer
// checks that every asset path (@...@ or @@@...@@@) resolves to a file.
// Whatever it cannot check (crate contents, remote or templated asset paths)
// is listed in Report.NotChecked rather than passed silently.
package usd

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
)

// MaxFileSize bounds the text layer Check reads.
const MaxFileSize = 256 << 20

var (
	usdaMagic = []byte("#usda ")
	usdcMagic = []byte("PXR-USDC")
	zipMagic  = []byte("PK\x03\x04")
)

// Check validates the USD file at path, reading it and the asset files it
// names through opts.FS.
func Check(path string, opts validate.Options) validate.Report {
	r := validate.Report{Path: path, Valid: true}
	f, err := opts.Open(path)
	if err != nil {
		r.Add(validate.Problem{Severity: validate.Error, Rule: "usd-read", File: path,
			Message: fmt.Sprintf("cannot read the USD file: %v", err)})
		return opts.Finish(r)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		r.Add(validate.Problem{Severity: validate.Error, Rule: "usd-read", File: path,
			Message: fmt.Sprintf("cannot read the USD file: %v", err)})
		return opts.Finish(r)
	}
	return opts.Finish(checkData(path, data, r, opts))
}

// CheckBytes validates data as the USD file at path (asset paths resolve
// next to path).
func CheckBytes(path string, data []byte, opts validate.Options) validate.Report {
	r := validate.Report{Path: path, Valid: true}
	return opts.Finish(checkData(path, data, r, opts))
}

func checkData(path string, data []byte, r validate.Report, opts validate.Options) validate.Report {
	switch {
	case bytes.HasPrefix(data, usdcMagic):
		r.Format = formats.KindUSDC
		r.NotChecked = append(r.NotChecked, "binary USD crate contents not checked (asset paths, prims, schema): convert to .usda or open it in OpenUSD to check them")
		return r
	case bytes.HasPrefix(data, zipMagic):
		r.NotChecked = append(r.NotChecked, "USDZ package contents not checked: unzip it and check its layers")
		return r
	case bytes.HasPrefix(data, usdaMagic):
		r.Format = formats.KindUSDA
	default:
		r.Add(validate.Problem{Severity: validate.Error, Rule: "usd-header", File: path, Line: 1, Col: 1,
			Message: "not a USD file: a text layer starts with '#usda 1.0', a binary crate with 'PXR-USDC'"})
		return r
	}
	if len(data) > MaxFileSize {
		r.Add(validate.Problem{Severity: validate.Error, Rule: "usd-read", File: path,
			Message: fmt.Sprintf("text layer larger than %d MiB; not read", MaxFileSize>>20)})
		return r
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if v := strings.TrimSpace(string(line[len(usdaMagic):])); v != "1.0" {
		r.Add(validate.Problem{Severity: validate.Warning, Rule: "usd-version", File: path, Line: 1, Col: 1,
			Message: fmt.Sprintf("text layer version %q: gizmo knows #usda 1.0; checked as 1.0", v)})
	}
	assets, errs := scanAssets(data)
	for _, e := range errs {
		r.Add(validate.Problem{Severity: validate.Error, Rule: "usd-syntax", File: path, Line: e.line, Col: e.col, Message: e.msg})
	}
	dir := filepath.Dir(path)
	notChecked := map[string]bool{}
	for _, a := range assets {
		reason, problem := resolve(dir, a.path, opts)
		switch {
		case reason != "":
			if !notChecked[a.path] {
				notChecked[a.path] = true
				r.NotChecked = append(r.NotChecked, fmt.Sprintf("asset path @%s@ (line %d) not checked: %s", a.path, a.line, reason))
			}
		case problem != "":
			r.Add(validate.Problem{Severity: validate.Error, Rule: "usd-asset", File: path, Line: a.line, Col: a.col,
				Message: fmt.Sprintf("asset path @%s@ %s; fix the path or ship the file next to the layer", a.path, problem)})
		}
	}
	return r
}

// resolve looks for asset path p next to the layer in dir. reason is set when
// p cannot be checked at all; problem when it does not resolve. Files are
// looked for through opts.FS; a tile pattern (<UDIM>) needs a folder
// listing, which only the operating system gives.
func resolve(dir, p string, opts validate.Options) (reason, problem string) {
	if p == "" {
		return "", ""
	}
	if i := strings.Index(p, "://"); i > 0 && !strings.ContainsAny(p[:i], "/\\") {
		if strings.HasPrefix(p, "file://") {
			p = strings.TrimPrefix(p, "file://")
		} else {
			return "a remote or resolver-specific URI", ""
		}
	}
	if strings.Contains(p, "${") || strings.HasPrefix(p, "`") {
		return "an expression with variables", ""
	}
	// A package-relative path names a file inside a package: check the package.
	if i := strings.IndexByte(p, '['); i > 0 && strings.HasSuffix(p, "]") {
		p = p[:i]
	}
	full := p
	if !filepath.IsAbs(p) {
		full = filepath.Join(dir, p)
	}
	for _, tok := range []string{"<UDIM>", "<UVTILE>"} {
		if strings.Contains(full, tok) {
			if opts.FS != nil {
				return "a tile pattern (" + tok + "), which gizmo matches only against folders on disk", ""
			}
			pattern := strings.ReplaceAll(full, tok, "*")
			m, err := filepath.Glob(pattern)
			if err != nil || len(m) == 0 {
				return "", fmt.Sprintf("matches no tile file (looked for %s)", pattern)
			}
			return "", ""
		}
	}
	st, err := opts.Stat(full)
	if err != nil {
		return "", fmt.Sprintf("does not exist (looked for %s)", full)
	}
	if st.IsDir() {
		return "", fmt.Sprintf("is a folder, not a file (%s)", full)
	}
	return "", ""
}

type asset struct {
	path      string
	line, col int
}

type scanError struct {
	line, col int
	msg       string
}

// scanAssets finds the asset paths of a text layer, skipping comments and
// string literals, and reports unterminated strings and asset paths.
func scanAssets(data []byte) ([]asset, []scanError) {
	var out []asset
	var errs []scanError
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n && i < len(data); k++ {
			if data[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(data) {
		ch := data[i]
		switch {
		case ch == '#':
			for i < len(data) && data[i] != '\n' {
				adv(1)
			}
		case ch == '"' || ch == '\'':
			l, c := line, col
			q := string(ch)
			if bytes.HasPrefix(data[i:], []byte(q+q+q)) {
				adv(3)
				end := bytes.Index(data[i:], []byte(q+q+q))
				for end > 0 && data[i+end-1] == '\\' {
					next := bytes.Index(data[i+end+1:], []byte(q+q+q))
					if next < 0 {
						end = -1
						break
					}
					end += 1 + next
				}
				if end < 0 {
					errs = append(errs, scanError{l, c, "unterminated triple-quoted string"})
					return out, errs
				}
				adv(end + 3)
				continue
			}
			adv(1)
			closed := false
			for i < len(data) && data[i] != '\n' {
				if data[i] == '\\' {
					adv(2)
					continue
				}
				if data[i] == ch {
					adv(1)
					closed = true
					break
				}
				adv(1)
			}
			if !closed {
				errs = append(errs, scanError{l, c, "unterminated string"})
			}
		case ch == '@':
			l, c := line, col
			if bytes.HasPrefix(data[i:], []byte("@@@")) {
				adv(3)
				var b strings.Builder
				for {
					if i >= len(data) {
						errs = append(errs, scanError{l, c, "unterminated asset path @@@...@@@"})
						return out, errs
					}
					if bytes.HasPrefix(data[i:], []byte(`\@@@`)) {
						b.WriteString("@@@")
						adv(4)
						continue
					}
					if bytes.HasPrefix(data[i:], []byte("@@@")) {
						break
					}
					b.WriteByte(data[i])
					adv(1)
				}
				// Four or more @ at the end: the extra ones belong to the path.
				for bytes.HasPrefix(data[i:], []byte("@@@@")) {
					b.WriteByte('@')
					adv(1)
				}
				adv(3)
				out = append(out, asset{b.String(), l, c})
				continue
			}
			adv(1)
			start := i
			for i < len(data) && data[i] != '@' && data[i] != '\n' {
				adv(1)
			}
			if i >= len(data) || data[i] != '@' {
				errs = append(errs, scanError{l, c, "unterminated asset path: a path opened with @ must close with @ on the same line"})
				continue
			}
			out = append(out, asset{string(data[start:i]), l, c})
			adv(1)
		default:
			adv(1)
		}
	}
	return out, errs
}
