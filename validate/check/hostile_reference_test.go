package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/reference"
	"github.com/antimlabs/gizmo/internal/reference/reftest"
	"github.com/antimlabs/gizmo/validate"
)

// TestHostileURDFAgainstCheckURDF holds gizmo's verdicts on the URDFs of
// the hostile tests against urdfdom's check_urdf: a URDF behind a long
// comment is accepted by both; UTF-16 text and entity tricks are refused
// by both. Not compared: an attribute over 16 MiB, which urdfdom reads and
// gizmo refuses (a deliberate difference), and 100,000-deep nesting, on
// which check_urdf crashes (SIGSEGV, after some 15 s) and gizmo refuses.
func TestHostileURDFAgainstCheckURDF(t *testing.T) {
	reftest.Require(t, reference.ToolCheckURDF)
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secret, []byte("s3cr3t"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"header.urdf":  headerURDF,
		"utf16.urdf":   utf16File(`<?xml version="1.0" encoding="UTF-16"?>` + "\n" + plainURDF),
		"utf16be.urdf": utf16BE(plainURDF),
		"plain.urdf":   plainURDF,
	}
	for name, body := range hostileXML(secret) {
		if strings.HasSuffix(name, ".urdf") && !strings.HasPrefix(name, "attr.") && !strings.HasPrefix(name, "deep.") {
			files[name] = body
		}
	}
	write(t, dir, files)
	for name := range files {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			v, err := reference.CheckURDF(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Path(context.Background(), p, validate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			gizmo := len(rs) == 1 && rs[0].Valid
			if gizmo != v.Accepted {
				t.Errorf("gizmo valid=%v, check_urdf accepted=%v (%s)\ngizmo: %+v", gizmo, v.Accepted, v.First(), rs)
			}
		})
	}
}
