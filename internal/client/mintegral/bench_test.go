package mintegral

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Side by side against the same sandbox and the same file: the client's
// streamed upload and `curl -T` on a presigned URL. B/op shows memory does
// not grow with the file; compare ns/op (or MB/s) between the two.
//
//	go test ./internal/client/mintegral -run '^$' -bench Upload -benchmem
func benchFile(b *testing.B, size int64) (string, string) {
	b.Helper()
	p := filepath.Join(b.TempDir(), "big.txt")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	h := md5.New()
	line := []byte("6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
	for written := int64(0); written < size; written += int64(len(line)) {
		_, _ = f.Write(line)
		h.Write(line)
	}
	_ = f.Close()
	return p, hex.EncodeToString(h.Sum(nil))
}

func BenchmarkUpload(b *testing.B) {
	for _, size := range []int64{16 << 20, 256 << 20} {
		b.Run(fmt.Sprintf("client/%dMiB", size>>20), func(b *testing.B) {
			c, _, _ := setup(&testing.T{}, nil)
			path, sum := benchFile(b, size)
			st, _ := os.Stat(path)
			b.SetBytes(st.Size())
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "big.txt", AreaType: 1, FileMD5: sum}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("curl/%dMiB", size>>20), func(b *testing.B) {
			curl, err := exec.LookPath("curl")
			if err != nil {
				b.Skip("curl not installed")
			}
			c, _, _ := setup(&testing.T{}, nil)
			path, sum := benchFile(b, size)
			st, _ := os.Stat(path)
			b.SetBytes(st.Size())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				info, err := c.PresignedUploadData(context.Background(), 1, "big.txt", sum)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				cmd := exec.Command(curl, "-sS", "--fail", "-X", "PUT", "-T", path, info.S3.URL)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("curl: %v %s", err, out)
				}
			}
		})
	}
}
