package openim

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func startSandbox(t *testing.T, backend ...sandbox.OpenIMBackend) *sandbox.Server {
	t.Helper()
	cfg := sandbox.Config{Dir: t.TempDir()}
	if len(backend) > 0 {
		cfg.OpenIMBackend = backend[0]
	}
	s, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func sandboxClient(s *sandbox.Server) *Client {
	return New(s.Env()["OPENIM_ENDPOINT"], s.Env()["OPENIM_TOKEN"], transfer.Options{Retry: transfer.Retry{Base: time.Millisecond, Max: 5 * time.Millisecond}})
}

func writeFile(t *testing.T, name, content string) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(content))
	return p, hex.EncodeToString(sum[:])
}

func storedBytes(t *testing.T, s *sandbox.Server, obj sandbox.OpenIMObject) []byte {
	t.Helper()
	o, err := s.Store().Get(obj.Bucket, obj.Key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(o.Path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUploadAgainstSandbox(t *testing.T) {
	s := startSandbox(t)
	c := sandboxClient(s)
	content := "user_id\nu1\nu2\nu3\n"
	p, sum := writeFile(t, "list.csv", content)

	res, err := c.Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "audiences/list.csv", Group: "audience"})
	if err != nil {
		t.Fatal(err)
	}
	if res.URL != s.URL()+sandbox.PrefixOpenIM+"/object/audiences/list.csv" || res.MD5 != sum || res.Size != int64(len(content)) || res.ID == "" {
		t.Fatalf("result %+v", res)
	}
	objs := s.OpenIMObjects()
	if len(objs) != 1 || objs[0].ContentType != "text/csv" || objs[0].Group != "audience" {
		t.Fatalf("objects %+v", objs)
	}
	if got := storedBytes(t, s, objs[0]); string(got) != content {
		t.Fatalf("stored %q", got)
	}

	// A second upload works too: every request carries a new operationID.
	if _, err := c.Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "audiences/again.csv"}); err != nil {
		t.Fatal(err)
	}
}

func TestReusedOperationIDRejected(t *testing.T) {
	s := startSandbox(t)
	c := sandboxClient(s)
	c.NewOperationID = func() string { return "always-the-same" }
	p, sum := writeFile(t, "a.csv", "x\n")
	// initiate uses it once; complete_form_data reuses it and is refused.
	_, err := c.Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "a.csv"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 1001 || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("err = %v", err)
	}
}

func TestBodyLevelErrorSurfaced(t *testing.T) {
	s := startSandbox(t)
	c := sandboxClient(s)
	c.Token = "wrong-secret-token"
	p, sum := writeFile(t, "a.csv", "x\n")
	_, err := c.Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "a.csv"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 1507 {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"errCode 1507", "TokenNotExistError", "token is not valid", "OPENIM_TOKEN"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, c.Token) {
		t.Errorf("error leaks the token: %s", msg)
	}
	if s.Requests(sandbox.PrefixS3) != 0 {
		t.Errorf("storage was contacted after a refused initiate")
	}
}

