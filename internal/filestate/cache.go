package filestate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Cache remembers, per absolute path, the recent hashes of a file and the
// plans made from them. It lives outside Terraform's plan because the
// final plan Terraform makes during apply receives only configuration and
// prior state: this is how it learns what the first plan saw. Every entry
// is a hint checked against the file's identity; a miss means hashing.
type Cache struct {
	dir string
	// mu serializes this process's read-modify-write of a path's entry:
	// Terraform plans resources concurrently, and two of them on one file
	// would otherwise save over each other's pending plans.
	mu sync.Mutex
}

// keep is how many records per path are kept: enough for the content a
// branch switch moves back and forth between.
const keep = 4

// pendingTTL bounds how long a plan that was never applied is remembered.
const pendingTTL = 24 * time.Hour

// Pending is a plan that chose to change a resource (to upload its
// content, or only to record a moved source), waiting for its apply.
type Pending struct {
	MD5    string `json:"md5"`
	AtUnix int64  `json:"at"`
	// Origin identifies the process that planned (the caller's choice).
	Origin int `json:"origin"`
}

// Passed is a content that passed a content check under a set of rules.
type Passed struct {
	// Rules names the check and everything its verdict depends on besides
	// the bytes (the caller's choice).
	Rules       string `json:"rules"`
	MD5         string `json:"md5"`
	Fingerprint string `json:"fingerprint"`
	AtUnix      int64  `json:"at"`
	// Entries is how many entries the check counted; absent when it
	// counts none.
	Entries *int64 `json:"entries,omitempty"`
	// Warnings are what the check reported without failing, so a plan
	// that trusts the verdict still shows them.
	Warnings []Note `json:"warnings,omitempty"`
}

// Verdict is what a passed check found besides passing.
type Verdict struct {
	Entries  int64 // -1 when the check counts none
	Warnings []Note
}

// Note is one warning of a check.
type Note struct {
	Summary string `json:"summary"`
	Detail  string `json:"detail"`
}

// keepPassed bounds the passed checks kept per path: a few resources of
// different platforms on one file, each with a content or two.
const keepPassed = 8

type pathState struct {
	Path    string             `json:"path"`
	Records []Record           `json:"records"`
	Pending map[string]Pending `json:"pending,omitempty"`
	Passed  []Passed           `json:"passed,omitempty"`
}

// OpenCache uses the first of dirs that can be created. A cache with none
// is disabled, never an error: it only saves reads and notices edits
// between plan and apply.
func OpenCache(dirs ...string) *Cache {
	for _, dir := range dirs {
		if dir != "" && os.MkdirAll(dir, 0o700) == nil {
			return &Cache{dir: dir}
		}
	}
	return &Cache{}
}

// DefaultDirs are the user's cache directory, then the working directory's
// .terraform (for CI runners without a writable home).
func DefaultDirs() []string {
	var dirs []string
	if base, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(base, "terraform-provider-audience", "sources"))
	}
	return append(dirs, filepath.Join(".terraform", "audience-sources"))
}

func (c *Cache) file(abs string) string {
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:16])+".json")
}

func (c *Cache) load(abs string) pathState {
	st := pathState{Path: abs}
	if c == nil || c.dir == "" {
		return st
	}
	f, err := os.Open(c.file(abs))
	if err != nil {
		return st
	}
	defer f.Close()
	var got pathState
	if json.NewDecoder(f).Decode(&got) == nil && got.Path == abs {
		return got
	}
	return st
}

// save writes atomically, so concurrent plans never read half a file.
func (c *Cache) save(st pathState) {
	if c == nil || c.dir == "" {
		return
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return
	}
	err = json.NewEncoder(tmp).Encode(st)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.file(st.Path))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
}

// Lookup returns a record that matches the file at abs, now at id.
func (c *Cache) Lookup(abs string, id Identity) (Record, bool) {
	for _, r := range c.load(abs).Records {
		if r.Matches(id) {
			return r, true
		}
	}
	return Record{}, false
}

// LookupExact returns a record of abs taken at exactly identity id, even
// one too close to the file's last change to prove the content unchanged.
// Only a caller that verifies the bytes later (an upload that hashes what
// it sends) may use it.
func (c *Cache) LookupExact(abs string, id Identity) (Record, bool) {
	for _, r := range c.load(abs).Records {
		if r.Fingerprint != "" && r.Inode != 0 && r.Identity == id {
			return r, true
		}
	}
	return Record{}, false
}

// Remember stores a record for abs, newest first. A record of the same
// identity is replaced, keeping its MD5 when the new one has none.
func (c *Cache) Remember(abs string, rec Record) {
	c.update(abs, func(st *pathState) bool {
		for _, r := range st.Records {
			if r.Identity == rec.Identity && r.Fingerprint == rec.Fingerprint && rec.MD5 == "" {
				rec.MD5 = r.MD5
			}
		}
		st.Records = slices.DeleteFunc(st.Records, func(r Record) bool { return r.Identity == rec.Identity })
		st.Records = append([]Record{rec}, st.Records...)
		if len(st.Records) > keep {
			st.Records = st.Records[:keep]
		}
		return true
	})
}

