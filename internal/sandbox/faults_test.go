package sandbox

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// freshClient opens a new connection per request, so a reset is seen by
// the request that caused it and never retried by connection reuse.
var freshClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// presignedPut returns a presigned PUT request for an object of the
// built-in store.
func presignedPut(t *testing.T, s *Server, bucket, key string, body []byte) *http.Request {
	t.Helper()
	u, err := s.presignObject(http.MethodPut, bucket, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func storedObject(s *Server, bucket, key string) bool {
	_, err := s.Store().Get(bucket, key)
	return err == nil
}

// isBrokenConnection reports an error of a connection the server reset:
// ECONNRESET, or, when the client was still writing, EPIPE or the write
// failing because the transport closed the connection on the reset.
func isBrokenConnection(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

func TestFaultStatusWithRetryAfter(t *testing.T) {
	s, _ := startTest(t)
	s.AddFault(Fault{Method: http.MethodPut, PathPrefix: PrefixS3 + "/", Count: 2, Status: http.StatusTooManyRequests, RetryAfter: "1"})
	body := []byte("gaid\nabc\n")

	// Another method on the same path is not hit.
	resp, err := freshClient.Post(s.URL()+PrefixS3+"/bucket", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		t.Fatal("a PUT fault hit a POST")
	}

	for i := range 2 {
		resp, err := freshClient.Do(presignedPut(t, s, "bucket", "a.txt", body))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("attempt %d: HTTP %d Retry-After %q, want 429 with Retry-After 1", i+1, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if storedObject(s, "bucket", "a.txt") {
			t.Fatal("a faulted PUT stored the object")
		}
	}
	resp, err = freshClient.Do(presignedPut(t, s, "bucket", "a.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !storedObject(s, "bucket", "a.txt") {
		t.Fatalf("third PUT: HTTP %d, want 200 and a stored object", resp.StatusCode)
	}
	if n := len(s.PendingFaults()); n != 0 {
		t.Fatalf("%d faults left, want none", n)
	}
}

func TestFaultResetAfterBytes(t *testing.T) {
	s, _ := startTest(t)
	body := bytes.Repeat([]byte("0123456789abcdef\n"), 64<<10) // ~1 MiB, more than socket buffers
	s.AddFault(Fault{Method: http.MethodPut, PathPrefix: PrefixS3 + "/bucket/", ResetAfterBytes: 4096})

	_, err := freshClient.Do(presignedPut(t, s, "bucket", "big.txt", body))
	if err == nil || !isBrokenConnection(err) {
		t.Fatalf("err = %v, want a broken connection", err)
	}
	if storedObject(s, "bucket", "big.txt") {
		t.Fatal("a PUT reset mid-body stored the object")
	}

	// A small body that fits the socket buffers: the client has written
	// everything and sees the reset while waiting for the answer.
	s.AddFault(Fault{Method: http.MethodPut, PathPrefix: PrefixS3 + "/bucket/", ResetAfterBytes: 3})
	_, err = freshClient.Do(presignedPut(t, s, "bucket", "small.txt", []byte("abcdef")))
	if err == nil || !isBrokenConnection(err) {
		t.Fatalf("err = %v, want a broken connection", err)
	}
	if storedObject(s, "bucket", "small.txt") {
		t.Fatal("a PUT reset mid-body stored the object")
	}

	resp, err := freshClient.Do(presignedPut(t, s, "bucket", "big.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !storedObject(s, "bucket", "big.txt") {
		t.Fatalf("retry: HTTP %d, want 200 and a stored object", resp.StatusCode)
	}
}

func TestFaultDropResponseKeepsTheEffect(t *testing.T) {
	s, _ := startTest(t)
	s.AddFault(Fault{Method: http.MethodPut, PathPrefix: PrefixS3 + "/", DropResponse: true})
	body := []byte("idfa\n1\n")
	_, err := freshClient.Do(presignedPut(t, s, "bucket", "d.txt", body))
	if err == nil || !isBrokenConnection(err) {
		t.Fatalf("err = %v, want a broken connection", err)
	}
	obj, err := s.Store().Get("bucket", "d.txt")
	if err != nil {
		t.Fatalf("the request took no effect: %v", err)
	}
	if obj.MD5 != md5Of(body) {
		t.Fatalf("stored md5 %s, want %s", obj.MD5, md5Of(body))
	}
}

func TestFaultResetAfterResponseBytes(t *testing.T) {
	s, _ := startTest(t)
	// Any answer with a body will do: a 404 page.
	s.AddFault(Fault{Method: http.MethodGet, PathPrefix: "/nowhere/", ResetAfterResponseBytes: 5})
	resp, err := freshClient.Get(s.URL() + "/nowhere/at/all")
	if err != nil {
		t.Fatalf("the status and headers should arrive: %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || len(got) != 5 || err == nil || (!isBrokenConnection(err) && !errors.Is(err, io.ErrUnexpectedEOF)) {
		t.Fatalf("HTTP %d, read %q, err %v; want 404, 5 bytes, then a broken connection", resp.StatusCode, got, err)
	}
}

// A respelled answer is the handler's answer with its keys spelled
// another way, its status and Content-Length kept right.
func TestFaultRespell(t *testing.T) {
	for mode, want := range map[string]string{
		"camel":   `{"dataPath":"p","items":[{"uploadId":1}],"retCode":0}`,
		"snake":   `{"data_path":"p","items":[{"upload_id":1}],"ret_code":0}`,
		"pascal":  `{"DataPath":"p","Items":[{"UploadId":1}],"RetCode":0}`,
		"unknown": `{"zzdata_pathRenamed":"p","zzitemsRenamed":[{"zzupload_idRenamed":1}],"zzretCodeRenamed":0}`,
	} {
		got := respellJSON([]byte(`{"data_path":"p","retCode":0,"items":[{"upload_id":1}]}`), mode)
		if string(got) != want {
			t.Errorf("%s: %s, want %s", mode, got, want)
		}
	}
	if got := respellJSON([]byte("not json"), "camel"); string(got) != "not json" {
		t.Errorf("a body that is not JSON changed: %q", got)
	}
	s, _ := startTest(t)
	s.AddFault(Fault{Method: http.MethodGet, PathPrefix: "/nowhere/", Respell: "unknown"})
	resp, err := freshClient.Get(s.URL() + "/nowhere/at/all")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.ContentLength != int64(len(body)) {
		t.Fatalf("HTTP %d, Content-Length %d for %d bytes; want the 404 with its length", resp.StatusCode, resp.ContentLength, len(body))
	}
}

func TestFaultDelay(t *testing.T) {
	s, _ := startTest(t)
	const delay = 300 * time.Millisecond
	s.AddFault(Fault{Method: http.MethodPut, PathPrefix: PrefixS3 + "/", Delay: delay})
	start := time.Now()
	resp, err := freshClient.Do(presignedPut(t, s, "bucket", "slow.txt", []byte("x\n")))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if took := time.Since(start); took < delay {
		t.Fatalf("answered after %s, want at least %s", took, delay)
	}
	if resp.StatusCode != http.StatusOK || !storedObject(s, "bucket", "slow.txt") {
		t.Fatalf("HTTP %d, want the request handled after the delay", resp.StatusCode)
	}
}

func TestInjectFaultKeepsItsBody(t *testing.T) {
	s, _ := startTest(t)
	s.InjectFault(http.MethodPost, "/v3/push/", 1, http.StatusOK, `{"retCode":1008028}`)
	resp, err := freshClient.Post(s.URL()+PrefixTPNS+"/v3/push/package/upload", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(got) != `{"retCode":1008028}` {
		t.Fatalf("HTTP %d %q", resp.StatusCode, got)
	}
}

func TestParseFault(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Fault
	}{
		{"PUT /s3/ status=503 count=2", Fault{Method: "PUT", PathPrefix: "/s3/", Status: 503, Count: 2}},
		{"/mintegral/ status=429 retry-after=1", Fault{PathPrefix: "/mintegral/", Status: 429, RetryAfter: "1"}},
		{`* /tpns/ status=429 retry-after="Wed, 21 Oct 2026 07:28:00 GMT"`, Fault{PathPrefix: "/tpns/", Status: 429, RetryAfter: "Wed, 21 Oct 2026 07:28:00 GMT"}},
		{"post /oss/ reset-after=1024", Fault{Method: "POST", PathPrefix: "/oss/", ResetAfterBytes: 1024}},
		{"POST /openim/object/complete_form_data drop", Fault{Method: "POST", PathPrefix: "/openim/object/complete_form_data", DropResponse: true}},
		{"GET /altcraft/ delay=1.5s status=503", Fault{Method: "GET", PathPrefix: "/altcraft/", Delay: 1500 * time.Millisecond, Status: 503}},
		{"GET /altcraft/api/download/ reset-response-after=100", Fault{Method: "GET", PathPrefix: "/altcraft/api/download/", ResetAfterResponseBytes: 100}},
		{"PUT /s3/b/ suffix=/a.txt drop", Fault{Method: "PUT", PathPrefix: "/s3/b/", PathSuffix: "/a.txt", DropResponse: true}},
		{"GET /mintegral/ query=file_name=a.txt status=503", Fault{Method: "GET", PathPrefix: "/mintegral/", Query: "file_name=a.txt", Status: 503}},
		{"POST /tpns/ respell=unknown count=2", Fault{Method: "POST", PathPrefix: "/tpns/", Respell: "unknown", Count: 2}},
	} {
		got, err := ParseFault(tc.spec)
		if err != nil {
			t.Errorf("%s: %v", tc.spec, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.spec, got, tc.want)
		}
		again, err := ParseFault(got.String())
		if err != nil || again != got {
			t.Errorf("%s: String() %q does not read back: %+v %v", tc.spec, got.String(), again, err)
		}
	}
	for spec, wantErr := range map[string]string{
		"":                         "want [METHOD] /path/prefix",
		"PUT s3 status=503":        "want [METHOD] /path/prefix",
		"PUT /s3/":                 "needs a status",
		"PUT /s3/ status=abc":      "status=abc",
		"PUT /s3/ status=999":      "not an HTTP status",
		"PUT /s3/ retry-after=1":   "retry-after needs a status",
		"PUT /s3/ status=503 drop": "exclude each other",
		"GET /a/ reset-response-after=1 reset-after=1": "exclude each other",
		"PUT /s3/ reset-after=10 drop=1":               "drop takes no value",
		"PUT /s3/ colour=red":                          "unknown key",
		"GET /a/ respell=kebab":                        "want one of camel, snake, pascal, unknown",
		"GET /a/ respell=camel drop":                   "exclude each other",
		"PUT /s3/ query=a status=503":                  "must be name=value",
		"PUT /s3/ query==1 status=503":                 "must be name=value",
		"PUT /s3/ suffix= status=503":                  "empty value",
		`PUT /s3/ retry-after="1`:                      "unterminated quote",
	} {
		_, err := ParseFault(spec)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: err = %v, want it to contain %q", spec, err, wantErr)
		}
	}
}

// A suffix or query narrows a fault to one object or one call among
// requests that share the prefix.
func TestFaultSuffixAndQuery(t *testing.T) {
	for _, tc := range []struct {
		f    Fault
		url  string
		hits bool
	}{
		{Fault{PathPrefix: "/s3/b/", PathSuffix: "/a.txt", Status: 503}, "/s3/b/k/1/a.txt", true},
		{Fault{PathPrefix: "/s3/b/", PathSuffix: "/a.txt", Status: 503}, "/s3/b/k/1/data.txt", false},
		{Fault{PathPrefix: "/s3/b/", PathSuffix: "/a.txt", Status: 503}, "/s3/c/k/1/a.txt", false},
		{Fault{PathPrefix: "/m/", Query: "file_name=a.txt", Status: 503}, "/m/p?file_name=a.txt&x=1", true},
		{Fault{PathPrefix: "/m/", Query: "file_name=a.txt", Status: 503}, "/m/p?file_name=b.txt", false},
		{Fault{PathPrefix: "/m/", Query: "ta_ids=3", Status: 503}, "/m/p?ta_ids=31", false},
		{Fault{PathPrefix: "/m/", Query: "ta_ids=3", Status: 503}, "/m/p", false},
	} {
		p := &pendingFault{Fault: tc.f, remaining: 1}
		if got := p.matches(httptest.NewRequest(http.MethodGet, tc.url, nil)); got != tc.hits {
			t.Errorf("%s on %s: matches %v, want %v", tc.f, tc.url, got, tc.hits)
		}
	}
}

func TestAdminFaultsEndpoint(t *testing.T) {
	s, _ := startTest(t)
	admin := s.URL() + AdminFaultsPath
	post := func(body string) *http.Response {
		t.Helper()
		resp, err := freshClient.Post(admin, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp
	}
	if resp := post(`{"method":"PUT","path_prefix":"/s3/","status":503,"count":2,"delay":"10ms"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("JSON fault: HTTP %d", resp.StatusCode)
	}
	if resp := post(`GET /altcraft/ status=429 retry-after=2`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("text fault: HTTP %d", resp.StatusCode)
	}
	if resp := post(`{"path_prefix":"/m/","path_suffix":"/a.txt","query":"x=1","status":500}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("JSON fault with suffix and query: HTTP %d", resp.StatusCode)
	}
	if resp := post(`{"path_prefix":"/s3/","bogus":1}`); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown field: HTTP %d, want 400", resp.StatusCode)
	}
	if resp := post(`PUT /s3/`); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("fault without action: HTTP %d, want 400", resp.StatusCode)
	}
	want := []Fault{
		{Method: "PUT", PathPrefix: "/s3/", Status: 503, Count: 2, Delay: 10 * time.Millisecond},
		{Method: "GET", PathPrefix: "/altcraft/", Status: 429, RetryAfter: "2", Count: 1},
		{PathPrefix: "/m/", PathSuffix: "/a.txt", Query: "x=1", Status: 500, Count: 1},
	}
	got := s.PendingFaults()
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("pending %+v, want %+v", got, want)
	}

	resp, err := freshClient.Do(presignedPut(t, s, "bucket", "a.txt", []byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("HTTP %d, want the posted 503", resp.StatusCode)
	}

	req, _ := http.NewRequest(http.MethodDelete, admin, nil)
	resp, err = freshClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || len(s.PendingFaults()) != 0 {
		t.Fatalf("DELETE: HTTP %d, %d faults left", resp.StatusCode, len(s.PendingFaults()))
	}
	resp, err = freshClient.Do(presignedPut(t, s, "bucket", "a.txt", []byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after DELETE: HTTP %d, want 200", resp.StatusCode)
	}
}

func TestRequestLog(t *testing.T) {
	var mu sync.Mutex
	var records []RequestRecord
	s, err := New(Config{Dir: t.TempDir(), RequestLog: func(r RequestRecord) {
		mu.Lock()
		defer mu.Unlock()
		records = append(records, r)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	body := []byte("imei\n123\n")
	req := presignedPut(t, s, "bucket", "log.txt", body)
	resp, err := freshClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	s.AddFault(Fault{Method: http.MethodPut, PathPrefix: PrefixS3 + "/", ResetAfterBytes: 2})
	_, _ = freshClient.Do(presignedPut(t, s, "bucket", "reset.txt", body))

	// The server logs a reset after the client already saw it.
	deadline := time.Now().Add(5 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	for len(records) < 2 && time.Now().Before(deadline) {
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
	}
	if len(records) != 2 {
		t.Fatalf("%d records, want 2: %v", len(records), records)
	}
	ok, reset := records[0], records[1]
	if ok.Method != http.MethodPut || ok.Path != PrefixS3+"/bucket/log.txt" || ok.Status != http.StatusOK || ok.BytesIn != int64(len(body)) || ok.Fault != "" {
		t.Errorf("record %+v", ok)
	}
	if reset.Status != 0 || reset.BytesIn != 2 || !strings.Contains(reset.Fault, "reset") {
		t.Errorf("record %+v, want a reset after 2 bytes", reset)
	}
	for _, r := range records {
		line := r.String()
		if strings.Contains(line, "X-Amz-Signature") || strings.Contains(line, "?") {
			t.Errorf("log line carries the query string: %s", line)
		}
	}
	if line := reset.String(); !strings.HasPrefix(line, "PUT /s3/bucket/reset.txt reset in=2 out=0 ") {
		t.Errorf("line %q", line)
	}
}
