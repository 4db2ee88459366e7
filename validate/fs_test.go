package validate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOptionsReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		limit   int64
		want    string
		wantErr error
	}{
		{"under the limit", p, 10, "12345", nil},
		{"at the limit", p, 5, "12345", nil},
		{"over the limit", p, 4, "", ErrTooLarge},
		{"missing", filepath.Join(dir, "nope"), 10, "", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Options{}.ReadFile(tt.path, tt.limit)
			if !errors.Is(err, tt.wantErr) || string(got) != tt.want {
				t.Errorf("ReadFile = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if !(Options{}).IsFile(p) || (Options{}).IsFile(dir) {
		t.Error("IsFile: want true for a file, false for a folder")
	}
}
