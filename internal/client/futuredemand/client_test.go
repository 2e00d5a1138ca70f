package futuredemand

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
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

// recorder is an http.RoundTripper that records what the client sends, so
// tests can prove which headers went where.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	// onStorage, when set, runs before a storage request is sent.
	onStorage func(*http.Request)
}

type recorded struct {
	Method, Path string
	Header       http.Header
	Length       int64
	Chunked      bool
}

func (rc *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.Path, r.Header.Clone(), r.ContentLength, len(r.TransferEncoding) > 0})
	rc.mu.Unlock()
	if rc.onStorage != nil && strings.HasPrefix(r.URL.Path, sandbox.PrefixS3+"/") {
		rc.onStorage(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (rc *recorder) count(method, path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, r := range rc.reqs {
		if r.Method == method && strings.HasSuffix(r.Path, path) {
			n++
		}
	}
	return n
}

// checkHeaders asserts API calls carry the auth headers and storage
// requests carry none of them.
func (rc *recorder) checkHeaders(t *testing.T, wantBearer string) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, r := range rc.reqs {
		storage := strings.HasPrefix(r.Path, sandbox.PrefixS3+"/")
		if storage {
			for _, h := range []string{"Authorization", "X-Preferred-Partner-Id", "X-Upload-Type"} {
				if r.Header.Get(h) != "" {
					t.Errorf("%s %s (storage) carried %s", r.Method, r.Path, h)
				}
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
				t.Errorf("%s %s (storage) Content-Type %q", r.Method, r.Path, ct)
			}
			if r.Chunked || r.Length < 0 {
				t.Errorf("%s %s (storage) sent without a fixed Content-Length", r.Method, r.Path)
			}
			continue
		}
		if r.Header.Get("X-Preferred-Partner-Id") != sandbox.DefaultCredentials().FutureDemandPartnerID {
			t.Errorf("%s %s without the partner header", r.Method, r.Path)
		}
		if strings.Contains(r.Path, "/storage/") {
			if wantBearer != "" && r.Header.Get("Authorization") != "Bearer "+wantBearer {
				t.Errorf("%s %s Authorization %q", r.Method, r.Path, r.Header.Get("Authorization"))
			}
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				t.Errorf("%s %s without a Bearer token", r.Method, r.Path)
			}
			if r.Header.Get("X-Upload-Type") != DefaultUploadType {
				t.Errorf("%s %s X-Upload-Type %q", r.Method, r.Path, r.Header.Get("X-Upload-Type"))
			}
		}
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func startSandbox(t *testing.T, clk *clock) *sandbox.Server {
	t.Helper()
	cfg := sandbox.Config{Dir: t.TempDir()}
	if clk != nil {
		cfg.Now = clk.Now
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func newClient(srv *sandbox.Server, rc *recorder) *Client { return newClientAt(srv, rc, nil) }

func newClientAt(srv *sandbox.Server, rc *recorder, now func() time.Time) *Client {
	c := sandbox.DefaultCredentials()
	return New(Settings{
		Endpoint:    srv.Env()["FUTUREDEMAND_ENDPOINT"],
		AccessToken: c.FutureDemandAccessToken,
		PartnerID:   c.FutureDemandPartnerID,
	}, transfer.Options{
		HTTP:  &http.Client{Transport: rc},
		Now:   now,
		Retry: transfer.Retry{Base: time.Millisecond, Max: 5 * time.Millisecond},
	})
}

// writeData writes size pseudo-random bytes and returns the path and md5.
func writeData(t testing.TB, size int64) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "audience.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	rng := rand.NewChaCha8([32]byte{byte(size), byte(size >> 8), byte(size >> 16)})
	if _, err := io.CopyN(io.MultiWriter(f, h), rng, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p, hex.EncodeToString(h.Sum(nil))
}

func assertStored(t *testing.T, srv *sandbox.Server, key, wantMD5 string, wantSize int64) {
	t.Helper()
	obj, err := srv.Store().Get(sandbox.BucketFutureDemand, key)
	if err != nil {
		t.Fatalf("object %s not stored: %v", key, err)
	}
	if obj.MD5 != wantMD5 || obj.Size != wantSize {
		t.Fatalf("stored %s: md5 %s size %d, want %s %d", key, obj.MD5, obj.Size, wantMD5, wantSize)
	}
}

func TestUploadSmallFileByPresignedPut(t *testing.T) {
	srv := startSandbox(t, nil)
	rc := &recorder{}
	c := newClient(srv, rc)
	path, sum := writeData(t, 300<<10)
	res, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "list.csv", FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != MethodPresigned || res.FileMD5 != sum || res.FileSize != 300<<10 {
		t.Fatalf("result %+v", res)
	}
	if !strings.HasSuffix(res.ObjectKey, "/list.csv") {
		t.Errorf("object key %q", res.ObjectKey)
	}
	assertStored(t, srv, res.ObjectKey, sum, 300<<10)
	if rc.count(http.MethodPost, "/storage/presigned-url") != 1 || rc.count(http.MethodPost, "/storage/multipart-upload") != 0 {
		t.Errorf("unexpected calls: %+v", rc.reqs)
	}
	rc.checkHeaders(t, sandbox.DefaultCredentials().FutureDemandAccessToken)
}

func TestUploadLargeFileByMultipart(t *testing.T) {
	srv := startSandbox(t, nil)
	rc := &recorder{}
	c := newClient(srv, rc)
	size := int64(2*MinPartSize + 12345)
	path, sum := writeData(t, size)
	res, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "big.csv", FileMD5: sum, MultipartThreshold: MinPartSize, PartSize: MinPartSize, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != MethodMultipart || res.Parts != 3 || res.FileMD5 != sum {
		t.Fatalf("result %+v", res)
	}
	assertStored(t, srv, res.ObjectKey, sum, size)
	if n := rc.count(http.MethodPut, "/big.csv"); n != 3 {
		t.Errorf("%d part PUTs, want 3", n)
	}
	if rc.count(http.MethodPut, "/storage/multipart-upload") != 1 || rc.count(http.MethodDelete, "/storage/multipart-upload") != 0 {
		t.Error("want exactly one complete and no abort")
	}
	if srv.PendingMultipartUploads() != 0 {
		t.Error("upload left pending")
	}
	rc.checkHeaders(t, sandbox.DefaultCredentials().FutureDemandAccessToken)
}

func TestUploadLogsInAndRefreshesBeforeExpiry(t *testing.T) {
	clk := &clock{t: time.Now()}
	srv := startSandbox(t, clk)
	rc := &recorder{}
	c := newClientAt(srv, rc, clk.Now)
	creds := sandbox.DefaultCredentials()
	c.AccessToken, c.Username, c.Password = "", creds.FutureDemandUsername, creds.FutureDemandPassword
	path, sum := writeData(t, 1024)
	up := func() {
		t.Helper()
		if _, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.csv", FileMD5: sum}); err != nil {
			t.Fatal(err)
		}
	}
	up()
	up()
	if rc.count(http.MethodPost, "/auth") != 1 || rc.count(http.MethodPost, "/auth/refresh_token") != 0 {
		t.Fatalf("want one login for two uploads, got %d logins %d refreshes", rc.count(http.MethodPost, "/auth"), rc.count(http.MethodPost, "/auth/refresh_token"))
	}
	// 59 minutes on: the token is still valid for a minute, within the
	// refresh margin, so it is refreshed before use.
	clk.Advance(59 * time.Minute)
	up()
	if rc.count(http.MethodPost, "/auth/refresh_token") != 1 || rc.count(http.MethodPost, "/auth") != 1 {
		t.Fatalf("want a refresh and no new login, got %d logins %d refreshes", rc.count(http.MethodPost, "/auth"), rc.count(http.MethodPost, "/auth/refresh_token"))
	}
	rc.checkHeaders(t, "")
}

func TestUploadReportsBadCredentials(t *testing.T) {
	srv := startSandbox(t, nil)
	for name, tc := range map[string]struct {
		mutate func(*Client)
		want   []string
	}{
		"wrong token":    {func(c *Client) { c.AccessToken = "nope" }, []string{"HTTP 401", "invalid or has expired", "futuredemand.access_token"}},
		"wrong partner":  {func(c *Client) { c.PartnerID = "7" }, []string{"HTTP 403", "not a member", "futuredemand.partner_id"}},
		"wrong password": {func(c *Client) { c.AccessToken, c.Username, c.Password = "", "sandbox@example.com", "bad" }, []string{"POST /auth: HTTP 401", "Incorrect username or password", "futuredemand.password"}},
	} {
		c := newClient(srv, &recorder{})
		tc.mutate(c)
		path, sum := writeData(t, 10)
		_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.csv", FileMD5: sum})
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("%s: err = %v, want an APIError", name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", name, err, w)
			}
		}
	}
}

func TestUploadRetriesRateLimitsThenGivesUp(t *testing.T) {
	srv := startSandbox(t, nil)
	rc := &recorder{}
	c := newClient(srv, rc)
	path, sum := writeData(t, 10)
	srv.InjectFault(http.MethodPost, "/storage/presigned-url", 2, http.StatusTooManyRequests, `{"detail":"Too many requests"}`)
	if _, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.csv", FileMD5: sum}); err != nil {
		t.Fatalf("two 429s then success: %v", err)
	}
	if n := rc.count(http.MethodPost, "/storage/presigned-url"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	srv.InjectFault(http.MethodPost, "/storage/presigned-url", 5, http.StatusServiceUnavailable, `{"detail":"maintenance"}`)
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.csv", FileMD5: sum})
	if err == nil || !strings.Contains(err.Error(), "Future Demand API answered HTTP 503 (retried 4 times)") || !strings.Contains(err.Error(), "maintenance") {
		t.Fatalf("err = %v, want giving up after the first try and 4 retries, with the API's message", err)
	}
}

func TestMultipartPartFailureAborts(t *testing.T) {
	srv := startSandbox(t, nil)
	rc := &recorder{}
	c := newClient(srv, rc)
	path, sum := writeData(t, 2*MinPartSize+1)
	srv.InjectFault(http.MethodPut, "/s3/"+sandbox.BucketFutureDemand+"/", 1, http.StatusForbidden, "<Error><Code>AccessDenied</Code><Message>Injected part failure</Message></Error>")
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "big.csv", FileMD5: sum, MultipartThreshold: MinPartSize, PartSize: MinPartSize, Concurrency: 1})
	var ab *AbortedError
	if !errors.As(err, &ab) || ab.AbortErr != nil {
		t.Fatalf("err = %v, want an aborted upload", err)
	}
	var se *transfer.HTTPError
	if !errors.As(err, &se) || se.Code != "AccessDenied" {
		t.Errorf("the storage error is not kept: %v", err)
	}
	for _, w := range []string{"part 1 of 3", "Injected part failure", "was aborted (DELETE /storage/multipart-upload)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "X-Amz-Signature") {
		t.Errorf("error leaks a presigned URL: %v", err)
	}
	if srv.PendingMultipartUploads() != 0 || srv.AbortedMultipartUploads() != 1 {
		t.Errorf("pending %d aborted %d, want 0 and 1", srv.PendingMultipartUploads(), srv.AbortedMultipartUploads())
	}
}

