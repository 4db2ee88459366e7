package testreq

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRequired reads the variable's values.
func TestRequired(t *testing.T) {
	for _, tt := range []struct {
		val  string
		want bool
	}{{"", false}, {"0", false}, {"false", false}, {"1", true}, {"yes", true}} {
		t.Setenv(Env, tt.val)
		if got := Required(); got != tt.want {
			t.Errorf("%s=%q: Required() = %v, want %v", Env, tt.val, got, tt.want)
		}
	}
}

// The tests below run this test binary again on one of the helper tests
// (which do nothing unless GIZMO_TESTREQ_CHILD is set) and read its verdict.

func TestHelperMissing(t *testing.T) {
	if os.Getenv("GIZMO_TESTREQ_CHILD") == "" {
		return
	}
	Missing(t, "frobnicator not installed: apt-get install frob")
	t.Log("AFTER-MISSING")
}

func TestHelperMissingAtEnd(t *testing.T) {
	if os.Getenv("GIZMO_TESTREQ_CHILD") == "" {
		return
	}
	for i := 0; i < 3; i++ {
		MissingAtEnd(t, "frobnicator not installed: apt-get install frob")
	}
	MissingAtEnd(t, "corpus not found")
	t.Log("AFTER-MISSING")
	if os.Getenv("GIZMO_TESTREQ_FAIL") != "" {
		t.Error("OTHER-ASSERTION-FAILED")
	}
}

// child runs one helper test in a new process with env added and returns
// its verbose output and whether it passed (skips pass).
func child(t *testing.T, test string, env ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), append([]string{"GIZMO_TESTREQ_CHILD=1", Env + "=", "GIZMO_TESTREQ_FAIL="}, env...)...)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return string(out), err == nil
}

func TestMissingAndMissingAtEnd(t *testing.T) {
	for _, tt := range []struct {
		name, test string
		env        []string
		// want lists what the output must hold, wantNot what it must not;
		// pass is whether the run passes.
		want, wantNot []string
		pass          bool
	}{
		{"skip", "TestHelperMissing", nil,
			[]string{"--- SKIP: TestHelperMissing", "apt-get install frob"}, []string{"AFTER-MISSING"}, true},
		{"required fails", "TestHelperMissing", []string{Env + "=1"},
			[]string{"--- FAIL: TestHelperMissing", "apt-get install frob", Env + "=1"}, []string{"AFTER-MISSING"}, false},
		{"at end skips after the rest", "TestHelperMissingAtEnd", nil,
			[]string{"AFTER-MISSING", "--- SKIP: TestHelperMissingAtEnd", "frobnicator not installed: apt-get install frob; corpus not found"}, nil, true},
		{"at end keeps a failure", "TestHelperMissingAtEnd", []string{"GIZMO_TESTREQ_FAIL=1"},
			[]string{"AFTER-MISSING", "OTHER-ASSERTION-FAILED", "--- FAIL: TestHelperMissingAtEnd"}, nil, false},
		{"at end required fails and goes on", "TestHelperMissingAtEnd", []string{Env + "=1"},
			[]string{"AFTER-MISSING", "--- FAIL: TestHelperMissingAtEnd", "corpus not found (" + Env + "=1"}, []string{"SKIP"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, pass := child(t, tt.test, tt.env...)
			if pass != tt.pass {
				t.Errorf("passed = %v, want %v", pass, tt.pass)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("output holds %q", w)
				}
			}
			if n := strings.Count(out, "not checked: frobnicator"); n > 1 {
				t.Errorf("the same reason logged %d times", n)
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}