func TestSizeMismatchIs90007(t *testing.T) {
	s := startSandbox(t)
	c := sandboxClient(s)
	p, _ := writeFile(t, "a.csv", "0123456789\n")
	f, err := transfer.OpenFile(p, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Declare more bytes than are sent: the policy allows [0, size], the
	// confirm call catches the difference.
	fu, err := c.InitiateFormData(context.Background(), InitiateRequest{Name: "a.csv", Size: f.Size + 5, ContentType: "text/csv"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PostForm(context.Background(), fu, f, "a.csv", "text/csv"); err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteFormData(context.Background(), fu.ID)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 90007 || !strings.Contains(err.Error(), "size mismatch") {
		t.Fatalf("err = %v", err)
	}
}

// TestPolicyMistakesRejected proves the sandbox storage refuses what a real
// S3/MinIO refuses: a form field the policy does not cover, a policy edited
// after signing, and a file that is not the declared type.
func TestPolicyMistakesRejected(t *testing.T) {
	s := startSandbox(t)
	c := sandboxClient(s)
	p, _ := writeFile(t, "a.csv", "x\n")
	cases := []struct {
		name   string
		mutate func(fu *FormUpload)
		want   string
	}{
		{"extra field", func(fu *FormUpload) {
			fu.FormData = append(fu.FormData, transfer.FormField{Name: "x-amz-meta-source", Value: "terraform"})
		}, "Extra input fields: x-amz-meta-source"},
		{"edited policy", func(fu *FormUpload) {
			for i, f := range fu.FormData {
				if f.Name == "policy" {
					fu.FormData[i].Value = "e30=" + f.Value[4:]
				}
			}
		}, "SignatureDoesNotMatch"},
		{"dropped field", func(fu *FormUpload) {
			var kept []transfer.FormField
			for _, f := range fu.FormData {
				if f.Name != "x-amz-credential" {
					kept = append(kept, f)
				}
			}
			fu.FormData = kept
		}, "x-amz-credential"},
		{"renamed file field", func(fu *FormUpload) { fu.File = "upload" }, "no file field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := transfer.OpenFile(p, "")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fu, err := c.InitiateFormData(context.Background(), InitiateRequest{Name: "a.csv", Size: f.Size, ContentType: "text/csv"})
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(fu)
			err = c.PostForm(context.Background(), fu, f, "a.csv", "text/csv")
			var se *transfer.HTTPError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want a storage error containing %q", err, tc.want)
			}
		})
	}
}

// Both API calls and the S3 POST policy form survive 503s, 429 with
// Retry-After and resets; the stored object is the file.
func TestUploadSurvivesTransientFaults(t *testing.T) {
	content := strings.Repeat("user-0000000001\n", 8<<20/16)
	initiate := sandbox.PrefixOpenIM + "/object/initiate_form_data"
	complete := sandbox.PrefixOpenIM + "/object/complete_form_data"
	for name, f := range map[string]sandbox.Fault{
		"initiate 503 twice":  {PathPrefix: initiate, Count: 2, Status: http.StatusServiceUnavailable},
		"initiate 429":        {PathPrefix: initiate, Status: http.StatusTooManyRequests, RetryAfter: "1"},
		"complete 503 twice":  {PathPrefix: complete, Count: 2, Status: http.StatusServiceUnavailable},
		"complete 429":        {PathPrefix: complete, Status: http.StatusTooManyRequests, RetryAfter: time.Now().Add(time.Second).UTC().Format(http.TimeFormat)},
		"form 503 twice":      {Method: http.MethodPost, PathPrefix: sandbox.PrefixS3 + "/", Count: 2, Status: http.StatusServiceUnavailable},
		"form reset mid-body": {Method: http.MethodPost, PathPrefix: sandbox.PrefixS3 + "/", ResetAfterBytes: 100000},
	} {
		t.Run(name, func(t *testing.T) {
			s := startSandbox(t)
			s.AddFault(f)
			c := sandboxClient(s)
			p, sum := writeFile(t, "list.csv", content)
			if _, err := c.Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "a/list.csv"}); err != nil {
				t.Fatal(err)
			}
			objs := s.OpenIMObjects()
			if len(objs) != 1 || !bytes.Equal(storedBytes(t, s, objs[0]), []byte(content)) {
				t.Fatalf("objects %+v", objs)
			}
			if len(s.PendingFaults()) != 0 {
				t.Fatal("the fault was never hit")
			}
		})
	}
}