func TestMultipartCompleteFailureAborts(t *testing.T) {
	srv := startSandbox(t, nil)
	c := newClient(srv, &recorder{})
	path, sum := writeData(t, MinPartSize+1)
	srv.InjectFault(http.MethodPut, "/storage/multipart-upload", 1, http.StatusUnprocessableEntity, `{"detail":"injected complete failure"}`)
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "big.csv", FileMD5: sum, MultipartThreshold: MinPartSize, PartSize: MinPartSize})
	var ab *AbortedError
	if !errors.As(err, &ab) || ab.AbortErr != nil || !strings.Contains(err.Error(), "injected complete failure") {
		t.Fatalf("err = %v, want the complete failure, aborted", err)
	}
	if srv.PendingMultipartUploads() != 0 || srv.AbortedMultipartUploads() != 1 {
		t.Errorf("pending %d aborted %d", srv.PendingMultipartUploads(), srv.AbortedMultipartUploads())
	}
}

func TestMultipartCancelAborts(t *testing.T) {
	srv := startSandbox(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	rc := &recorder{onStorage: func(r *http.Request) {
		// The first part to leave cancels the upload, like Ctrl-C.
		once.Do(cancel)
	}}
	c := newClient(srv, rc)
	path, sum := writeData(t, 3*MinPartSize)
	_, err := c.Upload(ctx, UploadRequest{Path: path, FileName: "big.csv", FileMD5: sum, MultipartThreshold: MinPartSize, PartSize: MinPartSize, Concurrency: 1})
	var ab *AbortedError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ab) || ab.AbortErr != nil {
		t.Fatalf("err = %v, want cancelled and aborted", err)
	}
	if srv.PendingMultipartUploads() != 0 || srv.AbortedMultipartUploads() != 1 {
		t.Errorf("pending %d aborted %d", srv.PendingMultipartUploads(), srv.AbortedMultipartUploads())
	}
	if n := rc.count(http.MethodPut, "/big.csv"); n > 1 {
		t.Errorf("%d parts were sent after the cancel", n)
	}
}

