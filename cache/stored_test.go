package cache

import (
	"context"
	"errors"
	"os"
	"testing"
)

// TestStored: an entry is stored while it is indexed and its download is in
// place; one never stored, and one whose download is gone, are not (both
// ErrNotCached, so that a caller fetches them again), and storing again
// makes it stored.
func TestStored(t *testing.T) {
	c := openTest(t)
	data := makeZip(t, zfile{"robot.urdf", urdfDoc})
	ctx := context.Background()
	if _, err := c.Stored("ast_1", "isaac_sim_urdf"); !errors.Is(err, ErrNotCached) {
		t.Fatalf("before the store: %v, want ErrNotCached", err)
	}
	e, err := c.Store(ctx, "ast_1", "isaac_sim_urdf", bytesFetch(data, ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Stored("ast_1", "isaac_sim_urdf")
	if err != nil || got.Hash != e.Hash {
		t.Fatalf("after the store: %+v %v", got, err)
	}
	if err := os.Remove(c.DownloadPath(e)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stored("ast_1", "isaac_sim_urdf"); !errors.Is(err, ErrNotCached) {
		t.Fatalf("download gone: %v, want ErrNotCached", err)
	}
	if _, err := c.Entry("ast_1", "isaac_sim_urdf"); err != nil {
		t.Fatalf("the index still has it (Entry is the index's answer): %v", err)
	}
	if _, err := c.Store(ctx, "ast_1", "isaac_sim_urdf", bytesFetch(data, "")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stored("ast_1", "isaac_sim_urdf"); err != nil {
		t.Fatalf("stored again: %v", err)
	}
}