// A duplicate upload session or confirmation costs nothing, so after a
// 500, or an answer lost once the body was sent in full, initiate_form_data
// and complete_form_data are sent again and the upload succeeds with one
// object.
func TestCallsAreSentAgainAfterAnAmbiguousFailure(t *testing.T) {
	for _, op := range []string{"initiate_form_data", "complete_form_data"} {
		path := sandbox.PrefixOpenIM + "/object/" + op
		for name, f := range map[string]sandbox.Fault{
			"500":            {PathPrefix: path, Status: http.StatusInternalServerError},
			"answer dropped": {PathPrefix: path, DropResponse: true},
		} {
			t.Run(op+"/"+name, func(t *testing.T) {
				s := startSandbox(t)
				s.AddFault(f)
				p, sum := writeFile(t, "a.csv", "x\n")
				if _, err := sandboxClient(s).Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "a.csv"}); err != nil {
					t.Fatal(err)
				}
				if n := len(s.OpenIMObjects()); n != 1 {
					t.Fatalf("%d objects, want 1", n)
				}
				if len(s.PendingFaults()) != 0 {
					t.Fatal("the fault was never hit")
				}
			})
		}
	}
}

func TestContentChangedSinceplanIsNotConfirmed(t *testing.T) {
	s := startSandbox(t)
	c := sandboxClient(s)
	p, _ := writeFile(t, "a.csv", "x\n")
	_, err := c.Upload(context.Background(), UploadInput{Path: p, MD5: strings.Repeat("0", 32), Name: "a.csv"})
	if !errors.Is(err, transfer.ErrContentChanged) {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.OpenIMObjects()); n != 0 {
		t.Fatalf("%d objects confirmed", n)
	}
}

// fakeServer is an OpenIM API and storage whose initiate answer is given by
// the test, recording what the form POST carried.
type fakeServer struct {
	*httptest.Server
	initiate     func(storageURL string) string // data JSON
	mu           sync.Mutex
	gotHeader    http.Header
	gotFields    []string // "name=value" in order, file as "<field>@<filename>"
	gotFile      []byte
	gotOpIDs     []string
	gotTokens    []string
	storageReply int
	completed    bool
}

func newFake(t *testing.T, initiate func(storageURL string) string) *fakeServer {
	fs := &fakeServer{initiate: initiate, storageReply: http.StatusNoContent}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/object/initiate_form_data", func(w http.ResponseWriter, r *http.Request) {
		fs.record(r)
		_, _ = io.WriteString(w, `{"errCode":0,"errMsg":"","errDlt":"","data":`+fs.initiate(fs.URL+"/storage")+`}`)
	})
	mux.HandleFunc("POST /api/object/complete_form_data", func(w http.ResponseWriter, r *http.Request) {
		fs.record(r)
		fs.mu.Lock()
		fs.completed = true
		fs.mu.Unlock()
		_, _ = io.WriteString(w, `{"errCode":0,"errMsg":"","errDlt":"","data":{"url":"https://im.example/object/a.csv"}}`)
	})
	mux.HandleFunc("POST /storage", func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		if r.Header.Get("token") != "" {
			t.Errorf("the API token was sent to the storage")
		}
		fs.gotHeader = r.Header.Clone()
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(part)
			if part.FileName() != "" {
				fs.gotFields = append(fs.gotFields, part.FormName()+"@"+part.FileName())
				fs.gotFile = b
				continue
			}
			fs.gotFields = append(fs.gotFields, part.FormName()+"="+string(b))
		}
		w.WriteHeader(fs.storageReply)
	})
	fs.Server = httptest.NewServer(mux)
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fakeServer) record(r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.gotOpIDs = append(fs.gotOpIDs, r.Header.Get("operationID"))
	fs.gotTokens = append(fs.gotTokens, r.Header.Get("token"))
}

