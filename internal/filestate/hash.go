package filestate

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"runtime"
	"sync"
	"time"
)

// The fingerprint is SHA-256: with the CPU's SHA extensions (which Go's
// crypto/sha256 uses on amd64 and arm64) it runs at about three times
// MD5's speed, so deciding "unchanged" after a fresh checkout costs a
// fraction of hashing for the platform (see BenchmarkHash).
const fingerprintPrefix = "sha256:"

// chunk is the read size; a few chunks in flight keep memory flat. A plan
// hashes up to Terraform's parallelism (10) files at once, so the buffers
// of all of them together stay within a few MiB.
const chunk = 256 << 10

// buffers recycles read buffers across the many files a plan hashes.
var buffers sync.Pool

// passes bounds the files hashed at once. Hashing is CPU-bound (MD5 runs at
// well under the speed of a page-cache read), so more passes than CPUs
// finish no sooner and only hold more buffers: Terraform plans 10 resources
// at a time by default.
var passes = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

func getBuffer() *[]byte {
	if b, ok := buffers.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, chunk)
	return &b
}

// Sums is what one pass over a file learnt.
type Sums struct {
	Fingerprint string
	MD5         string // empty unless asked for
	Size        int64
}

// Hash reads path once and returns its fingerprint, and its MD5 when
// withMD5 is set. The two hashes run side by side on the same buffers, so
// asking for both costs the slower of the two, not their sum. Each of also
// sees the content too, on the fingerprint's side (a content check that
// would otherwise read the file again). The record returned carries the
// identity the file had before reading; a file that changes while it is
// read gets a record that will not match it later.
func Hash(path string, withMD5 bool, also ...io.Writer) (Record, error) {
	passes <- struct{}{}
	defer func() { <-passes }()
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
	var a io.Writer = fp
	if len(also) > 0 {
		a = io.MultiWriter(append([]io.Writer{fp}, also...)...)
	}
	if _, err := hashBoth(f, fi.Size(), a, md); err != nil {
		return Record{}, err
	}
	rec.Fingerprint = fingerprintPrefix + hex.EncodeToString(fp.Sum(nil))
	if md != nil {
		rec.MD5 = hex.EncodeToString(md.Sum(nil))
	}
	return rec, nil
}

// hashBoth feeds r (size bytes long, as far as stat knows) to a and, when
// b is not nil, to b on another goroutine.
func hashBoth(r io.Reader, size int64, a io.Writer, b hash.Hash) (int64, error) {
	inFlight := 3
	if b == nil || size <= chunk {
		inFlight = 1
	}
	bufs := make([]*[]byte, inFlight)
	for i := range bufs {
		bufs[i] = getBuffer()
	}
	defer func() {
		for _, p := range bufs {
			buffers.Put(p)
		}
	}()
	if inFlight == 1 {
		w := a
		if b != nil {
			w = io.MultiWriter(a, b)
		}
		return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, *bufs[0])
	}
	free := make(chan []byte, inFlight)
	for _, p := range bufs {
		free <- *p
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
			if _, werr := a.Write(buf[:n]); werr != nil {
				readErr = werr
				break
			}
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
