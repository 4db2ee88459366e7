package validate

import "math"

// EigenSym3 returns the eigenvalues, ascending, of the symmetric 3×3 matrix
// [[xx xy xz] [xy yy yz] [xz yz zz]]: the principal moments of an inertia
// tensor, for the positive-definiteness and triangle-inequality checks of
// both URDF and MJCF. It uses the closed form for symmetric matrices
// (trigonometric solution of the characteristic cubic).
func EigenSym3(xx, yy, zz, xy, xz, yz float64) [3]float64 {
	p1 := xy*xy + xz*xz + yz*yz
	if p1 == 0 {
		return sorted3([3]float64{xx, yy, zz})
	}
	q := (xx + yy + zz) / 3
	p2 := (xx-q)*(xx-q) + (yy-q)*(yy-q) + (zz-q)*(zz-q) + 2*p1
	p := math.Sqrt(p2 / 6)
	// B = (A - qI) / p; r = det(B) / 2.
	bxx, byy, bzz := (xx-q)/p, (yy-q)/p, (zz-q)/p
	bxy, bxz, byz := xy/p, xz/p, yz/p
	r := (bxx*(byy*bzz-byz*byz) - bxy*(bxy*bzz-byz*bxz) + bxz*(bxy*byz-byy*bxz)) / 2
	var phi float64
	switch {
	case r <= -1:
		phi = math.Pi / 3
	case r >= 1:
		phi = 0
	default:
		phi = math.Acos(r) / 3
	}
	e1 := q + 2*p*math.Cos(phi)
	e3 := q + 2*p*math.Cos(phi+2*math.Pi/3)
	return sorted3([3]float64{e1, 3*q - e1 - e3, e3})
}

func sorted3(v [3]float64) [3]float64 {
	if v[0] > v[1] {
		v[0], v[1] = v[1], v[0]
	}
	if v[1] > v[2] {
		v[1], v[2] = v[2], v[1]
	}
	if v[0] > v[1] {
		v[0], v[1] = v[1], v[0]
	}
	return v
}