func TestMultipartContentChangedSincePlanAborts(t *testing.T) {
	srv := startSandbox(t, nil)
	c := newClient(srv, &recorder{})
	path, _ := writeData(t, MinPartSize+10)
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "big.csv", FileMD5: strings.Repeat("0", 32), MultipartThreshold: MinPartSize, PartSize: MinPartSize})
	if !errors.Is(err, transfer.ErrContentChanged) || !strings.Contains(err.Error(), "aborted") {
		t.Fatalf("err = %v, want content changed, aborted", err)
	}
	if srv.PendingMultipartUploads() != 0 {
		t.Error("upload left pending")
	}
	if objs, _ := srv.Store().List(sandbox.BucketFutureDemand); len(objs) != 0 {
		t.Errorf("an object was stored: %+v", objs)
	}
}

// Every API call and every body survives 503s, 429 with Retry-After and
// resets in the middle of a part; the stored object is the file.
func TestUploadSurvivesTransientFaults(t *testing.T) {
	api := sandbox.PrefixFutureDemand + "/api/v3"
	parts := sandbox.PrefixS3 + "/" + sandbox.BucketFutureDemand + "/"
	unavailable := func(method, path string) sandbox.Fault {
		return sandbox.Fault{Method: method, PathPrefix: path, Count: 2, Status: http.StatusServiceUnavailable}
	}
	for name, tc := range map[string]struct {
		multipart, login bool
		faults           []sandbox.Fault
	}{
		"login 503 twice":          {login: true, faults: []sandbox.Fault{unavailable(http.MethodPost, api+"/auth")}},
		"presigned-url 503 twice":  {faults: []sandbox.Fault{unavailable(http.MethodPost, api+"/storage/presigned-url")}},
		"presigned-url 429":        {faults: []sandbox.Fault{{PathPrefix: api + "/storage/presigned-url", Status: http.StatusTooManyRequests, RetryAfter: "1"}}},
		"PUT 503 twice":            {faults: []sandbox.Fault{unavailable(http.MethodPut, parts)}},
		"PUT reset mid-body":       {faults: []sandbox.Fault{{Method: http.MethodPut, PathPrefix: parts, ResetAfterBytes: 100000}}},
		"create 503 twice":         {multipart: true, faults: []sandbox.Fault{unavailable(http.MethodPost, api+"/storage/multipart-upload")}},
		"complete 503 twice":       {multipart: true, faults: []sandbox.Fault{unavailable(http.MethodPut, api+"/storage/multipart-upload")}},
		"each part reset mid-body": {multipart: true, faults: []sandbox.Fault{{Method: http.MethodPut, PathPrefix: parts, Count: 3, ResetAfterBytes: MinPartSize / 2}}},
		"parts 503 twice":          {multipart: true, faults: []sandbox.Fault{unavailable(http.MethodPut, parts)}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := startSandbox(t, nil)
			for _, f := range tc.faults {
				srv.AddFault(f)
			}
			c := newClient(srv, &recorder{})
			if tc.login {
				creds := sandbox.DefaultCredentials()
				c.AccessToken, c.Username, c.Password = "", creds.FutureDemandUsername, creds.FutureDemandPassword
			}
			size := int64(700 << 10)
			if tc.multipart {
				size = 2*MinPartSize + 4321
			}
			path, sum := writeData(t, size)
			res, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.csv", FileMD5: sum, MultipartThreshold: MinPartSize, PartSize: MinPartSize, Concurrency: 3})
			if err != nil {
				t.Fatal(err)
			}
			assertStored(t, srv, res.ObjectKey, sum, size)
			if len(srv.PendingFaults()) != 0 {
				t.Fatalf("faults never hit: %v", srv.PendingFaults())
			}
		})
	}
}