func TestHeaderShapesAndFormOrder(t *testing.T) {
	shapes := map[string]string{
		"document {key, value}": `[{"key":"X-Upload-Hint","value":"one"},{"key":"Content-Type","value":"multipart/form-data"}]`,
		"server {key, values}":  `[{"key":"X-Upload-Hint","values":["one"]},{"key":"Content-Type","values":["multipart/form-data"]}]`,
	}
	for name, header := range shapes {
		t.Run(name, func(t *testing.T) {
			fs := newFake(t, func(storageURL string) string {
				return `{"id":"up-1","url":"` + storageURL + `","file":"content","header":` + header + `,
					"formData":{"zeta":"last-but-one","policy":"UE9MSUNZ","alpha":" spaced  value "},
					"expires":` + jsonInt(time.Now().Add(time.Hour).UnixMilli()) + `,"successCodes":[204]}`
			})
			c := New(fs.URL+"/api", "tok", transfer.Options{})
			p, sum := writeFile(t, "list.csv", "a\nb\n")
			res, err := c.Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "dir/list.csv"})
			if err != nil {
				t.Fatal(err)
			}
			if res.URL != "https://im.example/object/a.csv" || res.ID != "up-1" {
				t.Fatalf("result %+v", res)
			}
			if got := fs.gotHeader.Get("X-Upload-Hint"); got != "one" {
				t.Errorf("header entry not sent: %q", got)
			}
			if ct := fs.gotHeader.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/form-data; boundary=") {
				t.Errorf("Content-Type %q lost its boundary", ct)
			}
			want := []string{"zeta=last-but-one", "policy=UE9MSUNZ", "alpha= spaced  value ", "content@list.csv"}
			if strings.Join(fs.gotFields, "|") != strings.Join(want, "|") {
				t.Errorf("form fields %q, want %q", fs.gotFields, want)
			}
			if string(fs.gotFile) != "a\nb\n" {
				t.Errorf("file %q", fs.gotFile)
			}
			if len(fs.gotOpIDs) != 2 || fs.gotOpIDs[0] == "" || fs.gotOpIDs[0] == fs.gotOpIDs[1] {
				t.Errorf("operationIDs %q must be present and differ", fs.gotOpIDs)
			}
			if fs.gotTokens[0] != "tok" || fs.gotTokens[1] != "tok" {
				t.Errorf("tokens %q", fs.gotTokens)
			}
		})
	}
}

func TestSuccessCodesDecide(t *testing.T) {
	fs := newFake(t, func(storageURL string) string {
		return `{"id":"up-1","url":"` + storageURL + `","file":"file","header":[],"formData":{},"successCodes":[201]}`
	})
	fs.storageReply = http.StatusOK // a 2xx, but not one the server listed
	c := New(fs.URL+"/api", "tok", transfer.Options{Retry: transfer.Retry{Attempts: 1}})
	p, sum := writeFile(t, "a.csv", "a\n")
	_, err := c.Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "a.csv"})
	var se *transfer.HTTPError
	if !errors.As(err, &se) || se.Status != http.StatusOK {
		t.Fatalf("err = %v", err)
	}
	if fs.completed {
		t.Fatal("complete_form_data was called after a failed upload")
	}
}

func TestExpiredFormNotSent(t *testing.T) {
	fs := newFake(t, func(storageURL string) string {
		return `{"id":"up-1","url":"` + storageURL + `","file":"file","formData":{},"expires":` + jsonInt(time.Now().Add(-time.Second).UnixMilli()) + `}`
	})
	c := New(fs.URL+"/api", "tok", transfer.Options{})
	p, sum := writeFile(t, "a.csv", "a\n")
	_, err := c.Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "a.csv"})
	if err == nil || !strings.Contains(err.Error(), "expired") || fs.gotFields != nil {
		t.Fatalf("err = %v, fields sent %q", err, fs.gotFields)
	}
}

