package tpns

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// recordingLogger keeps every message and field, to prove secrets stay out.
type recordingLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recordingLogger) add(msg string, f map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s %v", msg, f))
}
func (l *recordingLogger) Info(_ context.Context, msg string, f map[string]any)  { l.add(msg, f) }
func (l *recordingLogger) Debug(_ context.Context, msg string, f map[string]any) { l.add(msg, f) }
func (l *recordingLogger) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func setup(t *testing.T) (*sandbox.Server, *Client, *recordingLogger) {
	t.Helper()
	return setupWith(t, transfer.Retry{})
}

func setupWith(t *testing.T, retry transfer.Retry) (*sandbox.Server, *Client, *recordingLogger) {
	t.Helper()
	retry.Base, retry.Max = time.Millisecond, 5*time.Millisecond
	srv, err := sandbox.New(sandbox.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	creds := sandbox.DefaultCredentials()
	log := &recordingLogger{}
	return srv, New(srv.URL()+sandbox.PrefixTPNS, creds.TPNSAccessID, creds.TPNSSecretKey, transfer.Options{Log: log, Retry: retry}), log
}

func write(t *testing.T, name, content string) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(content))
	return p, hex.EncodeToString(sum[:])
}

func TestUploadPackage(t *testing.T) {
	srv, c, log := setup(t)
	p, sum := write(t, "accounts.csv", "alice\nbob\ncarol\n")
	res, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "vip.csv", FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	ups := srv.TPNSUploads()
	if len(ups) != 1 || res.UploadID != ups[0].UploadID || res.FileMD5 != sum || res.FileSize != 16 {
		t.Fatalf("result %+v, sandbox uploads %+v", res, ups)
	}
	if ups[0].FileName != "vip.csv" || ups[0].Entries != 3 || ups[0].MD5 != sum {
		t.Fatalf("sandbox received %+v", ups[0])
	}
	res2, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "vip.csv", FileMD5: sum})
	if err != nil || res2.UploadID <= res.UploadID {
		t.Fatalf("second upload: %+v, %v", res2, err)
	}
	if strings.Contains(log.all(), c.SecretKey) || strings.Contains(log.all(), BasicAuth(c.AccessID, c.SecretKey)[6:]) {
		t.Fatalf("logs leak the secret:\n%s", log.all())
	}
	if !strings.Contains(log.all(), "TPNS upload of vip.csv finished") {
		t.Fatalf("no progress summary in logs:\n%s", log.all())
	}
}

func TestUploadPackageErrors(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(c *Client)
		file    string
		content string
		md5     string // "" = the content's
		code    int
		want    []string
	}{
		{name: "unknown access id", mutate: func(c *Client) { c.AccessID = "42" }, code: CodeAuthFailed,
			want: []string{"retCode 1008003", "authentication failed", "tpns.access_id", "TPNS_SECRET_KEY"}},
		{name: "wrong secret", mutate: func(c *Client) { c.SecretKey = "wrong-secret" }, code: CodeKeyMismatch,
			want: []string{"retCode 10030002", "tpns.secret_key"}},
		{name: "rule broken server side", file: "a.txt", content: "alice\nb\n", code: CodeInvalidParam,
			want: []string{"retCode 1008007", "a.txt, line 2", "invalid parameter"}},
		{name: "empty", file: "a.txt", content: "", code: CodeEmptyFile, want: []string{"retCode 1008012", "empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, c, _ := setup(t)
			if tc.mutate != nil {
				tc.mutate(c)
			}
			file, content := tc.file, tc.content
			if file == "" {
				file, content = "a.txt", "alice\nbob\n"
			}
			p, sum := write(t, file, content)
			_, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: file, FileMD5: sum})
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.RetCode != tc.code {
				t.Fatalf("err = %v, want retCode %d", err, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), c.SecretKey) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestUploadPackageRetriesRateLimit(t *testing.T) {
	srv, c, _ := setup(t)
	srv.InjectFault("POST", UploadPath, 2, 200, `{"retCode":1008028,"errMsg":"rate limit exceeded"}`)
	p, sum := write(t, "a.txt", "alice\nbob\n")
	res, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests(sandbox.PrefixTPNS); n != 3 || res.UploadID == 0 {
		t.Fatalf("requests = %d, result %+v; want two rate-limited attempts then success", n, res)
	}

	// Past the attempt budget, the rate limit is reported with its code.
	srv, c, _ = setupWith(t, transfer.Retry{Attempts: 2})
	srv.InjectFault("POST", UploadPath, 2, 200, `{"retCode":1008028,"errMsg":"rate limit exceeded"}`)
	_, err = c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: sum})
	if !strings.Contains(fmt.Sprint(err), "retCode 1008028") {
		t.Fatalf("err = %v", err)
	}
}

func TestUploadPackageNotTPNS(t *testing.T) {
	srv, c, _ := setup(t)
	srv.InjectFault("POST", UploadPath, 1, 404, "<html>not found</html>")
	p, sum := write(t, "a.txt", "alice\nbob\n")
	_, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: sum})
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "tpns.endpoint") {
		t.Fatalf("err = %v", err)
	}
}

