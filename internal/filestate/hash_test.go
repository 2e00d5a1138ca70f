package filestate

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func writeTemp(t testing.TB, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{7})
	_, _ = rng.Read(data)
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, data
}

// referenceFingerprint computes the fingerprint from its definition: the
// SHA-256 of the size (8 bytes, big-endian) and of each 8 MiB piece's
// SHA-256, an empty content being one empty piece.
func referenceFingerprint(data []byte) string {
	var digests []byte
	for off := 0; off == 0 || off < len(data); off += piece {
		d := sha256.Sum256(data[off:min(off+piece, len(data))])
		digests = append(digests, d[:]...)
	}
	top := sha256.Sum256(append(binary.BigEndian.AppendUint64(nil, uint64(len(data))), digests...))
	return "sha256tree8m:" + hex.EncodeToString(top[:])
}

// Both passes (MD5 and fingerprint in order; fingerprint alone, pieces in
// parallel) give the defined fingerprint, at every piece boundary.
func TestHashMatchesStandardSums(t *testing.T) {
	for _, size := range []int{0, 1, chunk - 1, chunk, 3*chunk + 17, piece - 1, piece, piece + 1, 2*piece + 12345, 3 * piece} {
		p, data := writeTemp(t, size)
		rec, err := Hash(p, true)
		if err != nil {
			t.Fatal(err)
		}
		m := md5.Sum(data)
		want := referenceFingerprint(data)
		if rec.MD5 != hex.EncodeToString(m[:]) || rec.Fingerprint != want || rec.Size != int64(size) {
			t.Fatalf("size %d: got %+v, want md5 %x and fingerprint %s", size, rec, m, want)
		}
		only, err := Hash(p, false)
		if err != nil {
			t.Fatal(err)
		}
		if only.MD5 != "" || only.Fingerprint != want {
			t.Fatalf("size %d, fingerprint only: got %+v, want %s", size, only, want)
		}
	}
}

// Feed hands a writer every byte, in order, and fingerprints what it
// handed, so a content check that reads on its own learns what it saw.
func TestFeedFingerprintsWhatItFeeds(t *testing.T) {
	for _, size := range []int{0, 1, chunk, 3*chunk + 17, piece + 1} {
		p, data := writeTemp(t, size)
		var got bytes.Buffer
		rec, err := Feed(p, &got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("size %d: fed %d bytes, not the content", size, got.Len())
		}
		if rec.Fingerprint != referenceFingerprint(data) || rec.MD5 != "" || rec.Size != int64(size) || rec.Inode == 0 {
			t.Fatalf("size %d: record %+v", size, rec)
		}
	}
}

// One changed byte anywhere changes the fingerprint, whichever pass
// computes it.
func TestFingerprintSeesEveryPiece(t *testing.T) {
	p, data := writeTemp(t, 2*piece+100)
	before, err := Hash(p, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{0, piece - 1, piece, 2*piece + 99} {
		changed := bytes.Clone(data)
		changed[at] ^= 1
		if err := os.WriteFile(p, changed, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, withMD5 := range []bool{false, true} {
			rec, err := Hash(p, withMD5)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Fingerprint == before.Fingerprint {
				t.Fatalf("byte %d changed (md5 pass %v), fingerprint did not", at, withMD5)
			}
		}
	}
}

// BenchmarkHash compares the fingerprint with MD5 on a file in the page
// cache: go test ./internal/filestate -run '^$' -bench Hash -benchtime 5x
func BenchmarkHash(b *testing.B) {
	const size = 256 << 20
	p, _ := writeTemp(b, size)
	for _, bc := range []struct {
		name    string
		withMD5 bool
		md5Only bool
	}{{"sha256-fingerprint", false, false}, {"md5", false, true}, {"fingerprint+md5", true, false}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if bc.md5Only {
					f, _ := os.Open(p)
					h := md5.New()
					buf := make([]byte, chunk)
					for {
						n, err := f.Read(buf)
						h.Write(buf[:n])
						if err != nil {
							break
						}
					}
					f.Close()
					continue
				}
				if _, err := Hash(p, bc.withMD5); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// failingReader yields data, then fails.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// stopWriter takes up to left bytes, then fails.
type stopWriter struct {
	bytes.Buffer
	left int
}

func (w *stopWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		return 0, errStop
	}
	w.left -= len(p)
	return w.Buffer.Write(p)
}

var errStop = errors.New("stop")

// A read error in the middle of a two-sided pass ends it with that
// error, once both sides have seen the same bytes before it; an error of
// the reading side's writer ends it too, and the other side stops.
func TestHashBothStopsOnErrors(t *testing.T) {
	data := make([]byte, 10*chunk+123)
	_, _ = rand.NewChaCha8([32]byte{3}).Read(data)
	readErr := errors.New("input/output error")
	var a, b bytes.Buffer
	err := hashBoth(&failingReader{data: data, err: readErr}, int64(len(data))+chunk, &a, &b)
	if !errors.Is(err, readErr) || !bytes.Equal(a.Bytes(), data) || !bytes.Equal(b.Bytes(), data) {
		t.Fatalf("read error: got %v, sides saw %d and %d of %d bytes", err, a.Len(), b.Len(), len(data))
	}
	w := &stopWriter{left: 3 * chunk}
	b.Reset()
	err = hashBoth(bytes.NewReader(data), int64(len(data)), w, &b)
	if !errors.Is(err, errStop) || w.Len() != 3*chunk || b.Len() > len(data) {
		t.Fatalf("writer error: got %v after %d bytes", err, w.Len())
	}
}
