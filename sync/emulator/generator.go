package emulator

import (
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/formats/procgen"
)

// defaultGenerate renders an asset's export with the procedural robot
// generator: deterministic, byte-identical across calls.
func defaultGenerate(id, name, prompt string, f formats.Format) ([]byte, string, error) {
	return procgen.Generate(id, name, prompt).Export(f)
}
