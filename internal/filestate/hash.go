package filestate

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The fingerprint is a SHA-256 tree: the SHA-256 of each 8 MiB piece of
// the content, then the SHA-256 of the size and those digests. With the
// CPU's SHA extensions (which Go's crypto/sha256 uses on amd64 and arm64)
// SHA-256 runs at about twice MD5's speed, and the pieces of a large file
// hash on every CPU at once, so deciding "unchanged" after a fresh checkout
// costs a fraction of hashing for the platform (see BenchmarkHash), where
// one MD5 stream cannot be split.
const fingerprintPrefix = "sha256tree8m:"

// piece is the fingerprint's unit of parallel work.
const piece = 8 << 20

// chunk is the read size; a few chunks in flight per pass, and a bounded
// number of passes (below), keep memory flat whatever the file sizes.
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
	f, rec, err := openPass(path)
	if err != nil {
		return Record{}, err
	}
	defer f.Close()
	if !withMD5 && len(also) == 0 && rec.Size > piece {
		rec.Fingerprint, err = fingerprintPieces(f, rec.Size)
		return rec, err
	}
	hintSize(rec.Size, also...)
	fp := newFingerprinter()
	var md hash.Hash
	if withMD5 {
		md = md5.New()
	}
	var a io.Writer = fp
	if len(also) > 0 {
		a = io.MultiWriter(append([]io.Writer{fp}, also...)...)
	}
	var b io.Writer
	if md != nil {
		b = md
	}
	if err := hashBoth(f, rec.Size, a, b); err != nil {
		return Record{}, err
	}
	rec.Fingerprint = fp.Fingerprint()
	if md != nil {
		rec.MD5 = hex.EncodeToString(md.Sum(nil))
	}
	return rec, nil
}

// Feed reads path once and writes its content to w (a content check)
// while the fingerprint is computed on another goroutine, so the caller
// learns which content w saw at about the cost of w alone. The record has
// no MD5.
func Feed(path string, w io.Writer) (Record, error) {
	passes <- struct{}{}
	defer func() { <-passes }()
	f, rec, err := openPass(path)
	if err != nil {
		return Record{}, err
	}
	defer f.Close()
	hintSize(rec.Size, w)
	fp := newFingerprinter()
	if err := hashBoth(f, rec.Size, w, fp); err != nil {
		return Record{}, err
	}
	rec.Fingerprint = fp.Fingerprint()
	return rec, nil
}

// SizeHinter is a writer of a pass (a content check) that can use the
// size of the content it is about to see, as stat tells it, to prepare.
type SizeHinter interface {
	SizeHint(size int64)
}

func hintSize(size int64, ws ...io.Writer) {
	for _, w := range ws {
		if h, ok := w.(SizeHinter); ok {
			h.SizeHint(size)
		}
	}
}

// openPass opens path for a reading pass and starts its record: the
// identity before reading, and the time the pass began.
func openPass(path string) (*os.File, Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Record{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Record{}, err
	}
	return f, Record{Identity: identityOf(fi), HashedAtNs: time.Now().UnixNano()}, nil
}

// fingerprinter computes the fingerprint of content written to it in order.
type fingerprinter struct {
	size    int64
	current hash.Hash // of the piece being written
	inPiece int64
	digests []byte // of the pieces before it
}

func newFingerprinter() *fingerprinter { return &fingerprinter{current: sha256.New()} }

func (f *fingerprinter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(int64(len(p)), piece-f.inPiece)
		f.current.Write(p[:k])
		f.inPiece += k
		p = p[k:]
		if f.inPiece == piece {
			f.digests = f.current.Sum(f.digests)
			f.current.Reset()
			f.inPiece = 0
		}
	}
	f.size += int64(n)
	return n, nil
}

// Fingerprint ends the content; empty content is one empty piece.
func (f *fingerprinter) Fingerprint() string {
	digests := f.digests
	if f.inPiece > 0 || f.size == 0 {
		digests = f.current.Sum(digests)
	}
	return treeFingerprint(f.size, digests)
}

func treeFingerprint(size int64, digests []byte) string {
	h := sha256.New()
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(size)))
	h.Write(digests)
	return fingerprintPrefix + hex.EncodeToString(h.Sum(nil))
}

// fingerprintPieces hashes the pieces of a file of the given size on up to
// GOMAXPROCS goroutines, each reading its own pieces at their offsets.
func fingerprintPieces(f *os.File, size int64) (string, error) {
	count := (size + piece - 1) / piece
	digests := make([]byte, count*sha256.Size)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range min(count, int64(runtime.GOMAXPROCS(0))) {
		wg.Go(func() {
			bufp := getBuffer()
			defer buffers.Put(bufp)
			buf := *bufp
			h := sha256.New()
			for {
				i := next.Add(1) - 1
				if i >= count {
					return
				}
				h.Reset()
				for off, end := i*piece, min((i+1)*piece, size); off < end; {
					n, err := f.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
					h.Write(buf[:n])
					off += int64(n)
					if err != nil && off < end {
						if errors.Is(err, io.EOF) {
							err = fmt.Errorf("%s changed while it was read: it is shorter than when reading began", f.Name())
						}
						errOnce.Do(func() { firstErr = err })
						next.Store(count) // the others stop too
						return
					}
				}
				copy(digests[i*sha256.Size:], h.Sum(nil))
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return "", firstErr
	}
	return treeFingerprint(size, digests), nil
}

// inFlight is the number of buffers a two-sided pass fills ahead: one
// being read, one or two with each consumer, the rest waiting, so neither
// side waits for the other's jitter.
const inFlight = 4

// block is a buffer handed to both sides of a pass; the last side done
// with it returns it to free.
type block struct {
	buf  []byte
	n    int
	refs atomic.Int32
}

// hashBoth feeds r (size bytes long, as far as stat knows) to a and, when
// b is not nil, to b on another goroutine. b is a hash, whose writes never
// fail; a's first error stops the pass.
//
// The file is read once: each block read goes to b first, then to a on
// the reading goroutine, and returns to the free list when both are done
// with it. So b never waits for a; in Hash, b is MD5 alone on a core,
// the slowest part, and a (the fingerprint and any content check) fits
// beside it, so that the pass costs about MD5 alone.
func hashBoth(r io.Reader, size int64, a, b io.Writer) error {
	if b == nil || size <= chunk {
		bufp := getBuffer()
		defer buffers.Put(bufp)
		w := a
		if b != nil {
			w = io.MultiWriter(a, b)
		}
		_, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, *bufp)
		return err
	}
	blocks := make([]block, inFlight)
	free := make(chan *block, inFlight)
	for i := range blocks {
		blocks[i].buf = *getBuffer()
		free <- &blocks[i]
	}
	defer func() {
		for i := range blocks {
			buffers.Put(&blocks[i].buf)
		}
	}()
	release := func(k *block) {
		if k.refs.Add(-1) == 0 {
			free <- k
		}
	}
	full := make(chan *block, inFlight)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := range full {
			_, _ = b.Write(k.buf[:k.n])
			release(k)
		}
	}()
	var passErr error
	for {
		k := <-free
		n, err := io.ReadFull(r, k.buf)
		if n > 0 {
			k.n = n
			k.refs.Store(2)
			full <- k
			if _, werr := a.Write(k.buf[:n]); werr != nil {
				passErr = werr
				break
			}
			release(k)
		} else {
			free <- k
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			passErr = err
			break
		}
	}
	close(full)
	<-done
	return passErr
}
