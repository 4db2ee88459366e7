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

func TestClasses(t *testing.T) {
	names := map[string]bool{}
	for i, c := range Classes {
		if i > 0 && c.Code <= Classes[i-1].Code {
			t.Errorf("Classes out of order at %d (%s)", c.Code, c.Name)
		}
		if c.Name == "" || c.Summary == "" || c.Meaning == "" || names[c.Name] {
			t.Errorf("class %d: empty or repeated field: %+v", c.Code, c)
		}
		names[c.Name] = true
		if got := ClassOf(c.Code); got != c {
			t.Errorf("ClassOf(%d) = %+v, want %+v", c.Code, got, c)
		}
	}
	for _, code := range []int{OK, Failure, Usage, NotFound, Invalid, Partial, Auth, Locked, NotRunning, Busy, Interrupted} {
		if ClassOf(code).Code != code || ClassOf(code).Name == "failure" && code != Failure {
			t.Errorf("exit code %d has no class of its own", code)
		}
	}
	if c := ClassOf(42); c.Name != "failure" || c.Code != 42 {
		t.Errorf("ClassOf(42) = %+v, want failure with code 42", c)
	}
}
