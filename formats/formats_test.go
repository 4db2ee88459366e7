package formats

import "testing"

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name string
		head string
		want Kind
	}{
		{"zip", "PK\x03\x04rest", KindZip},
		{"empty zip", "PK\x05\x06", KindZip},
		{"usdc", "PXR-USDC\x00\x00", KindUSDC},
		{"usda", "#usda 1.0\n(\n", KindUSDA},
		{"usda after BOM and blank lines", "\xef\xbb\xbf\n\n#usda 1.0", KindUSDA},
		{"urdf", `<?xml version="1.0"?><robot name="r"/>`, KindURDF},
		{"urdf after comment and doctype", "<?xml version=\"1.0\"?>\n<!-- <mujoco> -->\n<!DOCTYPE x>\n<robot>", KindURDF},
		{"mjcf", "<mujoco model=\"m\">", KindMJCF},
		{"mjcf with BOM", "\xef\xbb\xbf<mujoco>", KindMJCF},
		{"namespaced root", `<x:robot xmlns:x="u">`, KindURDF},
		{"sdf", "<sdf version='1.7'>", KindSDF},
		{"other xml", "<svg version='1.1'>", KindUnknown},
		{"text", "hello", KindUnknown},
		{"unterminated comment", "<!-- <robot>", KindUnknown},
		{"empty", "", KindUnknown},
	} {
		if got := Detect([]byte(tc.head)); got != tc.want {
			t.Errorf("%s: Detect(%q) = %q, want %q", tc.name, tc.head, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Format{
		"usd": IsaacUSD, "URDF": IsaacURDF, " mjcf ": MuJoCo, "mujoco": MuJoCo,
		"isaac_sim_usd": IsaacUSD, "isaac_sim_urdf": IsaacURDF, "mujoco_mjcf": MuJoCo,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
		if !got.Known() {
			t.Errorf("%q not Known", got)
		}
	}
	for _, in := range []string{"", "fbx", "usdz", "isaac"} {
		if f, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %q, want an error", in, f)
		}
	}
	if Format("gltf").Known() {
		t.Error("an undocumented format is Known")
	}
	if IsaacURDF.Short() != "urdf" || Format("x").Short() != "x" {
		t.Error("Short names wrong")
	}
}