// The abort survives 503s too: the parts are freed.
func TestAbortSurvivesTransientFaults(t *testing.T) {
	srv := startSandbox(t, nil)
	srv.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: sandbox.PrefixFutureDemand + "/api/v3/storage/multipart-upload", Count: 2, Status: http.StatusServiceUnavailable})
	c := newClient(srv, &recorder{})
	path, _ := writeData(t, MinPartSize+10)
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "big.csv", FileMD5: strings.Repeat("0", 32), MultipartThreshold: MinPartSize, PartSize: MinPartSize})
	var ab *AbortedError
	if !errors.As(err, &ab) || ab.AbortErr != nil || srv.AbortedMultipartUploads() != 1 {
		t.Fatalf("err = %v, aborted %d", err, srv.AbortedMultipartUploads())
	}
}

func TestCheckSizes(t *testing.T) {
	for _, tc := range []struct {
		size, threshold, part int64
		want                  string
	}{
		{10, 50 << 20, 1, ""}, // presigned: part size does not matter
		{60 << 20, 50 << 20, 16 << 20, ""},
		{60 << 20, 50 << 20, 1 << 20, "part_size"},
		{200 << 30, 50 << 20, 5 << 20, "set part_size to at least"},
		{10, 6 << 30, 16 << 20, "multipart_threshold"},
	} {
		err := CheckSizes(tc.size, tc.threshold, tc.part)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckSizes(%d, %d, %d) = %v, want %q", tc.size, tc.threshold, tc.part, err, tc.want)
		}
	}
}

