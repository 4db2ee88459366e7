package layout

import (
	"context"
	"fmt"
	"testing"

	"github.com/antimlabs/gizmo/formats"
)

// BenchmarkPlaceAll places n assets (the same small MuJoCo robot under n
// slugs) into a target that already holds n others, then places them again
// (every folder reused, nothing written): both read <dir>/.gizmo, whose
// size grows with the assets, so that work done once per asset instead of
// once per batch shows as time growing faster than n. Run with
// -benchtime=1x.
func BenchmarkPlaceAll(b *testing.B) {
	src := procgenSource(b, "ast_b", "Bench", "a 3-DOF arm", formats.MuJoCo)
	for _, n := range []int{250, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				tg := Target{Dir: b.TempDir(), Layout: MuJoCo}
				batch := func(prefix string) []Asset {
					as := make([]Asset, n)
					for i := range as {
						as[i] = Asset{ID: fmt.Sprintf("ast_%s%d", prefix, i), Name: "Bench", Slug: fmt.Sprintf("%s-%d", prefix, i), Sources: []Source{src}}
					}
					return as
				}
				if _, err := tg.PlaceAll(context.Background(), batch("other")); err != nil {
					b.Fatal(err)
				}
				as := batch("robot")
				b.StartTimer()
				if _, err := tg.PlaceAll(context.Background(), as); err != nil {
					b.Fatal(err)
				}
				if _, err := tg.PlaceAll(context.Background(), as); err != nil {
					b.Fatal(err)
				}
				tg.Collect()
			}
		})
	}
}
