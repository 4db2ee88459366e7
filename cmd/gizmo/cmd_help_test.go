package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/antimlabs/gizmo/internal/exitcode"
)

// TestHelpTopics runs "gizmo help TOPIC" for every topic and checks that
// it prints its page, and that the pages say what the README says.
func TestHelpTopics(t *testing.T) {
	help := func(t *testing.T, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(append([]string{"gizmo", "help"}, args...), &out, &errb); code != 0 {
			t.Fatalf("gizmo help %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errb.String())
		}
		if errb.Len() > 0 {
			t.Errorf("gizmo help %s wrote to stderr:\n%s", strings.Join(args, " "), errb.String())
		}
		return out.String()
	}
	readmeEnv := regexp.MustCompile(`GIZMO_[A-Z_]+[A-Z]`).FindAllString(readmeSection(t, "## Configuration"), -1)
	if len(readmeEnv) < 5 {
		t.Fatalf("README's Configuration section names %d GIZMO_ variables: the pattern no longer finds them", len(readmeEnv))
	}
	var exitLines []string
	for _, c := range exitcode.Classes {
		exitLines = append(exitLines, `(?m)^ +`+fmt.Sprint(c.Code)+` +`+c.Name+` +`)
	}
	for _, tc := range []struct {
		topic string
		want  []string // regular expressions the page must match
	}{
		{"manifest", []string{`\[\[target\]\]`, `gizmo\.lock`, `--locked`, `GIZMO_<SLUG>_<MJCF\|URDF\|USD\|SCENE>`}},
		{"cache", []string{`blobs/`, `trees/`, `index\.db`, `CACHEDIR\.TAG`}},
		{"exit-codes", append([]string{`"error": \{"code"`}, exitLines...)},
		{"environment", append([]string{`ROS_PACKAGE_PATH`, `XDG_CACHE_HOME`, `GIZMO_PROJECT\n +--project \(`}, readmeEnv...)},
	} {
		t.Run(tc.topic, func(t *testing.T) {
			page := help(t, tc.topic)
			for _, re := range tc.want {
				if !regexp.MustCompile(re).MatchString(page) {
					t.Errorf("gizmo help %s does not match %q:\n%s", tc.topic, re, page)
				}
			}
		})
	}
	// gizmo help lists the topics; a command's name still gives its help.
	if page := help(t, "help"); !strings.Contains(page, "exit-codes") {
		t.Errorf("gizmo help help does not list the topics:\n%s", page)
	}
	if page := help(t, "sync"); !strings.Contains(page, "gizmo sync -") {
		t.Errorf("gizmo help sync does not print sync's help:\n%s", page)
	}
}
