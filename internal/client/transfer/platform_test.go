package transfer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// statusServer answers with the given statuses in turn, then 200.
func statusServer(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n := int(calls.Add(1))
		if n <= len(statuses) {
			w.Header().Set("Retry-After", r.Header.Get("X-Test-Retry-After"))
			w.WriteHeader(statuses[n-1])
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// Each retry is logged at INFO with the operation (without its query),
// the attempt and the wait.
func TestRetriesAreLoggedWithOpAttemptAndWait(t *testing.T) {
	srv, calls := statusServer(t, http.StatusServiceUnavailable, http.StatusBadGateway)
	log := &recordLogger{}
	p := NewPlatform("Test", Options{HTTP: srv.Client(), Log: log, Retry: Retry{Base: time.Millisecond, Max: 2 * time.Millisecond}})
	resp, err := p.Call(context.Background(), APIRequest{Method: http.MethodGet, URL: srv.URL + "/v1/things?token=s3cr3t", Duplicate: DuplicateHarmless})
	if err != nil || resp.Status != http.StatusOK || calls.Load() != 3 || resp.Attempts != 3 {
		t.Fatalf("resp %+v, err %v, calls %d", resp, err, calls.Load())
	}
	if len(log.msgs) != 2 {
		t.Fatalf("logged %v", log.msgs)
	}
	for i, m := range log.msgs {
		if m["op"] != "GET "+srv.URL+"/v1/things" || m["attempt"] != i+2 || m["wait"] == "" || m["msg"] != "retrying Test API request" {
			t.Errorf("retry log %d: %v", i, m)
		}
	}
}

// Retry-After is honoured, in seconds or as an HTTP date, up to the cap.
func TestRetryAfterIsHonouredUpToTheCap(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := NewPlatform("Test", Options{Now: func() time.Time { return now }, Retry: Retry{MaxRetryAfter: 30 * time.Second}})
	for value, want := range map[string]time.Duration{
		"2":    2 * time.Second,
		"0":    0,
		"3600": 30 * time.Second,
		now.Add(7 * time.Second).Format(http.TimeFormat): 7 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):    0,
		now.Add(time.Hour).Format(http.TimeFormat):       30 * time.Second,
	} {
		if got, ok := p.retryAfter(value); !ok || got != want {
			t.Errorf("Retry-After %q: %s, %v; want %s", value, got, ok, want)
		}
	}
	if _, ok := p.retryAfter("soon"); ok {
		t.Error("an unparseable Retry-After was used")
	}

	srv, calls := statusServer(t, http.StatusTooManyRequests)
	p = NewPlatform("Test", Options{HTTP: srv.Client()})
	start := time.Now()
	if _, err := p.Call(context.Background(), APIRequest{Method: http.MethodGet, URL: srv.URL, Header: http.Header{"X-Test-Retry-After": {"1"}}, Duplicate: DuplicateHarmless}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); calls.Load() != 2 || waited < time.Second {
		t.Fatalf("calls %d after %s; want a second call after Retry-After: 1", calls.Load(), waited)
	}
}

// A create is repeated after 429 and 503 (the server did not act), but
// not after 500, 502 or 504: the error says so and Ambiguous reports it.
func TestCreatesAreRepeatedOnlyWhenTheServerDidNotAct(t *testing.T) {
	for status, repeated := range map[int]bool{429: true, 503: true, 500: false, 502: false, 504: false} {
		srv, calls := statusServer(t, status)
		p := NewPlatform("Test", Options{HTTP: srv.Client(), Retry: Retry{Base: time.Millisecond}})
		_, err := p.Call(context.Background(), APIRequest{Method: http.MethodPost, URL: srv.URL, Body: []byte(`{}`), Duplicate: DuplicateVisible})
		if repeated {
			if err != nil || calls.Load() != 2 {
				t.Errorf("%d: err %v after %d calls; want a retry", status, err, calls.Load())
			}
			continue
		}
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != status || !Ambiguous(err) || calls.Load() != 1 || !strings.Contains(err.Error(), "may have taken effect") {
			t.Errorf("%d: err %v after %d calls; want one ambiguous attempt", status, err, calls.Load())
		}
	}
}

// A call that does not say what a duplicate costs is refused before it is
// sent, as an upload to an API is.
func TestCallWithoutDuplicateDeclaredIsRefused(t *testing.T) {
	srv, calls := statusServer(t, 200)
	p := NewPlatform("Test", Options{HTTP: srv.Client()})
	_, err := p.Call(context.Background(), APIRequest{Method: http.MethodPost, URL: srv.URL + "/x?token=s3cr3t", Body: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "APIRequest.Duplicate") || strings.Contains(err.Error(), "s3cr3t") || calls.Load() != 0 {
		t.Fatalf("err %v after %d calls; want a refusal before sending", err, calls.Load())
	}
}

// A request that is safe to repeat is retried on every transient status,
// and gives up after the attempts with platform, status and count.
func TestPermanentFaultGivesUpAfterTheAttempts(t *testing.T) {
	srv, calls := statusServer(t, 502, 502, 502, 502, 502, 502)
	p := NewPlatform("Test", Options{HTTP: srv.Client(), Retry: Retry{Base: time.Millisecond}})
	_, err := p.Call(context.Background(), APIRequest{Method: http.MethodGet, URL: srv.URL + "/x", Duplicate: DuplicateHarmless})
	var he *HTTPError
	if !errors.As(err, &he) || he.Attempts != 5 || calls.Load() != 5 || Ambiguous(err) {
		t.Fatalf("err %#v after %d calls", err, calls.Load())
	}
	if want := "Test API answered HTTP 502 (retried 4 times) to GET " + srv.URL + "/x"; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err %q, want it to start with %q", err, want)
	}
}

// The caller's deadline is not the API limit: a transfer stopped by its
// context says so and unwraps to the context's error.
func TestCallerDeadlineIsReportedAsStopped(t *testing.T) {
	silent := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-silent // never answers while the test runs
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(silent) }) // runs first
	path, sum := tempFile(t, "abc\n")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := testPlatform(srv.Client()).Put(ctx, PutRequest{URL: srv.URL + "/k", File: open(t, path, sum)})
	var se *StoppedError
	if !errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %#v", err)
	}
}

