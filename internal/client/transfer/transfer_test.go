package transfer

import (
	"context"
	"crypto/md5"
	"encoding/hex"
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
	"sync/atomic"
	"testing"
	"time"
)

func tempFile(t *testing.T, content string) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(content))
	return p, hex.EncodeToString(sum[:])
}

func open(t *testing.T, path, sum string) *File {
	t.Helper()
	f, err := OpenFile(path, sum)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func TestPutSendsFixedLengthAndRetriesTransientFailures(t *testing.T) {
	content := strings.Repeat("device-id\n", 1000)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.ContentLength != int64(len(content)) || len(r.TransferEncoding) != 0 {
			t.Errorf("attempt %d: Content-Length %d, Transfer-Encoding %v", n, r.ContentLength, r.TransferEncoding)
		}
		got, _ := io.ReadAll(r.Body)
		if string(got) != content {
			t.Errorf("attempt %d: body differs", n)
		}
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("ETag", `"abc"`)
	}))
	defer srv.Close()
	path, sum := tempFile(t, content)
	f := open(t, path, sum)
	res, err := testPlatform(srv.Client()).Put(context.Background(), PutRequest{URL: srv.URL + "/k?X-Amz-Signature=secret", File: f})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || res.ETag != `"abc"` {
		t.Fatalf("calls=%d etag=%s", calls.Load(), res.ETag)
	}
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestPutDoesNotRetryClientErrorsAndHidesTheQuery(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("<Error><Code>SignatureDoesNotMatch</Code><Message>bad</Message></Error>"))
	}))
	defer srv.Close()
	path, sum := tempFile(t, "x\n")
	_, err := testPlatform(srv.Client()).Put(context.Background(), PutRequest{URL: srv.URL + "/k?X-Amz-Signature=s3cr3t", File: open(t, path, sum)})
	var se *HTTPError
	if !errors.As(err, &se) || se.Code != "SignatureDoesNotMatch" || calls.Load() != 1 {
		t.Fatalf("err=%v calls=%d", err, calls.Load())
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error leaks the presigned query: %v", err)
	}
}

func TestPostFormPutsFileLastWithExactLength(t *testing.T) {
	content := "acc-1\nacc-2\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) != 0 || r.ContentLength <= 0 {
			t.Errorf("not a fixed-length body: %d %v", r.ContentLength, r.TransferEncoding)
		}
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mr := multipart.NewReader(r.Body, params["boundary"])
		var names []string
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			names = append(names, p.FormName())
			b, _ := io.ReadAll(p)
			if p.FormName() == "upload" && (string(b) != content || p.FileName() != "list.txt") {
				t.Errorf("file part %q %q", p.FileName(), b)
			}
		}
		if strings.Join(names, ",") != "key,policy,upload" {
			t.Errorf("field order %v", names)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	path, sum := tempFile(t, content)
	_, err := testPlatform(srv.Client()).PostForm(context.Background(), FormPost{
		URL:       srv.URL,
		Fields:    []FormField{{"key", "a/b"}, {"policy", "p"}},
		FileField: "upload", FileName: "list.txt", File: open(t, path, sum),
		SuccessCodes: []int{204},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A file whose bytes no longer match the plan never yields its last byte,
// so no server ever receives a complete body.
func TestFileChangedSincePlanWithholdsTheLastByte(t *testing.T) {
	path, _ := tempFile(t, "abc\n")
	_, other := tempFile(t, "abd\n")
	f := open(t, path, other)
	r, _ := f.Reader(nil)
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, ErrContentChanged) || n != f.Size-1 {
		t.Fatalf("read %d of %d bytes, err = %v; want the last byte withheld and ErrContentChanged", n, f.Size, err)
	}
	if err := f.Verify(); err == nil {
		t.Fatal("Verify accepted an incomplete pass")
	}
	// The planned content passes whole.
	same := open(t, path, func() string { _, s := tempFile(t, "abc\n"); return s }())
	r, _ = same.Reader(nil)
	if n, err := io.Copy(io.Discard, r); err != nil || n != same.Size {
		t.Fatalf("unchanged file: read %d, err %v", n, err)
	}
}

// A form whose file changed is cut before its last byte: the server sees
// a body shorter than its Content-Length and stores nothing.
func TestPostFormOfChangedFileNeverCompletes(t *testing.T) {
	var completed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err == nil {
			completed.Add(1)
		}
	}))
	defer srv.Close()
	path, _ := tempFile(t, strings.Repeat("x", 100000))
	_, planned := tempFile(t, strings.Repeat("y", 100000))
	_, err := testPlatform(srv.Client()).PostForm(context.Background(), FormPost{URL: srv.URL, FileField: "file", FileName: "f", File: open(t, path, planned)})
	if !errors.Is(err, ErrContentChanged) {
		t.Fatalf("err = %v", err)
	}
	if completed.Load() != 0 {
		t.Fatal("the server received a complete body")
	}
}

