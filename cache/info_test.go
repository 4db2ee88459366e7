package cache

import (
	"testing"
)

func TestInfo(t *testing.T) {
	c := openTest(t)
	es := storeSome(t, c)
	c.RecordAssets([]AssetMeta{{ID: "ast_1"}, {ID: "ast_2"}, {ID: "ast_3", Vanished: true}}, false)
	c.RecordAssets([]AssetMeta{{ID: "ast_1"}, {ID: "ast_2"}}, true)
	in, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, e := range es {
		sum += e.Size
	}
	// Trees are made on first use: none yet.
	if in.Assets != 3 || in.Vanished != 1 || in.Entries != 3 || in.Blobs != 3 || in.Trees != 0 || in.TempFiles != 0 ||
		in.DownloadBytes != sum || in.DiskBytes < sum {
		t.Errorf("info = %+v (downloads %d)", in, sum)
	}
	unpack(t, c, es[0])
	in2, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	// The zip's tree: robot.urdf and meshes/base.stl.
	grown := int64(len(urdfDoc) + len("solid base"))
	if in2.Trees != 1 || in2.Blobs != 3 || in2.Entries != 3 || in2.DownloadBytes != sum || in2.DiskBytes-in.DiskBytes != grown {
		t.Errorf("info after one unpack = %+v, before %+v (tree of %d bytes)", in2, in, grown)
	}
}
