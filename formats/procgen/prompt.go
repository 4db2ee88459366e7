package procgen

import (
	"regexp"
	"strconv"
	"strings"
)

// The kinds of robot.
const (
	KindArm        = "arm"
	KindGripper    = "gripper"
	KindQuadruped  = "quadruped"
	KindHumanoid   = "humanoid"
	KindMobileBase = "mobile_base"
	KindCabinet    = "cabinet"
)

// Kinds lists every kind in a stable order.
var Kinds = []string{KindArm, KindGripper, KindQuadruped, KindHumanoid, KindMobileBase, KindCabinet}

// DefaultDOF is the arm's degrees of freedom when the prompt gives none.
const DefaultDOF = 6

// MaxDOF bounds the arm's degrees of freedom.
const MaxDOF = 12

// keywords decides the kind: the first kind (in this order) one of whose
// phrases appears as whole words in the prompt wins. Legged and wheeled
// bodies win over the arm they may carry; an arm wins over its gripper
// (and carries it, see wantsGripper).
var keywords = []struct {
	kind    string
	phrases []string
}{
	{KindHumanoid, []string{"humanoid", "humanoids", "biped", "bipedal", "android", "two legged", "two legs"}},
	{KindQuadruped, []string{"quadruped", "quadrupeds", "four legged", "4 legged", "legged", "robot dog", "dog", "four legs"}},
	{KindMobileBase, []string{"mobile base", "mobile robot", "wheeled", "wheels", "wheel", "rover", "agv", "amr", "differential drive", "diff drive", "cart", "skid steer"}},
	{KindCabinet, []string{"cabinet", "cabinets", "drawer", "drawers", "cupboard", "wardrobe", "dresser", "door", "doors", "furniture", "closet"}},
	{KindArm, []string{"arm", "arms", "manipulator", "dof", "axis", "degrees of freedom", "scara", "cobot", "robotic arm"}},
	{KindGripper, []string{"gripper", "grippers", "jaw", "end effector", "pincer", "claw"}},
}

// words lowercases s and turns every run of characters other than letters
// and digits into one space, with a space at both ends, so phrases match
// whole words with strings.Contains(" "+phrase+" ").
func words(s string) string {
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// KindOf returns the kind of robot a prompt asks for; an arm when nothing
// matches.
func KindOf(prompt string) string {
	w := words(prompt)
	for _, k := range keywords {
		for _, p := range k.phrases {
			if strings.Contains(w, " "+p+" ") {
				return k.kind
			}
		}
	}
	return KindArm
}

// wantsGripper reports whether an arm prompt also asks for a gripper.
// wantsModular says whether the prompt asks for a modular robot: a mobile
// base whose MJCF export attaches its wheels as modules and replicates its
// casters (MuJoCo 3 only).
func wantsModular(prompt string) bool {
	return strings.Contains(words(prompt), " modular ")
}

func wantsGripper(prompt string) bool {
	w := words(prompt)
	for _, p := range []string{"gripper", "jaw", "parallel jaw", "end effector", "pincer", "claw", "fingers"} {
		if strings.Contains(w, " "+p+" ") {
			return true
		}
	}
	return false
}

var (
	dofRe    = regexp.MustCompile(`(?i)\b(\d{1,3})\s*[- ]?\s*(?:dof|d\.o\.f\.?|axis|axes|joints?)\b`)
	dofWords = regexp.MustCompile(`(?i)\b(\d{1,3})\s+degrees?\s+of\s+freedom\b`)
)

// DOFOf returns the arm's degrees of freedom a prompt asks for ("6-DOF",
// "7 DOF", "4-axis", "5 degrees of freedom"), clamped to 1..MaxDOF, or
// DefaultDOF when it names none.
func DOFOf(prompt string) int {
	m := dofRe.FindStringSubmatch(prompt)
	if m == nil {
		m = dofWords.FindStringSubmatch(prompt)
	}
	if m == nil {
		return DefaultDOF
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return DefaultDOF
	}
	return min(max(n, 1), MaxDOF)
}
