// Package formats names the export formats Gizmo serves and the kinds of file
// an export can be, and detects a file's kind from its bytes.
//
// It is the vocabulary shared by the client, the cache, the validators and the
// placement code; it imports nothing of the project.
package formats

import (
	"bytes"
	"fmt"
	"strings"
)

// Format is an export format of the Gizmo API.
type Format string

// The export formats the Gizmo API documents.
const (
	IsaacUSD  Format = "isaac_sim_usd"
	IsaacURDF Format = "isaac_sim_urdf"
	MuJoCo    Format = "mujoco_mjcf"
)

// GazeboSDF is SDFormat for Gazebo, which only the current generation of
// the API serves (as "sdf"). It is not in All: the alpha generation has no
// such format.
const GazeboSDF Format = "gazebo_sdf"

// All lists the documented formats in a stable order.
var All = []Format{IsaacUSD, IsaacURDF, MuJoCo}

// aliases are the short names users may type on the command line.
var aliases = map[string]Format{
	"usd": IsaacUSD, "isaac_sim_usd": IsaacUSD,
	"urdf": IsaacURDF, "isaac_sim_urdf": IsaacURDF,
	"mjcf": MuJoCo, "mujoco": MuJoCo, "mujoco_mjcf": MuJoCo,
	"sdf": GazeboSDF, "gazebo_sdf": GazeboSDF,
}

// Parse accepts a format's API name or a short alias (usd, urdf, mjcf).
func Parse(s string) (Format, error) {
	if f, ok := aliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: use one of usd (isaac_sim_usd), urdf (isaac_sim_urdf), mjcf (mujoco_mjcf), sdf (gazebo_sdf)", s)
}

// Known reports whether f is one of the documented formats.
func (f Format) Known() bool {
	for _, k := range All {
		if f == k {
			return true
		}
	}
	return false
}

// Short is the short alias of a documented format (usd, urdf, mjcf), or the
// format itself when it is not one of them.
func (f Format) Short() string {
	switch f {
	case IsaacUSD:
		return "usd"
	case IsaacURDF:
		return "urdf"
	case MuJoCo:
		return "mjcf"
	case GazeboSDF:
		return "sdf"
	}
	return string(f)
}

// Kind is what a downloaded or local file is, detected from its bytes.
type Kind string

// The kinds of file an export can be.
const (
	KindUnknown Kind = ""
	KindZip     Kind = "zip"
	KindURDF    Kind = "urdf"
	KindMJCF    Kind = "mjcf"
	KindUSDA    Kind = "usda"
	KindUSDC    Kind = "usdc"
	KindSDF     Kind = "sdf"
)

// Detect tells the kind of a file from its first bytes (512 are plenty): zip
// magic, the USD headers, or the root element of an XML document. It never
// trusts names or URLs.
func Detect(head []byte) Kind {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return KindZip
	case bytes.HasPrefix(head, []byte("PXR-USDC")):
		return KindUSDC
	case bytes.HasPrefix(bytes.TrimLeft(head, "\xef\xbb\xbf \t\r\n"), []byte("#usda")):
		return KindUSDA
	}
	switch rootElement(head) {
	case "robot":
		return KindURDF
	case "mujoco":
		return KindMJCF
	case "sdf":
		return KindSDF
	}
	return KindUnknown
}

// rootElement returns the name of the first element of an XML prefix, skipping
// the declaration, comments, processing instructions and a DOCTYPE.
func rootElement(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 || i+1 >= len(b) {
			return ""
		}
		b = b[i+1:]
		switch {
		case bytes.HasPrefix(b, []byte("?")):
			j := bytes.Index(b, []byte("?>"))
			if j < 0 {
				return ""
			}
			b = b[j+2:]
		case bytes.HasPrefix(b, []byte("!--")):
			j := bytes.Index(b, []byte("-->"))
			if j < 0 {
				return ""
			}
			b = b[j+3:]
		case bytes.HasPrefix(b, []byte("!")):
			j := bytes.IndexByte(b, '>')
			if j < 0 {
				return ""
			}
			b = b[j+1:]
		default:
			end := bytes.IndexAny(b, " \t\r\n/>")
			if end < 0 {
				return ""
			}
			name := string(b[:end])
			if k := strings.IndexByte(name, ':'); k >= 0 {
				name = name[k+1:]
			}
			return name
		}
	}
}
