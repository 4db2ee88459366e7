package cache

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// A download cut short keeps its temp file, tmp/<k>-*.part, when the
// fetcher told the cache the download's validator (its ETag: SetValidator),
// beside a sidecar tmp/<k>-*.part.resume that records it. The next store of
// the same key, in this process or another after a crash or kill, adopts
// the part: it hashes what the part holds, and the fetcher asks the server
// only for the rest (Range, with If-Range: the validator), or starts over
// when the object changed. Kept parts are left alone by the sweeps of stale
// temp files for resumeKeep after their last write, then removed like any
// other.

// resumeSuffix names a kept part's sidecar.
const resumeSuffix = ".resume"

// resumeKeep is how long a kept part waits for its store to come back.
const resumeKeep = 24 * time.Hour

// resumeRecord is what a sidecar holds.
type resumeRecord struct {
	ETag   string `json:"etag"`
	Size   int64  `json:"size,omitempty"` // the whole download's length, when known
	ID     string `json:"id"`
	Format string `json:"format"`
}

// keptForResume reports whether the temp path p is a part kept for
// resuming (or its sidecar), written to within resumeKeep.
func (c *Cache) keptForResume(p string) bool {
	part := strings.TrimSuffix(p, resumeSuffix)
	if !strings.HasSuffix(part, ".part") {
		return false
	}
	if _, err := os.Stat(part + resumeSuffix); err != nil {
		return false
	}
	st, err := os.Stat(part)
	return err == nil && c.now().Sub(st.ModTime()) < resumeKeep
}

// adoptPart opens the newest part of key kh kept for resuming (id, format),
// with the writer state of what it holds; nil when there is none. Other
// parts of the key go. Callers hold the key's lock.
func (c *Cache) adoptPart(tmp, kh, id, format string) (*storeWriter, error) {
	sidecars, _ := filepath.Glob(filepath.Join(tmp, kh+"-*.part"+resumeSuffix))
	type cand struct {
		part string
		rec  resumeRecord
		mod  time.Time
	}
	var cands []cand
	for _, sc := range sidecars {
		part := strings.TrimSuffix(sc, resumeSuffix)
		data, err := os.ReadFile(sc)
		var rec resumeRecord
		st, serr := os.Stat(part)
		if err != nil || serr != nil || json.Unmarshal(data, &rec) != nil || rec.ETag == "" || rec.ID != id || rec.Format != format ||
			c.now().Sub(st.ModTime()) >= resumeKeep {
			os.Remove(part)
			os.Remove(sc)
			continue
		}
		cands = append(cands, cand{part, rec, st.ModTime()})
	}
	if len(cands) == 0 {
		return nil, nil
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].mod.After(cands[j].mod) })
	for _, old := range cands[1:] {
		os.Remove(old.part)
		os.Remove(old.part + resumeSuffix)
	}
	best := cands[0]
	f, err := os.OpenFile(best.part, os.O_RDWR, 0)
	if err != nil {
		os.Remove(best.part)
		os.Remove(best.part + resumeSuffix)
		return nil, nil
	}
	sw := &storeWriter{f: f, h: sha256.New(), validator: best.rec.ETag, validatorSize: best.rec.Size, sidecar: best.part + resumeSuffix, heldMD5: md5.New()}
	// Hash what the part holds, as if it were being written now.
	if _, err := io.Copy(&adoptWriter{sw}, f); err != nil {
		f.Close()
		return nil, fmt.Errorf("read the kept part %s: %w", best.part, err)
	}
	if sw.err != nil {
		f.Close()
		return nil, sw.err
	}
	sw.resumeFrom = sw.n
	return sw, nil
}

// adoptWriter feeds a part's bytes to the writer's hashes and counters
// without writing them again.
type adoptWriter struct{ w *storeWriter }

func (a *adoptWriter) Write(p []byte) (int, error) {
	w := a.w
	w.h.Write(p)
	w.heldMD5.Write(p)
	if room := headSize - len(w.head); room > 0 {
		w.head = append(w.head, p[:min(room, len(p))]...)
	}
	if !w.memOff {
		if len(w.mem)+len(p) <= smallZip {
			w.mem = append(w.mem, p...)
		} else {
			w.mem, w.memOff = nil, true
		}
	}
	w.n += int64(len(p))
	return len(p), nil
}

// Resume tells the fetcher what an adopted part holds: its length, its
// validator and the MD5 of its bytes (for ETags that are MD5 sums). Zero
// for a download that starts from nothing.
func (w *storeWriter) Resume() (offset int64, etag string, total int64, held hash.Hash) {
	if w.resumeFrom == 0 || w.n != w.resumeFrom {
		return 0, "", 0, nil
	}
	return w.resumeFrom, w.validator, w.validatorSize, w.heldMD5
}

// SetValidator records the download's validator (its ETag) beside the temp
// file, so that a download cut short, or a process killed meanwhile, can
// resume from what the part holds; "" forgets it (the bytes are not to be
// resumed, e.g. they failed a checksum).
func (w *storeWriter) SetValidator(etag string, total int64) error {
	if w.sidecar == "" || (etag == w.validator && total == w.validatorSize) {
		return nil
	}
	w.validator, w.validatorSize = etag, total
	if etag == "" {
		if err := os.Remove(w.sidecar); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	data, err := json.Marshal(resumeRecord{ETag: etag, Size: max(total, 0), ID: w.id, Format: w.format})
	if err != nil {
		return err
	}
	return os.WriteFile(w.sidecar, data, 0o644)
}
