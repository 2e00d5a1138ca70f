package mintegral

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// skewClock is shared by the client and the sandbox so a test can move
// time for both, as real time would.
type skewClock struct{ offset atomic.Int64 }

func (c *skewClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func setup(t *testing.T, rt func(http.RoundTripper) http.RoundTripper) (*Client, *sandbox.Server, *skewClock) {
	t.Helper()
	clk := &skewClock{}
	srv, err := sandbox.New(sandbox.Config{Dir: t.TempDir(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	transport := http.DefaultTransport
	if rt != nil {
		transport = rt(transport)
	}
	creds := sandbox.DefaultCredentials()
	return New(srv.URL()+sandbox.PrefixMintegral, creds.MintegralAccessKey, creds.MintegralAPIKey, transfer.Options{
		HTTP:            &http.Client{Transport: transport},
		Now:             clk.Now,
		Retry:           transfer.Retry{Base: time.Millisecond, Max: 5 * time.Millisecond},
		EndpointSetting: "mintegral.endpoint (MINTEGRAL_ENDPOINT)",
	}), srv, clk
}

func writeTemp(t *testing.T, name, content string) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(content))
	return p, hex.EncodeToString(sum[:])
}

func storedMD5(t *testing.T, srv *sandbox.Server, dataPath string) string {
	t.Helper()
	rest := dataPath[strings.Index(dataPath, "://")+3:]
	bucket, key, _ := strings.Cut(rest, "/")
	obj, err := srv.Store().Get(bucket, key)
	if err != nil {
		t.Fatalf("%s not stored: %v", dataPath, err)
	}
	return obj.MD5
}

func TestTokenMatchesDocumentedFormula(t *testing.T) {
	// md5("1700000000") = 6c5b3a9d9c0c9e0f0f3a8b3c3b1bde5a is not assumed:
	// compute the documented formula step by step.
	inner := md5.Sum([]byte("1700000000"))
	outer := md5.Sum([]byte("key" + hex.EncodeToString(inner[:])))
	if got, want := Token("key", "1700000000"), hex.EncodeToString(outer[:]); got != want {
		t.Fatalf("Token = %s, want %s", got, want)
	}
	if got := Token("key", "1700000000"); got != sandbox.MintegralToken("key", "1700000000") {
		t.Fatal("client and sandbox disagree on the token")
	}
}

func TestUploadBothAreas(t *testing.T) {
	for _, area := range []int{AreaOutsideMainlandChina, AreaMainlandChina} {
		c, srv, _ := setup(t, nil)
		path, sum := writeTemp(t, "devices.txt", "idfa\n6D92078A-8246-4BA4-AE5B-76104861E7DC\n")
		res, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "devices.txt", AreaType: area, FileMD5: sum})
		if err != nil {
			t.Fatalf("area %d: %v", area, err)
		}
		if res.FileMD5 != sum || storedMD5(t, srv, res.DataPath) != sum {
			t.Fatalf("area %d: uploaded md5 %s, stored %s, want %s", area, res.FileMD5, storedMD5(t, srv, res.DataPath), sum)
		}
		if (area == 1) != strings.HasPrefix(res.DataPath, "s3://") {
			t.Fatalf("area %d: data_path %s", area, res.DataPath)
		}
	}
}

// roundTripFunc lets a test watch and alter traffic.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Presigned information that expires before the upload starts is asked
// for again, and the expired URL is never used.
func TestUploadRefreshesExpiredInformation(t *testing.T) {
	var clk *skewClock
	var presigns, puts atomic.Int32
	c, srv, clk0 := setup(t, func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(r)
			if strings.Contains(r.URL.Path, "presigned-upload-data") {
				if presigns.Add(1) == 1 {
					// The first answer arrives, then the machine stalls
					// past its ttl before uploading.
					clk.offset.Add(int64(10 * time.Minute))
				}
			} else {
				puts.Add(1)
			}
			return resp, err
		})
	})
	clk = clk0
	path, sum := writeTemp(t, "a.txt", "id\n1\n")
	res, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.txt", AreaType: 1, FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	if presigns.Load() != 2 || puts.Load() != 1 {
		t.Fatalf("presigns=%d puts=%d, want 2 and 1", presigns.Load(), puts.Load())
	}
	if storedMD5(t, srv, res.DataPath) != sum {
		t.Fatal("object not stored")
	}
}

