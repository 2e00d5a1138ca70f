package filestate

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
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

func TestHashMatchesStandardSums(t *testing.T) {
	for _, size := range []int{1, chunk - 1, chunk, 3*chunk + 17} {
		p, data := writeTemp(t, size)
		rec, err := Hash(p, true)
		if err != nil {
			t.Fatal(err)
		}
		m := md5.Sum(data)
		s := sha256.Sum256(data)
		if rec.MD5 != hex.EncodeToString(m[:]) || rec.Fingerprint != fingerprintPrefix+hex.EncodeToString(s[:]) || rec.Size != int64(size) {
			t.Fatalf("size %d: got %+v", size, rec)
		}
		only, err := Hash(p, false)
		if err != nil {
			t.Fatal(err)
		}
		if only.MD5 != "" || only.Fingerprint != rec.Fingerprint {
			t.Fatalf("fingerprint only: got %+v", only)
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
