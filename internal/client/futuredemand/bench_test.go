package futuredemand

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// BenchmarkUpload measures memory against the sandbox (client and server in
// one process) for growing files: B/op and peak RSS must stay flat as the
// file grows, because parts are streamed from disk, never buffered.
//
//	go test ./internal/client/futuredemand -run '^$' -bench Upload -benchtime 3x
func BenchmarkUpload(b *testing.B) {
	srv, err := sandbox.New(sandbox.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	creds := sandbox.DefaultCredentials()
	for _, tc := range []struct {
		name                  string
		size, threshold, part int64
		concurrency           int
	}{
		{"presigned/32MiB", 32 << 20, 50 << 20, 16 << 20, 4},
		{"multipart/64MiB/part8MiB/x4", 64 << 20, 5 << 20, 8 << 20, 4},
		{"multipart/256MiB/part8MiB/x4", 256 << 20, 5 << 20, 8 << 20, 4},
		{"multipart/256MiB/part32MiB/x4", 256 << 20, 5 << 20, 32 << 20, 4},
	} {
		b.Run(tc.name, func(b *testing.B) {
			path, sum := writeData(b, tc.size)
			c := New(Settings{
				Endpoint:    srv.URL() + sandbox.PrefixFutureDemand + "/api/v3",
				AccessToken: creds.FutureDemandAccessToken,
				PartnerID:   creds.FutureDemandPartnerID,
			}, transfer.Options{HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}})
			resetPeakRSS()
			b.ReportAllocs()
			b.SetBytes(tc.size)
			b.ResetTimer()
			for b.Loop() {
				res, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "bench.csv", FileMD5: sum, MultipartThreshold: tc.threshold, PartSize: tc.part, Concurrency: tc.concurrency})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = srv.Store().Delete(sandbox.BucketFutureDemand, res.ObjectKey)
				b.StartTimer()
			}
			if rss := peakRSS(); rss > 0 {
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
			}
		})
	}
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS
// (Linux: writing 5 to clear_refs), so each case reports its own peak.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is VmHWM from /proc/self/status, in bytes (0 if unavailable).
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
