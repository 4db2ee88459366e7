package procgen

import (
	"testing"

	"github.com/antimlabs/gizmo/formats"
)

// BenchmarkExport measures generating one robot and rendering it in a
// format, what the emulator does per download.
func BenchmarkExport(b *testing.B) {
	for _, f := range formats.All {
		for _, s := range []struct{ name, prompt string }{
			{"arm6_gripper", "A 6-DOF arm with a parallel jaw gripper"},
			{"humanoid", "humanoid"},
		} {
			b.Run(s.name+"/"+f.Short(), func(b *testing.B) {
				size := 0
				for b.Loop() {
					body, _, err := Generate("ast_bench", s.name, s.prompt).Export(f)
					if err != nil {
						b.Fatal(err)
					}
					size = len(body)
				}
				b.ReportMetric(float64(size), "bytes/export")
			})
		}
	}
}
