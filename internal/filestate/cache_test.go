package filestate

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
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

// A passed check counts only for the same rules and the same content, by
// MD5 and fingerprint both.
func TestCacheRecordsPassedChecksByRulesAndContent(t *testing.T) {
	c := OpenCache(t.TempDir())
	abs := "/work/exports/crm.csv"
	rec := Record{MD5: "md5a", Fingerprint: "sha256:a"}
	if c.HasPassed(abs, "audience_mintegral_file", rec) {
		t.Fatal("nothing passed yet")
	}
	c.RecordPassed(abs, "audience_futuredemand_upload", rec, Verdict{Entries: -1})
	if c.HasPassed(abs, "audience_mintegral_file", rec) {
		t.Fatal("a check passed under other rules must not count")
	}
	if !c.HasPassed(abs, "audience_futuredemand_upload", rec) {
		t.Fatal("the same rules on the same content must count")
	}
	for _, other := range []Record{{MD5: "md5a", Fingerprint: "sha256:b"}, {MD5: "md5b", Fingerprint: "sha256:a"}, {MD5: "md5a"}} {
		if c.HasPassed(abs, "audience_futuredemand_upload", other) {
			t.Fatalf("other content %+v must not count", other)
		}
	}
	if c.HasPassed("/work/exports/other.csv", "audience_futuredemand_upload", rec) {
		t.Fatal("another path must not count")
	}
	c.RecordPassed(abs, "incomplete", Record{MD5: "md5a"}, Verdict{Entries: -1})
	if c.HasPassed(abs, "incomplete", Record{MD5: "md5a"}) {
		t.Fatal("a record without a fingerprint proves no content")
	}
	for i := range keepPassed {
		c.RecordPassed(abs, fmt.Sprintf("rules %d", i), rec, Verdict{Entries: -1})
	}
	if c.HasPassed(abs, "audience_futuredemand_upload", rec) {
		t.Fatalf("only the %d newest passed checks are kept", keepPassed)
	}

	// A day-old pass counts no more.
	st := c.load(abs)
	st.Passed[0].AtUnix = time.Now().Add(-pendingTTL - time.Minute).Unix()
	c.save(st)
	if c.HasPassed(abs, st.Passed[0].Rules, rec) {
		t.Fatal("a pass older than a day must not count")
	}
}

// The record of an uploaded content is found by MD5, preferring the one
// taken at the file's identity now; without its identity it still holds
// the content but matches no stat.
func TestCacheLookupContentAndContentOnly(t *testing.T) {
	c := OpenCache(t.TempDir())
	abs := "/work/audiences/devices.txt"
	older := Record{Identity: Identity{Inode: 1, Size: 3}, MD5: "md5a", Fingerprint: "sha256:a"}
	newer := Record{Identity: Identity{Inode: 2, Size: 3}, MD5: "md5a", Fingerprint: "sha256:a"}
	c.Remember(abs, older)
	c.Remember(abs, newer)
	c.Remember(abs, Record{Identity: Identity{Inode: 3, Size: 3}, MD5: "md5b", Fingerprint: "sha256:b"})
	if got, ok := c.LookupContent(abs, "md5a", older.Identity); !ok || got.Inode != 1 {
		t.Fatalf("LookupContent at the older identity = %+v, %v", got, ok)
	}
	if got, ok := c.LookupContent(abs, "md5a", Identity{Inode: 9}); !ok || got.Inode != 2 {
		t.Fatalf("LookupContent elsewhere = %+v, %v; want the newest", got, ok)
	}
	if _, ok := c.LookupContent(abs, "md5c", older.Identity); ok {
		t.Fatal("an unknown MD5 must miss")
	}
	content := newer.ContentOnly()
	if content.MD5 != "md5a" || content.Fingerprint != "sha256:a" || content.Size != 3 || content.Inode != 0 || content.HashedAtNs != 0 {
		t.Fatalf("ContentOnly = %+v", content)
	}
	if content.Matches(Identity{Size: 3}) {
		t.Fatal("a content-only record must match no identity")
	}
}

// Terraform plans resources concurrently; resources on one file keep each
// its own pending plan and passed check.
func TestCacheConcurrentUpdatesOfOnePathKeepEveryEntry(t *testing.T) {
	c := OpenCache(t.TempDir())
	abs := "/work/exports/crm.csv"
	rec := Record{MD5: "md5a", Fingerprint: "sha256:a"}
	const n = keepPassed
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c.Plan(abs, fmt.Sprintf("key %d", i), "md5a", i)
			c.RecordPassed(abs, fmt.Sprintf("rules %d", i), rec, Verdict{Entries: -1})
		})
	}
	wg.Wait()
	for i := range n {
		if _, ok := c.Planned(abs, fmt.Sprintf("key %d", i)); !ok {
			t.Errorf("pending plan %d lost", i)
		}
		if !c.HasPassed(abs, fmt.Sprintf("rules %d", i), rec) {
			t.Errorf("passed check %d lost", i)
		}
	}
}
