package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/atomicfile"
	"github.com/antimlabs/gizmo/sync/api"
)

// record is one asset as the emulator keeps it.
type record struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Prompt    string    `json:"prompt"`
	Tags      []string  `json:"tags,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Status is the fixed status of a seeded or added asset, or the final
	// status (ready or failed) of a created one or of a seeded one left to
	// settle (Config.SeedSettle), reached at SettleAt.
	Status api.Status `json:"status"`
	// ProcessingAt and SettleAt are zero for a fixed status.
	ProcessingAt time.Time `json:"processing_at,omitzero"`
	SettleAt     time.Time `json:"settle_at,omitzero"`

	// Extra lists formats the asset offers beyond the documented ones
	// (gazebo_sdf, say): a format a client may not know.
	Extra []formats.Format `json:"extra_formats,omitempty"`

	// enc caches the JSON the API shows; addLocked sets it. A record never
	// changes once added, so copies of it may share the cache.
	enc *assetJSON
}

// assetJSON holds a record's JSON as GET /assets/{id} ([1]) and the list
// ([0]) show it, each for the status it was encoded with: the status moves
// on with the clock, and a JSON of another status is encoded afresh.
type assetJSON [2]atomic.Pointer[encodedAsset]

type encodedAsset struct {
	status api.Status
	json   []byte
}

// json is json.Marshal of r.asset(now, withFormats) and a newline, cached.
// The caller must not modify it.
func (r *record) json(now time.Time, withFormats bool) ([]byte, error) {
	st := r.status(now)
	var slot *atomic.Pointer[encodedAsset]
	if r.enc != nil {
		slot = &r.enc[0]
		if withFormats {
			slot = &r.enc[1]
		}
		if e := slot.Load(); e != nil && e.status == st {
			return e.json, nil
		}
	}
	b, err := json.Marshal(r.asset(now, withFormats))
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	if slot != nil {
		slot.Store(&encodedAsset{status: st, json: b})
	}
	return b, nil
}

// failReason is the error a failed generation reports.
const failReason = "the generator could not produce a consistent model from this prompt (emulated failure)"

func (r *record) status(now time.Time) api.Status {
	switch {
	case r.SettleAt.IsZero() || !now.Before(r.SettleAt):
		return r.Status
	case !now.Before(r.ProcessingAt):
		return api.StatusProcessing
	}
	return api.StatusPending
}

// asset is the record as the API shows it; withFormats for GET /assets/{id}.
func (r *record) asset(now time.Time, withFormats bool) api.Asset {
	a := api.Asset{
		ID: r.ID, Status: r.status(now), Name: r.Name, Prompt: r.Prompt,
		Tags: append([]string(nil), r.Tags...), CreatedAt: r.CreatedAt,
	}
	if withFormats && a.Status == api.StatusReady {
		a.Formats = append(append([]formats.Format(nil), formats.All...), r.Extra...)
	}
	if a.Status == api.StatusFailed {
		a.Error = failReason
	}
	return a
}

// seedPrompts are the prompts seeded assets cycle over, with their tags.
var seedPrompts = []struct {
	prompt string
	tags   []string
}{
	{"A 6-DOF industrial robotic arm with a parallel jaw gripper", []string{"arm", "industrial"}},
	{"A parallel jaw gripper with two fingers", []string{"gripper", "v2"}},
	{"A four-legged quadruped robot for rough terrain", []string{"quadruped", "legged"}},
	{"A humanoid robot with two arms and two legs", []string{"humanoid"}},
	{"A wheeled mobile base with a differential drive", []string{"mobile", "warehouse"}},
	{"An articulated cabinet with drawers and doors", []string{"fixture", "kitchen"}},
	{"A 4-DOF SCARA-style robotic arm", []string{"arm", "warehouse"}},
	{"A 7-DOF collaborative robot arm", []string{"arm", "cobot"}},
}

// seedEpoch is the created_at of the first seeded asset.
var seedEpoch = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

// seedStatus gives seeded asset i its status as seeded: most ready, one in
// ten pending, one in ten processing, one in twenty failed.
func seedStatus(i int) api.Status {
	switch {
	case i%10 == 3:
		return api.StatusPending
	case i%10 == 6:
		return api.StatusProcessing
	case i%20 == 9:
		return api.StatusFailed
	}
	return api.StatusReady
}

// newIDLocked returns a fresh id: "ast_" and 8 base36 digits from the seeded
// source.
func (s *Server) newIDLocked() string {
	for {
		id := "ast_" + fmt.Sprintf("%08s", strconv.FormatUint(s.idRNG.Uint64N(2821109907456), 36)) // 36^8
		if _, dup := s.byID[id]; !dup {
			return id
		}
	}
}

// seedLocked adds n seeded assets. With Config.SeedSettle, the pending and
// processing ones among them settle SeedSettle after now: ready, or failed
// when seedFails draws it with failRate.
func (s *Server) seedLocked(n int, now time.Time, failRate float64) {
	base := len(s.assets)
	d := s.cfg.SeedSettle
	for k := range n {
		i := base + k
		p := seedPrompts[i%len(seedPrompts)]
		r := &record{
			ID:        s.newIDLocked(),
			Name:      fmt.Sprintf("%s %d", strings.Fields(p.tags[0])[0], i+1),
			Prompt:    p.prompt,
			Tags:      append([]string(nil), p.tags...),
			CreatedAt: seedEpoch.Add(time.Duration(i) * time.Minute),
			Status:    seedStatus(i),
		}
		if st := r.Status; d > 0 && (st == api.StatusPending || st == api.StatusProcessing) {
			r.ProcessingAt, r.SettleAt = now.Add(d/2), now.Add(d)
			if st == api.StatusProcessing {
				r.ProcessingAt = now
			}
			r.Status = api.StatusReady
			if seedFails(s.cfg.Seed, i, failRate) {
				r.Status = api.StatusFailed
			}
		}
		s.addLocked(r)
	}
}

// seedFails draws whether seeded asset i's generation ends failed, with
// probability failRate, from its own source: the outcome depends on the seed
// and the index only, not on the order of requests or the fault injection.
func seedFails(seed int64, i int, failRate float64) bool {
	if failRate <= 0 {
		return false
	}
	return mrand.New(mrand.NewPCG(uint64(seed), uint64(i)^0xda942042e4dd58b5)).Float64() < failRate
}

func (s *Server) addLocked(r *record) {
	r.enc = new(assetJSON)
	s.assets = append(s.assets, r)
	s.byID[r.ID] = r
}

// Seed adds n seeded assets, as New does at start-up; with
// Config.SeedSettle their pending and processing ones settle counted from
// now, failed for the current FailRate share of them.
func (s *Server) Seed(n int) error {
	now, failRate := s.now(), s.Faults().FailRate
	s.mu.Lock()
	s.seedLocked(n, now, failRate)
	s.mu.Unlock()
	return s.save()
}

// AddAsset adds an asset with a fixed status, created now. The status may
// be one the API does not document (archived, say), as a newer server
// could send; extra formats are offered besides the documented ones once
// the asset is ready, and exported as an opaque file.
func (s *Server) AddAsset(prompt, name string, tags []string, status api.Status, extra ...formats.Format) (api.Asset, error) {
	if strings.TrimSpace(prompt) == "" {
		return api.Asset{}, errors.New("emulator: empty prompt")
	}
	if status == "" {
		return api.Asset{}, errors.New("emulator: empty status")
	}
	for _, f := range extra {
		if f.Known() || !validExtra(string(f)) {
			return api.Asset{}, fmt.Errorf("emulator: extra format %q: want an undocumented name of lower-case letters, digits and underscores", f)
		}
	}
	now := s.now()
	s.mu.Lock()
	r := &record{
		ID: s.newIDLocked(), Name: defaultName(name, prompt), Prompt: prompt,
		Tags: append([]string(nil), tags...), CreatedAt: now.UTC().Truncate(time.Second), Status: status,
		Extra: append([]formats.Format(nil), extra...),
	}
	s.addLocked(r)
	a := r.asset(now, true)
	s.mu.Unlock()
	return a, s.save()
}

// Delete removes an asset; it reports whether there was one.
func (s *Server) Delete(id string) bool {
	s.mu.Lock()
	_, ok := s.byID[id]
	if ok {
		delete(s.byID, id)
		for i, r := range s.assets {
			if r.ID == id {
				s.assets = append(s.assets[:i], s.assets[i+1:]...)
				break
			}
		}
	}
	s.mu.Unlock()
	if ok {
		s.cache.dropAsset(id)
		_ = s.save()
	}
	return ok
}

// create makes an asset the way POST /assets does.
func (s *Server) create(prompt, name string, tags []string) (api.Asset, error) {
	now := s.now()
	final := api.StatusReady
	if s.chance(s.Faults().FailRate) {
		final = api.StatusFailed
	}
	s.mu.Lock()
	r := &record{
		ID: s.newIDLocked(), Name: defaultName(name, prompt), Prompt: prompt,
		Tags: tags, CreatedAt: now.UTC().Truncate(time.Second), Status: final,
	}
	if d := s.cfg.GenDelay; d > 0 {
		r.ProcessingAt, r.SettleAt = now.Add(d/2), now.Add(d)
	}
	s.addLocked(r)
	a := r.asset(now, false)
	s.mu.Unlock()
	return a, s.save()
}

// defaultName is name, or the prompt cut to 48 characters.
func defaultName(name, prompt string) string {
	if n := strings.TrimSpace(name); n != "" {
		return n
	}
	p := strings.Join(strings.Fields(prompt), " ")
	if utf8.RuneCountInString(p) > 48 {
		p = strings.TrimSpace(string([]rune(p)[:47])) + "…"
	}
	return p
}

// page returns the records of assets [offset, offset+limit) and the total.
func (s *Server) page(limit, offset int) ([]*record, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := len(s.assets)
	if offset >= total {
		return nil, total
	}
	// A copy: Delete shifts s.assets in place.
	return append([]*record(nil), s.assets[offset:min(total, offset+limit)]...), total
}

// persisted is the shape of StateDir/state.json.
type persisted struct {
	Version int       `json:"version"`
	Secret  []byte    `json:"secret"`
	Assets  []*record `json:"assets"`
	// Current holds the current generation's scenes and jobs (absent from
	// a state only an alpha server wrote).
	Current *savedCurrent `json:"current,omitempty"`
}

const stateFile = "state.json"

// load reads StateDir/state.json; false when there is none yet.
func (s *Server) load() (bool, error) {
	p := filepath.Join(s.cfg.StateDir, stateFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("emulator: read state: %w", err)
	}
	var st persisted
	if err := json.Unmarshal(b, &st); err != nil {
		return false, fmt.Errorf("emulator: state file %s is corrupt (%v): remove it to start afresh", p, err)
	}
	if st.Version != 1 {
		return false, fmt.Errorf("emulator: state file %s has version %d, want 1: remove it to start afresh", p, st.Version)
	}
	s.secret = st.Secret
	s.savedCur = st.Current
	for _, r := range st.Assets {
		if r != nil && r.ID != "" && s.byID[r.ID] == nil {
			s.addLocked(r)
		}
	}
	// Ids minted after a restart must not repeat the seeded sequence.
	for range len(s.assets) {
		s.idRNG.Uint64()
	}
	return true, nil
}

// save writes the state when StateDir is set: a temporary file renamed over
// state.json, so a crash never leaves half a state.
func (s *Server) save() error {
	if s.cfg.StateDir == "" {
		return nil
	}
	// Saves go one at a time, each taking its snapshot once it holds the
	// turn, so the last rename always carries the latest state.
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	// The current generation's part first, under its own lock (never
	// held together with s.mu); an alpha server keeps what it loaded.
	cur := s.savedCur
	if s.cur != nil {
		cur = s.cur.snapshot()
	}
	s.mu.Lock()
	st := persisted{Version: 1, Secret: s.secret, Assets: s.assets, Current: cur}
	b, err := json.MarshalIndent(st, "", "  ")
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// 0600: the state holds the download signing secret.
	if err := atomicfile.WriteFile(filepath.Join(s.cfg.StateDir, stateFile), b, 0o600); err != nil {
		return fmt.Errorf("emulator: save state: %w", err)
	}
	return nil
}