const fdMultipartPath = sandbox.PrefixFutureDemand + "/api/v3/storage/multipart-upload"

// The complete stores the object and its answer is lost: the resend finds
// the upload gone (404). The error says the object is most likely stored
// and that nothing was aborted, never that the parts were discarded.
func TestMultipartCompleteAnswerLostAfterActing(t *testing.T) {
	srv := startSandbox(t, nil)
	srv.AddFault(sandbox.Fault{Method: http.MethodPut, PathPrefix: fdMultipartPath, DropResponse: true})
	rc := &recorder{}
	c := newClient(srv, rc)
	size := int64(MinPartSize + 1)
	path, sum := writeData(t, size)
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "big.csv", FileMD5: sum, MultipartThreshold: MinPartSize, PartSize: MinPartSize})
	var unconfirmed *UnconfirmedError
	if !errors.As(err, &unconfirmed) {
		t.Fatalf("err = %v, want an unconfirmed complete", err)
	}
	assertStored(t, srv, unconfirmed.ObjectKey, sum, size)
	for _, w := range []string{"HTTP 404", "object_key " + unconfirmed.ObjectKey + " is most likely stored", "nothing was aborted"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "discarded") || rc.count(http.MethodPut, "/storage/multipart-upload") != 2 || rc.count(http.MethodDelete, "/storage/multipart-upload") != 0 {
		t.Errorf("%d completes and %d aborts; err %v", rc.count(http.MethodPut, "/storage/multipart-upload"), rc.count(http.MethodDelete, "/storage/multipart-upload"), err)
	}
}

// Every answer to the complete is lost, the first having stored the
// object: the abort finds the upload gone and the error says the object
// may be stored, not that the abort failed or the parts were discarded.
func TestMultipartCompleteNeverAnsweredAfterActing(t *testing.T) {
	srv := startSandbox(t, nil)
	srv.AddFault(sandbox.Fault{Method: http.MethodPut, PathPrefix: fdMultipartPath, DropResponse: true, Count: 5})
	c := newClient(srv, &recorder{})
	size := int64(MinPartSize + 1)
	path, sum := writeData(t, size)
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "big.csv", FileMD5: sum, MultipartThreshold: MinPartSize, PartSize: MinPartSize})
	var ab *AbortedError
	if !errors.As(err, &ab) || !ab.Gone || ab.ByAbort || ab.AbortErr != nil {
		t.Fatalf("err = %v, want an abort that found the upload gone", err)
	}
	assertStored(t, srv, ab.ObjectKey, sum, size)
	if !strings.Contains(err.Error(), "most likely stored it as object_key "+ab.ObjectKey) || strings.Contains(err.Error(), "discarded") || strings.Contains(err.Error(), "failed too") {
		t.Errorf("error %q", err)
	}
}

// The abort discards the parts and its answer is lost: the resend's 404
// means the abort is done.
func TestMultipartAbortAnswerLostAfterActing(t *testing.T) {
	srv := startSandbox(t, nil)
	srv.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: fdMultipartPath, DropResponse: true})
	srv.InjectFault(http.MethodPut, "/storage/multipart-upload", 1, http.StatusUnprocessableEntity, `{"detail":"injected complete failure"}`)
	c := newClient(srv, &recorder{})
	path, sum := writeData(t, MinPartSize+1)
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "big.csv", FileMD5: sum, MultipartThreshold: MinPartSize, PartSize: MinPartSize})
	var ab *AbortedError
	if !errors.As(err, &ab) || ab.AbortErr != nil || ab.Gone || !strings.Contains(err.Error(), "was aborted") {
		t.Fatalf("err = %v, want the upload aborted", err)
	}
	if srv.PendingMultipartUploads() != 0 || srv.AbortedMultipartUploads() != 1 {
		t.Errorf("pending %d aborted %d", srv.PendingMultipartUploads(), srv.AbortedMultipartUploads())
	}
}