// TPNS never receives a complete package whose content changed since
// plan: the last byte is withheld, so no upload id is ever created.
func TestUploadPackageContentChanged(t *testing.T) {
	srv, c, _ := setup(t)
	p, _ := write(t, "a.txt", "alice\nbob\n")
	_, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: strings.Repeat("0", 32)})
	if !errors.Is(err, transfer.ErrContentChanged) {
		t.Fatalf("err = %v, want ErrContentChanged", err)
	}
	if ups := srv.TPNSUploads(); len(ups) != 0 {
		t.Fatalf("TPNS accepted the changed content: %+v", ups)
	}
}

// The multipart form survives 503s, 429 with Retry-After and a reset in
// the middle of its body; TPNS stores the file's bytes once. The package
// is larger than the socket buffers, so a reset is seen while the body is
// still being written: TPNS certainly did not take it, and it is sent
// again although it creates an upload.
func TestUploadPackageSurvivesTransientFaults(t *testing.T) {
	content := strings.Repeat("account-000000001\n", 8<<20/18)
	for name, f := range map[string]sandbox.Fault{
		"503 twice":          {Method: http.MethodPost, PathPrefix: sandbox.PrefixTPNS + UploadPath, Count: 2, Status: http.StatusServiceUnavailable},
		"429 Retry-After":    {Method: http.MethodPost, PathPrefix: sandbox.PrefixTPNS + UploadPath, Status: http.StatusTooManyRequests, RetryAfter: "1"},
		"reset mid-body":     {Method: http.MethodPost, PathPrefix: sandbox.PrefixTPNS + UploadPath, ResetAfterBytes: 40000},
		"reset twice at 1 B": {Method: http.MethodPost, PathPrefix: sandbox.PrefixTPNS + UploadPath, Count: 2, ResetAfterBytes: 1},
	} {
		t.Run(name, func(t *testing.T) {
			srv, c, _ := setup(t)
			srv.AddFault(f)
			p, sum := write(t, "a.txt", content)
			res, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: sum})
			if err != nil {
				t.Fatal(err)
			}
			ups := srv.TPNSUploads()
			if len(ups) != 1 || ups[0].UploadID != res.UploadID || ups[0].MD5 != sum {
				t.Fatalf("sandbox uploads %+v, result %+v", ups, res)
			}
			if len(srv.PendingFaults()) != 0 {
				t.Fatal("the fault was never hit")
			}
		})
	}
}

// A second package is harmless (an uploadId nothing pushes to), so when
// the answer is lost after TPNS took the whole package, or TPNS answers
// 502, the package is sent again and the upload succeeds with the id of
// the copy that answered.
func TestUploadPackageLostAnswerIsSentAgain(t *testing.T) {
	for name, f := range map[string]sandbox.Fault{
		"answer dropped": {Method: http.MethodPost, PathPrefix: sandbox.PrefixTPNS + UploadPath, DropResponse: true},
		"502":            {Method: http.MethodPost, PathPrefix: sandbox.PrefixTPNS + UploadPath, Status: http.StatusBadGateway},
	} {
		t.Run(name, func(t *testing.T) {
			srv, c, _ := setup(t)
			srv.AddFault(f)
			p, sum := write(t, "a.txt", "alice\nbob\n")
			res, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: sum})
			if err != nil {
				t.Fatal(err)
			}
			if n := srv.Requests(sandbox.PrefixTPNS); n != 2 {
				t.Fatalf("requests = %d, want 2", n)
			}
			ups := srv.TPNSUploads()
			last := ups[len(ups)-1]
			if last.UploadID != res.UploadID || last.MD5 != sum {
				t.Fatalf("result %+v, TPNS holds %+v", res, ups)
			}
		})
	}
}

// A fault that does not go away names the platform, the status and the
// attempts.
func TestUploadPackagePermanentFault(t *testing.T) {
	srv, c, _ := setup(t)
	srv.AddFault(sandbox.Fault{PathPrefix: sandbox.PrefixTPNS + UploadPath, Count: 100, Status: http.StatusServiceUnavailable})
	p, sum := write(t, "a.txt", "alice\nbob\n")
	_, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: sum})
	if err == nil || !strings.Contains(err.Error(), "TPNS API answered HTTP 503 (retried 4 times)") {
		t.Fatalf("err = %v", err)
	}
}

func TestEndpointFor(t *testing.T) {
	for region, want := range map[string]string{
		"":          "https://api.tpns.tencent.com",
		"guangzhou": "https://api.tpns.tencent.com",
		"shanghai":  "https://api.tpns.sh.tencent.com",
		"hongkong":  "https://api.tpns.hk.tencent.com",
		"singapore": "https://api.tpns.sgp.tencent.com",
	} {
		if got, err := EndpointFor(region); err != nil || got != want {
			t.Errorf("EndpointFor(%q) = %q, %v; want %q", region, got, err, want)
		}
	}
	if _, err := EndpointFor("beijing"); err == nil || !strings.Contains(err.Error(), "guangzhou, hongkong, shanghai, singapore") {
		t.Errorf("EndpointFor(beijing) = %v", err)
	}
}

func TestBasicAuth(t *testing.T) {
	// base64("1500000001:secret")
	if got := BasicAuth("1500000001", "secret"); got != "Basic MTUwMDAwMDAwMTpzZWNyZXQ=" {
		t.Fatalf("BasicAuth = %q", got)
	}
}
