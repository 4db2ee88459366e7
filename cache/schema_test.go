package cache

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// oldIndex writes an index at schema version v (applying migrations up to
// v only), then lets fill add records in that version's layout.
func oldIndex(t *testing.T, v uint64, fill func(tx *bolt.Tx) error) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	os.MkdirAll(dir, 0o755)
	db, err := bolt.Open(filepath.Join(dir, dbName), 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := migrateTx(tx, v, "test"); err != nil {
			return err
		}
		if fill != nil {
			return fill(tx)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return dir
}

func TestMigrationsAreOrdered(t *testing.T) {
	for i, m := range migrations {
		if m.to != uint64(i+1) {
			t.Errorf("migration %d goes to %d, want %d", i, m.to, i+1)
		}
	}
}

// Migration 1: an empty index gets its buckets and schema 1.
func TestMigration1(t *testing.T) {
	dir := oldIndex(t, 1, nil)
	db, _ := bolt.Open(filepath.Join(dir, dbName), 0o644, &bolt.Options{ReadOnly: true})
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if v := readSchema(tx); v != 1 {
			t.Errorf("schema = %d", v)
		}
		for _, b := range [][]byte{bucketMeta, bucketAssets, bucketEntries, bucketURLs} {
			if tx.Bucket(b) == nil {
				t.Errorf("bucket %s missing", b)
			}
		}
		if tx.Bucket(bucketNames) != nil {
			t.Error("names bucket belongs to schema 2")
		}
		return nil
	})
}

// Migration 2: the names index is built from the assets already recorded.
func TestMigration2(t *testing.T) {
	dir := oldIndex(t, 1, func(tx *bolt.Tx) error {
		for _, a := range []AssetMeta{{ID: "ast_1", Name: "arm"}, {ID: "ast_2", Name: "arm"}, {ID: "ast_3", Name: "gripper"}} {
			v, _ := json.Marshal(a)
			if err := tx.Bucket(bucketAssets).Put([]byte(a.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, c)
	in, _ := c.Info()
	if in.SchemaVersion != 2 {
		t.Errorf("schema after open = %d", in.SchemaVersion)
	}
	if a, err := c.Asset("gripper"); err != nil || a.ID != "ast_3" {
		t.Errorf("by name after migration: %+v %v", a, err)
	}
	if _, err := c.Asset("arm"); err == nil || !strings.Contains(err.Error(), "ast_1, ast_2") {
		t.Errorf("ambiguous name after migration: %v", err)
	}
}

func TestSchemaTooNewIsRefusedUntouched(t *testing.T) {
	dir := oldIndex(t, SchemaVersion, func(tx *bolt.Tx) error {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], SchemaVersion+1)
		return tx.Bucket(bucketMeta).Put(keySchema, b[:])
	})
	before, _ := os.ReadFile(filepath.Join(dir, dbName))
	_, err := Open(dir)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "upgrade gizmo") {
		t.Fatalf("err = %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, dbName))
	if string(before) != string(after) {
		t.Error("a too-new index was rewritten")
	}
}

// An index file whose creation was cut short (empty) is initialised, not
// refused.
func TestOpenEmptyIndexFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, dbName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if in, err := c.Info(); err != nil || in.SchemaVersion != SchemaVersion {
		t.Fatalf("info = %+v, %v", in, err)
	}
}

// Many Opens of a fresh directory at once (several commands starting
// together) all succeed and agree on one index.
func TestConcurrentOpenOfFreshDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			c, err := Open(dir)
			if err == nil {
				err = c.RecordAssets([]AssetMeta{{ID: "ast_" + strings.Repeat("x", i+1)}}, false)
			}
			errs <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, c)
	if as, err := c.Assets(); err != nil || len(as) != 8 {
		t.Errorf("assets = %d, %v", len(as), err)
	}
}
