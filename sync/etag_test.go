package sync

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestETagMatches(t *testing.T) {
	body := []byte("<mujoco model=\"m\"/>")
	s := sha256.Sum256(body)
	m := md5.Sum(body)
	sha, md := hex.EncodeToString(s[:]), hex.EncodeToString(m[:])
	other := sha256.Sum256([]byte("something else"))
	for _, tc := range []struct {
		etag string
		want bool
	}{
		{`"` + sha[:32] + `"`, true}, // the emulator's: a SHA-256 prefix
		{`"` + sha + `"`, true},      // a whole SHA-256
		{`"` + md + `"`, true},       // an object store's MD5
		{`"` + hex.EncodeToString(other[:16]) + `"`, false},
		{`"` + hex.EncodeToString(other[:]) + `"`, false},
		{`W/"` + hex.EncodeToString(other[:16]) + `"`, true}, // weak: no checksum
		{`"abc123-4"`, true},                                 // multipart: opaque
		{`"0123abcd"`, true},                                 // too short to be a checksum
		{`"xyz"`, true},                                      // opaque
		{``, true},                                           // none
		{`"` + sha[:31] + `"`, true},                         // odd length: not hex bytes
	} {
		if got := etagMatches(tc.etag, sha, md); got != tc.want {
			t.Errorf("etagMatches(%s) = %v, want %v", tc.etag, got, tc.want)
		}
	}
}
