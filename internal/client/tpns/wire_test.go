package tpns

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// The answer is read in the spellings a Tencent Cloud server plausibly
// sends (TPNS's own pages vary between retCode and ErrMsg, number and
// string).
func TestWireReadsTheSpellingsOfAFamily(t *testing.T) {
	for body, want := range map[string]answer{
		`{"retCode":0,"errMsg":"","uploadId":12345}`:             {UploadID: 12345},
		`{"ret_code":"0","err_msg":"","upload_id":"12345"}`:      {UploadID: 12345},
		`{"RetCode":0,"ErrMsg":"ok","UploadId":12345}`:           {ErrMsg: "ok", UploadID: 12345},
		`{"retCode":0,"result":{"uploadId":12345}}`:              {UploadID: 12345},
		`{"code":1008028,"message":"request too fast"}`:          {RetCode: 1008028, ErrMsg: "request too fast"},
		`{"data":{"retCode":1008003,"errMsg":"auth failure"}}`:   {RetCode: 1008003, ErrMsg: "auth failure"},
		`{"RetCode":"10030002","ErrorInfo":"AccessID mismatch"}`: {RetCode: 10030002, ErrMsg: "AccessID mismatch"},
	} {
		a, _, ok := readAnswer([]byte(body))
		if !ok || a != want {
			t.Errorf("%s: %+v, %v; want %+v", body, a, ok, want)
		}
	}
	for body, object := range map[string]bool{`<html>`: false, `[1]`: false, `{"status":"ok"}`: true} {
		if _, isObject, ok := readAnswer([]byte(body)); ok || isObject != object {
			t.Errorf("%s: read %v, object %v", body, ok, isObject)
		}
	}
	if !rateLimited(200, []byte(`{"ret_code":"1008028"}`)) || rateLimited(200, []byte(`{"retCode":1008004}`)) || !retryable(200, []byte(`{"RetCode":1008004}`)) {
		t.Error("rateLimited / retryable misread a code")
	}
}

// An upload answered in another spelling of the family succeeds.
func TestWireUploadInEverySpelling(t *testing.T) {
	for _, mode := range []string{"camel", "pascal", "snake"} {
		srv, c, _ := setup(t)
		srv.AddFault(sandbox.Fault{PathPrefix: sandbox.PrefixTPNS + UploadPath, Respell: mode})
		p, sum := write(t, "a.txt", "alice\nbob\n")
		res, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: sum})
		if err != nil || res.UploadID != srv.TPNSUploads()[0].UploadID {
			t.Fatalf("%s: %+v, %v", mode, res, err)
		}
	}
}

// An answer that fits no known spelling fails naming the platform, the
// call, the status, the request id and the answer's keys and types, never
// its values or the credentials, and asks for a report.
func TestWireUnknownShapeNamesCallStatusAndShape(t *testing.T) {
	srv, c, _ := setup(t)
	srv.AddFault(sandbox.Fault{PathPrefix: sandbox.PrefixTPNS + UploadPath, Respell: "unknown"})
	p, sum := write(t, "secret-name.txt", "alice\nbob\n")
	_, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "secret-name.txt", FileMD5: sum})
	var se *transfer.ShapeError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a *transfer.ShapeError", err, err)
	}
	msg := err.Error()
	for _, want := range []string{"TPNS POST /v3/push/package/upload:", "HTTP 200", "request id none sent", "no retCode",
		`{"zzerrMsgRenamed": string, "zzretCodeRenamed": number, "zzuploadIdRenamed": number}`, "report"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{c.SecretKey, c.AccessID, "secret-name", srv.URL()} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks %q:\n%s", secret, msg)
		}
	}

	// A success without an upload id names what is missing and the
	// request id the server sent.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = r.Body.Read(make([]byte, 1))
		w.Header().Set("X-Request-Id", "req-7")
		_, _ = w.Write([]byte(`{"retCode":0,"errMsg":"","package":{"ref":"x"}}`))
	}))
	defer api.Close()
	c = New(api.URL, "1500000001", "secret", transfer.Options{})
	_, err = c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: sum})
	if !errors.As(err, &se) || se.Missing != "uploadId" || se.RequestID != "X-Request-Id: req-7" || se.Shape != `{"errMsg": string, "package": {"ref": string}, "retCode": number}` {
		t.Fatalf("no upload id: %v", err)
	}
}

// The rate-limit code pauses every upload of the account, as an HTTP 429
// does: an upload started while the first waits out its backoff waits too.
func TestWireRateLimitCodePausesTheAccount(t *testing.T) {
	var mu sync.Mutex
	var records []sandbox.RequestRecord
	srv, err := sandbox.New(sandbox.Config{Dir: t.TempDir(), RequestLog: func(r sandbox.RequestRecord) {
		mu.Lock()
		defer mu.Unlock()
		records = append(records, r)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	srv.InjectFault("POST", UploadPath, 1, 200, `{"retCode":1008028,"errMsg":"request too fast"}`)
	creds := sandbox.DefaultCredentials()
	lim := transfer.NewLimiter(transfer.Limits{Write: transfer.Rate{N: 1000, Per: time.Second}}, nil)
	// The backoff is 200-400ms with its jitter.
	opts := transfer.Options{Limiter: lim, Retry: transfer.Retry{Base: 400 * time.Millisecond, Max: 400 * time.Millisecond}}
	first := New(srv.URL()+sandbox.PrefixTPNS, creds.TPNSAccessID, creds.TPNSSecretKey, opts)
	second := New(srv.URL()+sandbox.PrefixTPNS, creds.TPNSAccessID, creds.TPNSSecretKey, opts)
	p, sum := write(t, "a.txt", "alice\nbob\n")
	upload := func(c *Client) {
		if _, err := c.UploadPackage(context.Background(), UploadRequest{Path: p, FileName: "a.txt", FileMD5: sum}); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { upload(first) })
	for srv.Requests(sandbox.PrefixTPNS) == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the rate-limit answer has been read
	wg.Go(func() { upload(second) })
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(records) != 3 || records[0].Fault == "" {
		t.Fatalf("requests %v, want the rate-limited one and two more", records)
	}
	limitedAt := records[0].Start.Add(records[0].Duration)
	for _, r := range records[1:] {
		if d := r.Start.Sub(limitedAt); d < 180*time.Millisecond {
			t.Errorf("an upload went %s after the rate-limit code", d)
		}
	}
}
