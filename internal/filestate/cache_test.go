package filestate

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRecordMatchesOnlyTrustedIdentity(t *testing.T) {
	p, _ := writeTemp(t, 100)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	id, _, err := Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Identity: id, Fingerprint: "sha256:x", MD5: "m", HashedAtNs: id.CtimeNs + int64(2*time.Second)}
	if !rec.Matches(id) {
		t.Fatal("a record taken well after the last change must match")
	}
	racy := rec
	racy.HashedAtNs = max(id.MtimeNs, id.CtimeNs) + int64(racyWindow/2)
	if racy.Matches(id) {
		t.Fatal("a record taken within the racy window must not match")
	}
	moved := id
	moved.CtimeNs++
	if rec.Matches(moved) {
		t.Fatal("a moved change time must not match (content edited, mtime put back)")
	}
	if (Record{Identity: id, HashedAtNs: rec.HashedAtNs}).Matches(id) {
		t.Fatal("a record without a fingerprint must not match")
	}
}

func TestCacheRemembersAndTracksPendingPlans(t *testing.T) {
	fallback := t.TempDir()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := OpenCache(filepath.Join(file, "sub"), fallback)
	if c.dir != fallback {
		t.Fatalf("cache in %q, want the fallback %q", c.dir, fallback)
	}
	abs := "/work/audiences/devices.txt"
	id := Identity{Device: 1, Inode: 2, Size: 3, MtimeNs: 4, CtimeNs: 5}
	rec := Record{Identity: id, Fingerprint: "sha256:a", MD5: "md5a", HashedAtNs: 5 + int64(2*time.Second)}
	c.Remember(abs, rec)
	if got, ok := c.Lookup(abs, id); !ok || got.MD5 != "md5a" {
		t.Fatalf("Lookup = %+v, %v", got, ok)
	}
	if _, ok := c.Lookup("/elsewhere/devices.txt", id); ok {
		t.Fatal("another path must miss")
	}
	// A fingerprint-only record of the same identity keeps the known MD5.
	c.Remember(abs, Record{Identity: id, Fingerprint: "sha256:a", HashedAtNs: rec.HashedAtNs})
	if md5, ok := c.FindMD5(abs, "sha256:a"); !ok || md5 != "md5a" {
		t.Fatalf("FindMD5 = %q, %v", md5, ok)
	}
	for i := range keep + 2 {
		c.Remember(abs, Record{Identity: Identity{Inode: uint64(100 + i)}, Fingerprint: "sha256:b", MD5: "md5b"})
	}
	if _, ok := c.FindMD5(abs, "sha256:a"); ok {
		t.Fatalf("only the %d newest records are kept", keep)
	}

	c.Plan(abs, "new\x00devices.txt", "md5a", 42)
	if p, ok := c.Planned(abs, "new\x00devices.txt"); !ok || p.MD5 != "md5a" || p.Origin != 42 {
		t.Fatalf("Planned = %+v, %v", p, ok)
	}
	c.Applied(abs, "new\x00devices.txt")
	if _, ok := c.Planned(abs, "new\x00devices.txt"); ok {
		t.Fatal("an applied plan must be forgotten")
	}
}

func TestCacheWithoutDirectoryIsDisabled(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := OpenCache(filepath.Join(file, "sub"), "")
	c.Remember("/a", Record{Fingerprint: "x"})
	if _, ok := c.FindMD5("/a", "x"); ok {
		t.Fatal("a disabled cache remembers nothing")
	}
}