func TestMalformedAnswers(t *testing.T) {
	cases := map[string]string{
		"header without key":   `{"id":"x","url":"http://s","file":"file","header":[{"value":"v"}]}`,
		"formData not strings": `{"id":"x","url":"http://s","file":"file","formData":{"a":1}}`,
		"no file field":        `{"id":"x","url":"http://s","file":""}`,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			fs := newFake(t, func(string) string { return data })
			c := New(fs.URL+"/api", "tok", transfer.Options{})
			if _, err := c.InitiateFormData(context.Background(), InitiateRequest{Name: "a", Size: 1, ContentType: "text/plain"}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"errCode": 1501, "errMsg": "TokenExpiredError", "errDlt": "token expired at 12:00", "data": nil})
	}))
	defer srv.Close()
	c := New(srv.URL, "tok", transfer.Options{})
	_, err := c.CompleteFormData(context.Background(), "id")
	want := "OpenIM object/complete_form_data failed: errCode 1501 TokenExpiredError: token expired at 12:00 (the token was refused"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v", err)
	}
}

func TestGuessContentType(t *testing.T) {
	for name, want := range map[string]string{
		"a.csv": "text/csv", "A.CSV": "text/csv", "a.txt": "text/plain", "a.csv.gz": "application/gzip",
		"photo.jpeg": "image/jpeg", "noext": "application/octet-stream", "dir.v2/file": "application/octet-stream",
	} {
		if got := GuessContentType(name); got != want {
			t.Errorf("GuessContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(bytes.TrimSpace(b))
}

func TestCheckObjectName(t *testing.T) {
	for _, ok := range []string{"a.csv", "dir/sub/a.csv", "imAdmin/x y.txt"} {
		if err := CheckObjectName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/a.csv", "a//b", "a/../b", "./a", "a/", strings.Repeat("x", 1025), "\xff"} {
		if err := CheckObjectName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every backend's form goes through unchanged and confirms.
func TestUploadToEachBackend(t *testing.T) {
	for _, b := range []sandbox.OpenIMBackend{sandbox.OpenIMBackendMinIO, sandbox.OpenIMBackendCOS, sandbox.OpenIMBackendOSS, sandbox.OpenIMBackendKodo} {
		t.Run(string(b), func(t *testing.T) {
			s := startSandbox(t, b)
			p, sum := writeFile(t, "list.csv", "id\n1\n")
			res, err := sandboxClient(s).Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "dir/list.csv"})
			if err != nil {
				t.Fatal(err)
			}
			objs := s.OpenIMObjects()
			if len(objs) != 1 || string(storedBytes(t, s, objs[0])) != "id\n1\n" || res.MD5 != sum {
				t.Fatalf("objects %+v", objs)
			}
		})
	}
}

// errCode 500 is the storage speaking: on initiate, a backend without
// form upload; on confirm, a missing object. Neither is sent again.
func TestErrCode500IsExplainedAndNotRetried(t *testing.T) {
	t.Run("initiate on AWS", func(t *testing.T) {
		s := startSandbox(t, sandbox.OpenIMBackendAWS)
		p, sum := writeFile(t, "list.csv", "id\n1\n")
		_, err := sandboxClient(s).Upload(context.Background(), UploadInput{Path: p, MD5: sum, Name: "list.csv"})
		for _, want := range []string{"object/initiate_form_data failed: errCode 500 ServerInternalError: aws does not currently support form data file uploads",
			"cannot take form uploads", "will not help", "administrator", "MinIO (the default), COS or OSS"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v; want %q", err, want)
			}
		}
		if n := s.Requests(sandbox.PrefixOpenIM); n != 1 {
			t.Fatalf("%d OpenIM requests; want the one initiate", n)
		}
	})
	t.Run("confirm without the object", func(t *testing.T) {
		s := startSandbox(t)
		c := sandboxClient(s)
		fu, err := c.InitiateFormData(context.Background(), InitiateRequest{Name: "a.csv", Size: 3, ContentType: "text/csv"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CompleteFormData(context.Background(), fu.ID)
		for _, want := range []string{"object/complete_form_data failed: errCode 500", "does not exist", "does not hold the uploaded object", "upload the file again"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v; want %q", err, want)
			}
		}
		if n := s.Requests(sandbox.PrefixOpenIM); n != 2 {
			t.Fatalf("%d OpenIM requests; want initiate and one complete", n)
		}
	})
}
