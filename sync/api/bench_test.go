package api_test

import (
	"context"
	"io"
	"testing"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/sync/api"
	"github.com/antimlabs/gizmo/sync/emulator"
	"github.com/antimlabs/gizmo/sync/emulator/emulatortest"
)

func benchClient(b *testing.B, cfg emulator.Config) (*emulator.Server, *api.Client) {
	b.Helper()
	srv, u := emulatortest.StartTest(b, cfg)
	c, err := api.New(api.Options{BaseURL: u, APIKey: emulator.DefaultAPIKey})
	if err != nil {
		b.Fatal(err)
	}
	return srv, c
}

// BenchmarkExportDownload is one export call and one download through the
// client, from a warm emulator cache.
func BenchmarkExportDownload(b *testing.B) {
	srv, c := benchClient(b, emulator.Config{Seed: 1})
	a, _ := srv.AddAsset("A 6-DOF industrial robotic arm with a parallel jaw gripper", "", nil, api.StatusReady)
	ctx := context.Background()
	for b.Loop() {
		e, err := c.Export(ctx, a.ID, formats.IsaacURDF)
		if err != nil {
			b.Fatal(err)
		}
		d, err := c.Download(ctx, e.URL, io.Discard, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(d.Size)
	}
}