// If storage says the URL expired in flight, new information is fetched.
func TestUploadRetriesWhenStorageSaysExpired(t *testing.T) {
	c, srv, _ := setup(t, nil)
	srv.InjectFault(http.MethodPut, "/s3/", 1, http.StatusForbidden, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
	path, sum := writeTemp(t, "a.txt", "id\n1\n")
	if _, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.txt", AreaType: 1, FileMD5: sum}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests(sandbox.PrefixMintegral); n != 2 {
		t.Fatalf("presign requests = %d, want 2", n)
	}
}

func TestUploadDetectsContentChangedSincePlan(t *testing.T) {
	c, srv, _ := setup(t, nil)
	path, _ := writeTemp(t, "a.txt", "id\n1\n")
	_, planned := writeTemp(t, "b.txt", "id\n2\n") // the plan saw other bytes
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.txt", AreaType: 1, FileMD5: planned})
	if !errors.Is(err, transfer.ErrContentChanged) {
		t.Fatalf("err = %v, want ErrContentChanged", err)
	}
	if objs, _ := srv.Store().List(sandbox.BucketMintegralS3); len(objs) != 0 {
		t.Fatal("changed content must not be stored")
	}
}

func TestPlatformErrorCarriesCodeAndMessage(t *testing.T) {
	c, _, _ := setup(t, nil)
	c.APIKey = "wrong"
	_, err := c.PresignedUploadData(context.Background(), 1, "a.txt", strings.Repeat("a", 32))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != sandbox.MintegralCodeBadToken || apiErr.Message == "" {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "MINTEGRAL_API_KEY") {
		t.Fatalf("error should say what to check: %v", err)
	}
}

// Storage errors name the URL without its presigned query.
func TestStorageErrorsHideSignatures(t *testing.T) {
	c, srv, _ := setup(t, nil)
	srv.InjectFault(http.MethodPut, "/s3/", 1, http.StatusForbidden, "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>")
	path, sum := writeTemp(t, "a.txt", "id\n1\n")
	_, err := c.Upload(context.Background(), UploadRequest{Path: path, FileName: "a.txt", AreaType: 1, FileMD5: sum})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("err = %v", err)
	}
	for _, secret := range []string{"X-Amz-Signature", "X-Amz-Credential", "?"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error leaks %q: %v", secret, err)
		}
	}
}

// A data_path Mintegral does not know is blamed on the data_path, not on
// the credentials, although the path itself holds the access key.
func TestUnknownDataPathIsNotBlamedOnCredentials(t *testing.T) {
	c, _, _ := setup(t, nil)
	unknown := "s3://" + sandbox.BucketMintegralS3 + "/audience/" + c.AccessKey + "/20260101/0a1b2c3d/ids.txt"
	_, err := c.CreateAudience(context.Background(), AudienceSpec{Name: "a", AreaType: 1, Platform: "ios", Files: []AudienceFile{{"IDFA", unknown}}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !apiErr.DataPathRejected() {
		t.Fatalf("err = %v, want a rejected data_path", err)
	}
	if msg := err.Error(); strings.Contains(msg, "MINTEGRAL_API_KEY") || !strings.Contains(msg, "upload the file again") {
		t.Fatalf("misleading advice: %v", msg)
	}
	for _, e := range []*APIError{
		{Code: 10003, Message: "token verification failed"},
		{Code: 10002, Message: "invalid access-key"},
		{Code: 400, Message: "data_path[0].device_type 5 is not a valid device type"},
		// The request's own values may hold any word: only the complaint counts.
		{Code: 10003, Message: `token verification failed for "s3://b/upload/data_path.txt"`},
		{Code: 10002, Message: "invalid access-key in oss://b/data_path/upload/ids.txt"},
	} {
		if e.DataPathRejected() {
			t.Errorf("%q taken for a rejected data_path", e.Message)
		}
	}
}
