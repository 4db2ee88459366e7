package locklog

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "locks.log")
	text := "key-abc.lock:exclusive 12.500 prepare 41 1700000000000000000 abc123 /c/locks/key-abc.lock\n" +
		"gc.lock:shared 3.000 sync 42 1700000000100000000 - /c/a dir/gc.lock\n" +
		"old.lock:exclusive 5.0 sync\n" + // an older shape: skipped
		"\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{
		{Path: "/c/locks/key-abc.lock", Mode: "exclusive", Key: "abc123", Command: "prepare", PID: 41, Start: time.Unix(0, 1700000000000000000), Took: 12500 * time.Microsecond},
		{Path: "/c/a dir/gc.lock", Mode: "shared", Command: "sync", PID: 42, Start: time.Unix(0, 1700000000100000000), Took: 3 * time.Millisecond},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] && !(got[i].Start.Equal(want[i].Start) && got[i].Path == want[i].Path && got[i].Took == want[i].Took) {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if l, err := Read(filepath.Join(t.TempDir(), "none")); err != nil || l != nil {
		t.Errorf("a missing log: %v, %v", l, err)
	}
}

func TestBlame(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	line := func(pid int, path, mode string, from, to int) Line {
		return Line{Path: path, Mode: mode, PID: pid, Start: at(from), Took: at(to).Sub(at(from))}
	}
	keyed := func(l Line, key string) Line { l.Key = key; return l }
	const agent = 7
	cases := []struct {
		name  string
		waits []Line
		holds []Line
		want  []time.Duration // Held of each blamed wait, in order
		same  []time.Duration // SameKey of each, when not all zero
	}{
		{"a wait for the key being stored counts apart",
			[]Line{keyed(line(1, "/k", "exclusive", 0, 1000), "a")},
			[]Line{line(agent, "/k", "exclusive", 0, 900), keyed(line(agent, "/k", "exclusive", 100, 600), "a"), keyed(line(agent, "/k", "exclusive", 500, 800), "b")},
			[]time.Duration{400 * time.Millisecond}, []time.Duration{500 * time.Millisecond}},
		{"a key held by another process does not count apart",
			[]Line{keyed(line(1, "/k", "exclusive", 0, 1000), "a")},
			[]Line{line(agent, "/k", "exclusive", 0, 500), keyed(line(3, "/k", "exclusive", 0, 500), "a")},
			[]time.Duration{500 * time.Millisecond}, nil},
		{"a wait inside one hold counts the wait",
			[]Line{line(1, "/k", "exclusive", 100, 300)}, []Line{line(agent, "/k", "exclusive", 0, 500)}, []time.Duration{200 * time.Millisecond}, nil},
		{"a wait longer than the hold counts the hold",
			[]Line{line(1, "/k", "exclusive", 100, 3000)}, []Line{line(agent, "/k", "exclusive", 50, 400)}, []time.Duration{300 * time.Millisecond}, nil},
		{"overlapping holds count once",
			[]Line{line(1, "/k", "exclusive", 0, 1000)}, []Line{line(agent, "/k", "exclusive", 100, 400), line(agent, "/k", "exclusive", 300, 600), line(agent, "/k", "exclusive", 800, 900)},
			[]time.Duration{600 * time.Millisecond}, nil},
		{"shared holds do not block shared waits", []Line{line(1, "/g", "shared", 0, 1000)}, []Line{line(agent, "/g", "shared", 0, 1000)}, nil, nil},
		{"a shared hold blocks an exclusive wait", []Line{line(1, "/g", "exclusive", 0, 1000)}, []Line{line(agent, "/g", "shared", 200, 700)}, []time.Duration{500 * time.Millisecond}, nil},
		{"another lock file", []Line{line(1, "/k1", "exclusive", 0, 1000)}, []Line{line(agent, "/k2", "exclusive", 0, 1000)}, nil, nil},
		{"another holder", []Line{line(1, "/k", "exclusive", 0, 1000)}, []Line{line(3, "/k", "exclusive", 0, 1000)}, nil, nil},
		{"the holder's own waits", []Line{line(agent, "/k", "exclusive", 0, 1000)}, []Line{line(agent, "/k", "exclusive", 0, 1000)}, nil, nil},
		{"a hold before the wait", []Line{line(1, "/k", "exclusive", 500, 1000)}, []Line{line(agent, "/k", "exclusive", 0, 500)}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Blame(c.waits, c.holds, agent)
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %v", got, c.want)
			}
			for i, b := range got {
				if b.Held != c.want[i] {
					t.Errorf("wait %d: held %v, want %v", i, b.Held, c.want[i])
				}
				if want := time.Duration(0); c.same != nil && b.SameKey != c.same[i] || c.same == nil && b.SameKey != want {
					t.Errorf("wait %d: same key %v, want %v", i, b.SameKey, c.same)
				}
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 20; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if got := Percentile(ds, 95); got != 19*time.Millisecond {
		t.Errorf("p95 of 1..20 ms = %v, want 19ms", got)
	}
	if got := Percentile(ds, 100); got != 20*time.Millisecond {
		t.Errorf("p100 = %v", got)
	}
	if got := Percentile(nil, 95); got != 0 {
		t.Errorf("p95 of nothing = %v", got)
	}
}