// An answer after a resend says whether an earlier attempt may have been
// acted on: after a lost answer or a 500 it may, after a 429 or 503 not.
func TestAnswerAfterAnUnclearAttemptSaysSo(t *testing.T) {
	srv, _ := dropFirstAnswer(t)
	resp, err := testPlatform(srv.Client()).Call(context.Background(), APIRequest{Method: http.MethodPut, URL: srv.URL, Body: []byte(`{}`), Duplicate: DuplicateHarmless})
	if err != nil || resp.Attempts != 2 || !resp.AfterUnclear {
		t.Fatalf("lost answer: %+v %v; want a second attempt after an unclear one", resp, err)
	}
	for status, unclear := range map[int]bool{500: true, 502: true, 504: true, 429: false, 503: false} {
		srv, _ := statusServer(t, status)
		resp, err := testPlatform(srv.Client()).Call(context.Background(), APIRequest{Method: http.MethodPut, URL: srv.URL, Body: []byte(`{}`), Duplicate: DuplicateHarmless})
		if err != nil || resp.Attempts != 2 || resp.AfterUnclear != unclear {
			t.Errorf("%d: %+v %v; want AfterUnclear %v", status, resp, err, unclear)
		}
	}
	srv, _ = statusServer(t)
	resp, err = testPlatform(srv.Client()).Call(context.Background(), APIRequest{Method: http.MethodPut, URL: srv.URL, Body: []byte(`{}`), Duplicate: DuplicateHarmless})
	if err != nil || resp.AfterUnclear {
		t.Fatalf("first answer: %+v %v", resp, err)
	}
}
