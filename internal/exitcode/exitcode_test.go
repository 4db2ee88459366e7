package exitcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	base := errors.New("boom")
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain", base, Failure},
		{"with", With(NotFound, base), NotFound},
		{"wrapped", fmt.Errorf("ctx: %w", With(Invalid, base)), Invalid},
		{"outermost wins", With(Usage, fmt.Errorf("x: %w", With(Auth, base))), Usage},
		{"silent", Silent(Partial), Partial},
	} {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("%s: Of = %d, want %d", tc.name, got, tc.want)
		}
	}
	if With(Invalid, nil) != nil {
		t.Error("With(code, nil) is not nil")
	}
	if err := With(NotFound, base); !errors.Is(err, base) || err.Error() != "boom" {
		t.Errorf("With does not wrap: %v", err)
	}
}
