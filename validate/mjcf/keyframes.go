package mjcf

func (c *checker) keyframes() {
	if c.complex {
		if len(c.m.root.SelectElements("keyframe")) > 0 {
			c.m.report.NotChecked = append(c.m.report.NotChecked,
				"keyframe sizes: the model uses composite or flexcomp, whose generated joints gizmo does not count")
		}
		return
	}
	for _, kf := range c.m.root.SelectElements("keyframe") {
		if c.bad[kf] {
			continue
		}
		for _, k := range kf.SelectElements("key") {
			name := k.SelectAttrValue("name", "")
			for _, s := range []struct {
				attr string
				want int
				what string
			}{
				{"qpos", c.nq, "nq"}, {"qvel", c.nv, "nv"}, {"act", c.na, "na"}, {"ctrl", c.nu, "nu"},
				{"mpos", 3 * c.nmocap, "3 x mocap bodies"}, {"mquat", 4 * c.nmocap, "4 x mocap bodies"},
			} {
				v, ok := c.nums(k, s.attr)
				if !ok {
					continue
				}
				if len(c.replicates) > 0 && (s.attr == "qpos" || s.attr == "qvel" || s.attr == "ctrl" || s.attr == "act") {
					// MuJoCo 3.3.8 copies a keyframe of a model with a
					// replicate with the first replicate's first copy,
					// and sizes it by what it has read by then: the
					// joints before that replicate and in one copy of
					// it, and every actuator.
					want, have := c.nqAt, c.nq
					switch s.attr {
					case "qvel":
						want, have = c.nvAt, c.nv
					case "ctrl":
						want, have = c.nu, c.nu
					case "act":
						want, have = c.na, c.na
					}
					if len(v) != want {
						c.m.errorf(k, "mjcf-keyframe", "keyframe '%s' has invalid %s size, got %d, should be %d: in a model with a <replicate>, MuJoCo 3.3.8 wants exactly the size of what it has read when the first replicate expands (the model has %d)", name, s.attr, len(v), want, have)
					}
					continue
				}
				switch {
				case len(v) > s.want:
					c.m.errorf(k, "mjcf-keyframe", "keyframe '%s': invalid %s size, expected %d (%s), got %d", name, s.attr, s.want, s.what, len(v))
				case len(v) < s.want:
					c.m.warnf(k, "mjcf-keyframe", "keyframe '%s': %s has %d values for %d (%s); MuJoCo fills the rest from the model's defaults", name, s.attr, len(v), s.want, s.what)
				}
			}
		}
	}
}
