package filestate

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"time"
)

// The fingerprint is SHA-256: with the CPU's SHA extensions (which Go's
// crypto/sha256 uses on amd64 and arm64) it runs at about three times
// MD5's speed, so deciding "unchanged" after a fresh checkout costs a
// fraction of hashing for the platform (see BenchmarkHash).
const fingerprintPrefix = "sha256:"

// chunk is the read size; a few chunks in flight keep memory flat.
const chunk = 1 << 20

// Sums is what one pass over a file learnt.
type Sums struct {
	Fingerprint string
	MD5         string // empty unless asked for
	Size        int64
}

// Hash reads path once and returns its fingerprint, and its MD5 when
// withMD5 is set. The two hashes run side by side on the same buffers, so
// asking for both costs the slower of the two, not their sum. The record
// returned carries the identity the file had before reading; a file that
// changes while it is read gets a record that will not match it later.
func Hash(path string, withMD5 bool) (Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return Record{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Record{}, err
	}
	rec := Record{Identity: identityOf(fi), HashedAtNs: time.Now().UnixNano()}
	fp := sha256.New()
	var md hash.Hash
	if withMD5 {
		md = md5.New()
	}
	if _, err := hashBoth(f, fp, md); err != nil {
		return Record{}, err
	}
	rec.Fingerprint = fingerprintPrefix + hex.EncodeToString(fp.Sum(nil))
	if md != nil {
		rec.MD5 = hex.EncodeToString(md.Sum(nil))
	}
	return rec, nil
}

// hashBoth feeds r to a and, when b is not nil, to b on another goroutine.
func hashBoth(r io.Reader, a, b hash.Hash) (int64, error) {
	if b == nil {
		buf := make([]byte, chunk)
		return io.CopyBuffer(a, r, buf)
	}
	const inFlight = 3
	free := make(chan []byte, inFlight)
	for range inFlight {
		free <- make([]byte, chunk)
	}
	full := make(chan []byte, inFlight)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for buf := range full {
			b.Write(buf)
			free <- buf[:cap(buf)]
		}
	}()
	var total int64
	var readErr error
	for {
		buf := <-free
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			a.Write(buf[:n])
			total += int64(n)
			full <- buf[:n]
		} else {
			free <- buf
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	close(full)
	<-done
	return total, readErr
}
