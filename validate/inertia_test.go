package validate

import (
	"math"
	"testing"
)

func TestEigenSym3(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		xx, yy, zz, xy, xz, yz float64
		want                   [3]float64
	}{
		{"diagonal", 3, 1, 2, 0, 0, 0, [3]float64{1, 2, 3}},
		// diag(1, 3) rotated 45° in the xy plane, and 5 on z.
		{"rotated", 2, 2, 5, 1, 0, 0, [3]float64{1, 3, 5}},
		{"indefinite", 1, 1, 1, 2, 0, 0, [3]float64{-1, 1, 3}},
		{"repeated", 2, 2, 2, 0, 0, 0, [3]float64{2, 2, 2}},
		// All off-diagonal terms: eigenvalues of [[4 1 1] [1 4 1] [1 1 4]] are 3, 3, 6.
		{"full", 4, 4, 4, 1, 1, 1, [3]float64{3, 3, 6}},
	} {
		got := EigenSym3(tc.xx, tc.yy, tc.zz, tc.xy, tc.xz, tc.yz)
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9 {
				t.Errorf("%s: EigenSym3 = %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}