// LookupContent returns the newest record of abs whose content has this
// MD5 and a fingerprint, preferring one taken at identity id.
func (c *Cache) LookupContent(abs, md5 string, id Identity) (Record, bool) {
	var found Record
	ok := false
	for _, r := range c.load(abs).Records {
		if r.MD5 != md5 || r.Fingerprint == "" {
			continue
		}
		if r.Identity == id {
			return r, true
		}
		if !ok {
			found, ok = r, true
		}
	}
	return found, ok
}

// FindMD5 returns the MD5 of a recorded content with this fingerprint.
func (c *Cache) FindMD5(abs, fingerprint string) (string, bool) {
	for _, r := range c.load(abs).Records {
		if r.Fingerprint == fingerprint && r.MD5 != "" {
			return r.MD5, true
		}
	}
	return "", false
}

// Plan records that a plan for key, made by origin, chose to upload abs
// with md5.
func (c *Cache) Plan(abs, key, md5 string, origin int) {
	c.update(abs, func(st *pathState) bool {
		if st.Pending == nil {
			st.Pending = map[string]Pending{}
		}
		now := time.Now()
		for k, p := range st.Pending {
			if now.Sub(time.Unix(p.AtUnix, 0)) > pendingTTL {
				delete(st.Pending, k)
			}
		}
		st.Pending[key] = Pending{MD5: md5, AtUnix: now.Unix(), Origin: origin}
		return true
	})
}

// Planned returns what the last plan for key chose to upload.
func (c *Cache) Planned(abs, key string) (Pending, bool) {
	p, ok := c.load(abs).Pending[key]
	if !ok || time.Since(time.Unix(p.AtUnix, 0)) > pendingTTL {
		return Pending{}, false
	}
	return p, true
}

// RecordPassed records that the content rec describes passed the check
// named rules, with what it found. Only a passed check is recorded: a
// failed one runs again.
func (c *Cache) RecordPassed(abs, rules string, rec Record, v Verdict) {
	if rec.MD5 == "" || rec.Fingerprint == "" {
		return
	}
	p := Passed{Rules: rules, MD5: rec.MD5, Fingerprint: rec.Fingerprint, Warnings: v.Warnings}
	if v.Entries >= 0 {
		n := v.Entries
		p.Entries = &n
	}
	c.update(abs, func(st *pathState) bool {
		now := time.Now()
		p.AtUnix = now.Unix()
		st.Passed = slices.DeleteFunc(st.Passed, func(old Passed) bool {
			return old.Rules == rules && old.MD5 == rec.MD5 && old.Fingerprint == rec.Fingerprint || now.Sub(time.Unix(old.AtUnix, 0)) > pendingTTL
		})
		st.Passed = append([]Passed{p}, st.Passed...)
		if len(st.Passed) > keepPassed {
			st.Passed = st.Passed[:keepPassed]
		}
		return true
	})
}

// HasPassed reports whether the content rec describes, both its MD5 and
// its fingerprint, passed the check named rules within the last day. A
// check passed under other rules (another platform's, another name) does
// not count.
func (c *Cache) HasPassed(abs, rules string, rec Record) bool {
	_, ok := c.PassedVerdict(abs, rules, rec)
	return ok
}

// PassedVerdict is HasPassed with what the passed check found.
func (c *Cache) PassedVerdict(abs, rules string, rec Record) (Verdict, bool) {
	if rec.MD5 == "" || rec.Fingerprint == "" {
		return Verdict{}, false
	}
	for _, p := range c.load(abs).Passed {
		if p.Rules == rules && p.MD5 == rec.MD5 && p.Fingerprint == rec.Fingerprint && time.Since(time.Unix(p.AtUnix, 0)) <= pendingTTL {
			v := Verdict{Entries: -1, Warnings: p.Warnings}
			if p.Entries != nil {
				v.Entries = *p.Entries
			}
			return v, true
		}
	}
	return Verdict{}, false
}

// Applied forgets the pending plan for key.
func (c *Cache) Applied(abs, key string) {
	c.update(abs, func(st *pathState) bool {
		if _, ok := st.Pending[key]; !ok {
			return false
		}
		delete(st.Pending, key)
		return true
	})
}

// update changes the entry of abs and saves it when change says so.
func (c *Cache) update(abs string, change func(st *pathState) bool) {
	if c == nil || c.dir == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.load(abs)
	if change(&st) {
		c.save(st)
	}
}

// IsNotExist reports whether err means the file is missing.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