type recordLogger struct {
	mu   sync.Mutex
	msgs []map[string]any
}

func (l *recordLogger) Info(_ context.Context, msg string, f map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f["msg"] = msg
	l.msgs = append(l.msgs, f)
}
func (l *recordLogger) Debug(context.Context, string, map[string]any) {}

func TestProgressLogsRateAndETA(t *testing.T) {
	log := &recordLogger{}
	p := NewProgress(context.Background(), log, "upload", 403439616)
	base := time.Now()
	tick := base
	p.now = func() time.Time { return tick }
	p.started, p.lastLog = base, base
	tick = base.Add(3 * time.Second)
	p.Add(121031884) // 30% in 3s
	p.Finish()
	if len(log.msgs) != 2 {
		t.Fatalf("logs: %v", log.msgs)
	}
	first := log.msgs[0]
	want := map[string]any{"progress": "115.4 MiB of 384.8 MiB", "bytes_done": "121031884", "bytes_total": "403439616", "percent": "30.0%", "eta": "7s", "rate": "38.5 MiB/s", "elapsed": "3s"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
}

func TestRedactURL(t *testing.T) {
	got := RedactURL("https://user:pw@host/a/b?X-Amz-Signature=1&token=2#f")
	if got != "https://host/a/b" {
		t.Fatalf("RedactURL = %q", got)
	}
}

// testPlatform is a Platform over hc with millisecond backoffs.
func testPlatform(hc *http.Client) *Platform {
	return NewPlatform("Test", Options{HTTP: hc, Retry: Retry{Base: time.Millisecond, Max: 2 * time.Millisecond}})
}

// dropFirstAnswer is a server that reads every request in full, acts on it
// (counts it), and closes the connection instead of answering the first.
func dropFirstAnswer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var received atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		if received.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &received
}

// A direct multipart upload whose duplicate is harmless is sent again when
// its answer is lost; one whose duplicate is visible is not, and the error
// says why; one that declares nothing is refused before any request.
func TestDirectFormDuplicatePolicy(t *testing.T) {
	path, sum := tempFile(t, "acc-1\nacc-2\n")
	post := func(srv *httptest.Server, d Duplicate) (*Result, error) {
		return testPlatform(srv.Client()).PostForm(context.Background(), FormPost{
			URL: srv.URL, FileField: "file", FileName: "a.txt", File: open(t, path, sum), ToAPI: true, Duplicate: d,
		})
	}
	srv, received := dropFirstAnswer(t)
	res, err := post(srv, DuplicateHarmless)
	if err != nil || string(res.Body) != `{"ok":true}` || received.Load() != 2 {
		t.Fatalf("harmless: res=%v err=%v after %d requests; want the upload sent again", res, err, received.Load())
	}

	srv, received = dropFirstAnswer(t)
	_, err = post(srv, DuplicateVisible)
	if !Ambiguous(err) || !strings.Contains(err.Error(), "may have taken effect, so it was not sent again") || received.Load() != 1 {
		t.Fatalf("visible: err=%v after %d requests; want one request and an ambiguous failure", err, received.Load())
	}

	srv, received = dropFirstAnswer(t)
	_, err = post(srv, duplicateUndeclared)
	if err == nil || !strings.Contains(err.Error(), "did not declare what a duplicate costs") || received.Load() != 0 {
		t.Fatalf("undeclared: err=%v after %d requests", err, received.Load())
	}
}

