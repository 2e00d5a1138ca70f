package mintegral

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

const presignPath = sandbox.PrefixMintegral + "/api/open/v1/audience/presigned-upload-data"

// Every call and every body survives the faults real servers produce, and
// the stored bytes are the file's.
func TestUploadSurvivesTransientFaults(t *testing.T) {
	content := strings.Repeat("6D92078A-8246-4BA4-AE5B-76104861E7DC\n", 4000)
	cases := []struct {
		name  string
		area  int
		fault sandbox.Fault
	}{
		{"presign 503 twice", 1, sandbox.Fault{PathPrefix: presignPath, Count: 2, Status: http.StatusServiceUnavailable}},
		{"presign 429 Retry-After", 2, sandbox.Fault{PathPrefix: presignPath, Status: http.StatusTooManyRequests, RetryAfter: "1"}},
		{"presign answer dropped", 1, sandbox.Fault{PathPrefix: presignPath, DropResponse: true}},
		{"S3 PUT reset mid-body", 1, sandbox.Fault{Method: http.MethodPut, PathPrefix: sandbox.PrefixS3 + "/", ResetAfterBytes: 50000}},
		{"S3 PUT 503 twice", 1, sandbox.Fault{Method: http.MethodPut, PathPrefix: sandbox.PrefixS3 + "/", Count: 2, Status: http.StatusServiceUnavailable}},
		{"OSS POST reset mid-body", 2, sandbox.Fault{Method: http.MethodPost, PathPrefix: sandbox.PrefixOSS + "/", ResetAfterBytes: 50000}},
		{"OSS POST 503 twice", 2, sandbox.Fault{Method: http.MethodPost, PathPrefix: sandbox.PrefixOSS + "/", Count: 2, Status: http.StatusServiceUnavailable}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, srv, _ := setup(t, nil)
			srv.AddFault(tc.fault)
			path, sum := writeTemp(t, "devices.txt", content)
			start := time.Now()
			res, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "devices.txt", AreaType: tc.area, FileMD5: sum})
			if err != nil {
				t.Fatal(err)
			}
			if got := storedMD5(t, srv, res.DataPath); got != sum {
				t.Fatalf("stored md5 %s, want %s", got, sum)
			}
			if len(srv.PendingFaults()) != 0 {
				t.Fatal("the fault was never hit")
			}
			if tc.fault.RetryAfter != "" && time.Since(start) < time.Second {
				t.Fatalf("Retry-After: 1 not honoured (took %s)", time.Since(start))
			}
		})
	}
}

// A fault that does not go away names the platform, the status and the
// attempts, never "error 0".
func TestPermanentFaultNamesPlatformStatusAndAttempts(t *testing.T) {
	c, srv, _ := setup(t, nil)
	srv.AddFault(sandbox.Fault{PathPrefix: presignPath, Count: 100, Status: http.StatusServiceUnavailable})
	path, sum := writeTemp(t, "a.txt", "id\n1\n")
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.txt", AreaType: 1, FileMD5: sum})
	var he *transfer.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable || he.Attempts != 5 {
		t.Fatalf("err = %#v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "Mintegral API answered HTTP 503 (retried 4 times)") || strings.Contains(msg, "error 0") {
		t.Fatalf("message: %s", msg)
	}
}

// An unreachable endpoint names the setting to check.
func TestRefusedConnectionNamesTheSetting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	c := New("http://"+addr, "ak", "key", transfer.Options{Retry: transfer.Retry{Attempts: 2, Base: time.Millisecond}, EndpointSetting: "mintegral.endpoint (MINTEGRAL_ENDPOINT)"})
	_, err = c.PresignedUploadData(context.Background(), 1, "a.txt", strings.Repeat("a", 32))
	var ce *transfer.ConnectionError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "check mintegral.endpoint (MINTEGRAL_ENDPOINT)") {
		t.Fatalf("err = %v", err)
	}
}

// An endpoint that accepts connections and never answers is given up on
// after the per-request API limit, which the error names.
func TestSilentEndpointHitsTheAPILimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() }) // accepted, never answered
		}
	}()
	c := New("http://"+ln.Addr().String(), "ak", "key", transfer.Options{APITimeout: 200 * time.Millisecond, APITimeoutSetting: "AUDIENCE_API_TIMEOUT"})
	start := time.Now()
	_, err = c.PresignedUploadData(context.Background(), 1, "a.txt", strings.Repeat("a", 32))
	var te *transfer.TimeoutError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "within 200ms, the per-request limit for API calls; raise it with AUDIENCE_API_TIMEOUT") {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the API limit must not look like the caller's deadline")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s", d)
	}
}

// A file edited after plan never completes its upload to storage.
func TestChangedFileNeverReachesStorage(t *testing.T) {
	for _, area := range []int{AreaOutsideMainlandChina, AreaMainlandChina} {
		c, srv, _ := setup(t, nil)
		path, _ := writeTemp(t, "a.txt", strings.Repeat("1\n", 5000))
		_, planned := writeTemp(t, "b.txt", strings.Repeat("2\n", 5000))
		_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.txt", AreaType: area, FileMD5: planned})
		if !errors.Is(err, transfer.ErrContentChanged) {
			t.Fatalf("area %d: err = %v", area, err)
		}
		for _, b := range []string{sandbox.BucketMintegralS3, sandbox.BucketMintegralOSS} {
			if objs, _ := srv.Store().List(b); len(objs) != 0 {
				t.Fatalf("area %d: changed content stored in %s", area, b)
			}
		}
	}
}
