package check

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/antimlabs/gizmo/validate"
	"github.com/antimlabs/gizmo/validate/urdf"
)

// StdinName is the name reports give a model read from standard input
// ("<stdin>:12:5: error: ..."), as compilers name it.
const StdinName = "<stdin>"

// MaxStdin bounds what Reader reads: the largest model file a checker
// reads (a URDF), and far more than any zip Gizmo exports.
const MaxStdin = urdf.MaxFileSize

// maxStdin is the bound in force; tests lower it.
var maxStdin int64 = MaxStdin

// Reader validates the model read from r (standard input) as Validate
// validates a file named on the command line, reports naming it name: its
// kind is told from its bytes (a URDF, an MJCF, a USD file, or a zip of
// them); the files it names (meshes, includes) are looked up from the
// current folder, as for a model file in it. It reads all of r first, at
// most MaxStdin bytes (more is an error report, not a partial check). The
// error is for a read that fails or a cancelled context.
func Reader(ctx context.Context, name string, r io.Reader, opts validate.Options) (Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxStdin+1))
	if err != nil {
		return Result{}, fmt.Errorf("read %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if int64(len(data)) > maxStdin {
		rep := validate.Report{Path: name}
		rep.Add(validate.Problem{Severity: validate.Error, Rule: "file-too-large", File: name,
			Message: fmt.Sprintf("more than %d MiB: larger than any model gizmo checks; save it to a file and check it there, or split it", maxStdin>>20)})
		return Result{Reports: []validate.Report{rep}}, nil
	}
	opts.FS = readerFS{under: opts, name: name, data: data}
	rs, err := file(ctx, name, opts, name, true)
	return Result{Reports: rs}, err
}

// readerFS serves name from data, and every other name through the
// options it was made from (the operating system's files, usually).
type readerFS struct {
	under validate.Options
	name  string
	data  []byte
}

func (f readerFS) Open(name string) (io.ReadCloser, error) {
	if name == f.name {
		return memoFile{bytes.NewReader(f.data)}, nil
	}
	return f.under.Open(name)
}

func (f readerFS) Stat(name string) (fs.FileInfo, error) {
	if name == f.name {
		return readerInfo{f}, nil
	}
	return f.under.Stat(name)
}

// readerInfo describes the data read as a regular file.
type readerInfo struct{ f readerFS }

func (i readerInfo) Name() string       { return i.f.name }
func (i readerInfo) Size() int64        { return int64(len(i.f.data)) }
func (i readerInfo) Mode() fs.FileMode  { return 0o444 }
func (i readerInfo) ModTime() time.Time { return time.Time{} }
func (i readerInfo) IsDir() bool        { return false }
func (i readerInfo) Sys() any           { return nil }