// An API's answer to an upload is kept up to AnswerLimit, also when the
// platform reads it for a retry first; a longer one is cut and says so.
func TestFormAnswerKeptUpToTheLimit(t *testing.T) {
	path, sum := tempFile(t, "acc-1\n")
	for _, size := range []int{200 << 10, AnswerLimit + 10} {
		answer := `["` + strings.Repeat("x", size-4) + `"]`
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, answer)
		}))
		t.Cleanup(srv.Close)
		for _, retryIf := range []func(int, []byte) bool{nil, func(int, []byte) bool { return false }} {
			res, err := testPlatform(srv.Client()).PostForm(context.Background(), FormPost{
				URL: srv.URL, FileField: "file", FileName: "a.txt", File: open(t, path, sum), ToAPI: true, Duplicate: DuplicateHarmless, RetryIf: retryIf,
			})
			if err != nil {
				t.Fatal(err)
			}
			want, cut := answer, false
			if size > AnswerLimit {
				want, cut = answer[:AnswerLimit], true
			}
			if string(res.Body) != want || res.Cut != cut {
				t.Errorf("answer of %d bytes (retryIf %v): kept %d bytes, cut %v; want %d, %v", len(answer), retryIf != nil, len(res.Body), res.Cut, len(want), cut)
			}
		}
	}
}

// A form of some of a file's ranges sends exactly those bytes, with their
// total as the file part's length, and sends them again in full on a
// retry; a file that changed size since the ranges were chosen, or whose
// ranges hash differently, sends nothing complete.
func TestPostFormOfFileRanges(t *testing.T) {
	content := "title,city\nA,Berlin\nB,Hamburg\nC,Munich\n"
	header, tail := "title,city\n", "C,Munich\n"
	sum := md5.Sum([]byte(header + tail))
	bodyMD5 := hex.EncodeToString(sum[:])
	var calls, completed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mr := multipart.NewReader(r.Body, params["boundary"])
		p, err := mr.NextPart()
		if err != nil {
			t.Errorf("attempt %d: %v", n, err)
			return
		}
		got, err := io.ReadAll(p)
		if err != nil {
			return // a withheld last byte
		}
		completed.Add(1)
		if string(got) != header+tail {
			t.Errorf("attempt %d: file part %q, want %q", n, got, header+tail)
		}
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	path, _ := tempFile(t, content)
	ranges := []Range{{0, int64(len(header))}, {int64(len(content) - len(tail)), int64(len(tail))}}
	f, err := OpenFileRanges(path, int64(len(content)), bodyMD5, ranges...)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Size != int64(len(header+tail)) {
		t.Fatalf("Size %d, want %d", f.Size, len(header+tail))
	}
	if _, err := testPlatform(srv.Client()).PostForm(context.Background(), FormPost{URL: srv.URL, FileField: "file", FileName: "e.csv", File: f}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || completed.Load() != 2 || f.Verify() != nil || f.SentMD5() != bodyMD5 {
		t.Fatalf("calls %d, complete bodies %d, verify %v", calls.Load(), completed.Load(), f.Verify())
	}

	if _, err := OpenFileRanges(path, int64(len(content))-1, bodyMD5, ranges...); !errors.Is(err, ErrContentChanged) {
		t.Fatalf("a file of another size: err = %v", err)
	}
	if _, err := OpenFileRanges(path, int64(len(content)), "", Range{int64(len(content)) - 2, 3}); err == nil {
		t.Fatal("a range past the end was accepted")
	}
	_, other := tempFile(t, "title,city\nD,Munich\n")
	changed, err := OpenFileRanges(path, int64(len(content)), other, ranges...)
	if err != nil {
		t.Fatal(err)
	}
	defer changed.Close()
	completed.Store(0)
	if _, err := testPlatform(srv.Client()).PostForm(context.Background(), FormPost{URL: srv.URL, FileField: "file", FileName: "e.csv", File: changed}); !errors.Is(err, ErrContentChanged) || completed.Load() != 0 {
		t.Fatalf("ranges hashing differently: err = %v, complete bodies %d", err, completed.Load())
	}
}
