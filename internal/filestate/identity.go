// Package filestate decides cheaply whether a local file still holds the
// bytes it held when it was last hashed: a stat when nothing moved, a fast
// content fingerprint when only the file's identity changed (a fresh
// checkout, a touch), and MD5 only for content that is really new.
package filestate

import (
	"os"
	"time"
)

// Identity is what stat tells about a file. Any write moves the change
// time, even when the size is kept and the modification time put back.
type Identity struct {
	Device  uint64 `json:"dev"`
	Inode   uint64 `json:"ino"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	CtimeNs int64  `json:"ctime_ns"`
}

// Stat returns the identity of path and its file info.
func Stat(path string) (Identity, os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Identity{}, nil, err
	}
	return identityOf(fi), fi, nil
}

// racyWindow is how close to the last change a hash may be taken and
// still be trusted later: a file written within the same timestamp tick
// as the hash could change again without its times moving (git's "racily
// clean" entries). One second covers filesystems with coarse times.
const racyWindow = time.Second

// Record is what hashing a file learnt, with the identity it had.
type Record struct {
	Identity
	MD5         string `json:"md5,omitempty"`
	Fingerprint string `json:"fingerprint"`
	HashedAtNs  int64  `json:"hashed_at_ns"`
}

// Matches reports whether the file, now at id, provably holds the bytes
// this record hashed without reading it: same identity, and hashed long
// enough after its last change that a later write would have moved the
// times.
func (r Record) Matches(id Identity) bool {
	if r.Fingerprint == "" || r.Inode == 0 || r.Identity != id {
		return false
	}
	last := max(id.MtimeNs, id.CtimeNs)
	return r.HashedAtNs-last > int64(racyWindow)
}

// ContentOnly keeps what the record says of the content (size, MD5 and
// fingerprint) and drops the stat identity, which then matches nothing:
// the content is known, but not that the file at its path still holds it.
// A later plan confirms it with a fingerprint pass instead of a stat.
func (r Record) ContentOnly() Record {
	return Record{Identity: Identity{Size: r.Size}, MD5: r.MD5, Fingerprint: r.Fingerprint}
}
