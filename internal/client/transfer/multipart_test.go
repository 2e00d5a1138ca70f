package transfer

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// partServer records UploadPart requests: it stores each part's md5 and
// answers with a quoted ETag, like S3. fail decides per request whether
// to answer with an error status instead.
type partServer struct {
	*httptest.Server
	mu       sync.Mutex
	parts    map[int]string // part number -> md5 of the last stored body
	attempts map[int]int
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	hold     time.Duration
	fail     func(part, attempt int) int
	badReq   []string
}

func newPartServer(t *testing.T) *partServer {
	ps := &partServer{parts: map[int]string{}, attempts: map[int]int{}}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ps.inFlight.Add(1)
		defer ps.inFlight.Add(-1)
		for {
			m := ps.maxSeen.Load()
			if n <= m || ps.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		part, _ := strconv.Atoi(r.URL.Query().Get("partNumber"))
		ps.mu.Lock()
		ps.attempts[part]++
		attempt := ps.attempts[part]
		if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
			ps.badReq = append(ps.badReq, fmt.Sprintf("part %d sent without Content-Length", part))
		}
		if r.Header.Get("Authorization") != "" {
			ps.badReq = append(ps.badReq, fmt.Sprintf("part %d sent an Authorization header", part))
		}
		ps.mu.Unlock()
		h := md5.New()
		if _, err := io.Copy(h, r.Body); err != nil {
			return
		}
		if ps.hold > 0 {
			select {
			case <-time.After(ps.hold):
			case <-r.Context().Done():
				return
			}
		}
		if ps.fail != nil {
			if code := ps.fail(part, attempt); code != 0 {
				w.WriteHeader(code)
				_, _ = w.Write([]byte("<Error><Code>Injected</Code><Message>injected failure</Message></Error>"))
				return
			}
		}
		sum := hex.EncodeToString(h.Sum(nil))
		ps.mu.Lock()
		ps.parts[part] = sum
		ps.mu.Unlock()
		w.Header().Set("ETag", `"`+sum+`"`)
	}))
	t.Cleanup(ps.Close)
	return ps
}

func (ps *partServer) started() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.attempts)
}

func (ps *partServer) attemptsOf(part int) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.attempts[part]
}

func (ps *partServer) urls(count int) []PartURL {
	var out []PartURL
	for i := count; i >= 1; i-- { // any order is accepted
		out = append(out, PartURL{Number: i, URL: fmt.Sprintf("%s/bucket/key?partNumber=%d&uploadId=u1&X-Amz-Signature=secret", ps.URL, i)})
	}
	return out
}

func writeRandom(t *testing.T, size int64) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data.bin")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p, hex.EncodeToString(h.Sum(nil))
}

func partMD5s(t *testing.T, path string, partSize int64) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	for {
		h := md5.New()
		n, err := io.CopyN(h, f, partSize)
		if n > 0 {
			out = append(out, hex.EncodeToString(h.Sum(nil)))
		}
		if err != nil {
			return out
		}
	}
}

func TestUploadPartsSendsEveryPartAndUnquotesETags(t *testing.T) {
	ps := newPartServer(t)
	ps.hold = 20 * time.Millisecond
	const partSize = 64 << 10
	path, sum := writeRandom(t, 10*partSize+123)
	f, err := OpenFile(path, sum)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := testPlatform(ps.Client()).UploadParts(context.Background(), MultipartRequest{
		File: f, PartSize: partSize, Parts: ps.urls(11), Concurrency: 3,
		Header: http.Header{"Content-Type": {"application/octet-stream"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.MD5 != sum {
		t.Errorf("MD5 = %s, want %s", res.MD5, sum)
	}
	want := partMD5s(t, path, partSize)
	if len(res.Parts) != 11 {
		t.Fatalf("got %d parts, want 11", len(res.Parts))
	}
	for i, p := range res.Parts {
		if p.Number != i+1 {
			t.Errorf("part %d has number %d", i, p.Number)
		}
		if p.ETag != want[i] {
			t.Errorf("part %d ETag %q, want unquoted %q", p.Number, p.ETag, want[i])
		}
		if ps.parts[p.Number] != want[i] {
			t.Errorf("part %d stored md5 %s, want %s", p.Number, ps.parts[p.Number], want[i])
		}
	}
	if res.Parts[10].Size != 123 {
		t.Errorf("last part size %d, want 123", res.Parts[10].Size)
	}
	if m := ps.maxSeen.Load(); m > 3 || m < 2 {
		t.Errorf("max parts in flight = %d, want 2..3 with concurrency 3", m)
	}
	if len(ps.badReq) > 0 {
		t.Errorf("bad requests: %v", ps.badReq)
	}
}

func TestUploadPartsRetriesOnlyTheFailedPart(t *testing.T) {
	ps := newPartServer(t)
	ps.fail = func(part, attempt int) int {
		if part == 2 && attempt <= 2 {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	const partSize = 32 << 10
	path, sum := writeRandom(t, 4*partSize)
	f, err := OpenFile(path, sum)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = testPlatform(ps.Client()).UploadParts(context.Background(), MultipartRequest{
		File: f, PartSize: partSize, Parts: ps.urls(4), Concurrency: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	for part, want := range map[int]int{1: 1, 2: 3, 3: 1, 4: 1} {
		if got := ps.attemptsOf(part); got != want {
			t.Errorf("part %d: %d attempts, want %d", part, got, want)
		}
	}
}

func TestUploadPartsStopsOnPermanentFailure(t *testing.T) {
	ps := newPartServer(t)
	ps.hold = 50 * time.Millisecond
	ps.fail = func(part, attempt int) int {
		if part == 1 {
			return http.StatusForbidden
		}
		return 0
	}
	const partSize = 16 << 10
	path, sum := writeRandom(t, 40*partSize)
	f, err := OpenFile(path, sum)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = testPlatform(ps.Client()).UploadParts(context.Background(), MultipartRequest{
		File: f, PartSize: partSize, Parts: ps.urls(40), Concurrency: 2,
	})
	var se *HTTPError
	if !errors.As(err, &se) || se.Status != http.StatusForbidden || se.Code != "Injected" {
		t.Fatalf("err = %v, want the store's 403 Injected error", err)
	}
	if !strings.Contains(err.Error(), "part 1 of 40") {
		t.Errorf("error does not name the part: %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the presigned query: %v", err)
	}
	if n := ps.started(); n > 4 {
		t.Errorf("%d parts were attempted after part 1 failed for good; the rest should have stopped", n)
	}
}

func TestUploadPartsCancelStopsPartsInFlight(t *testing.T) {
	ps := newPartServer(t)
	ps.hold = 10 * time.Second
	const partSize = 16 << 10
	path, sum := writeRandom(t, 8*partSize)
	f, err := OpenFile(path, sum)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = testPlatform(ps.Client()).UploadParts(ctx, MultipartRequest{File: f, PartSize: partSize, Parts: ps.urls(8), Concurrency: 4})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancel took %s; parts in flight were not stopped", d)
	}
	if ps.started() > 4 {
		t.Errorf("%d parts started; no new part should start after cancel", len(ps.attempts))
	}
}

func TestUploadPartsDetectsContentChangedSincePlan(t *testing.T) {
	ps := newPartServer(t)
	const partSize = 16 << 10
	path, _ := writeRandom(t, 3*partSize)
	f, err := OpenFile(path, strings.Repeat("0", 32))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = testPlatform(ps.Client()).UploadParts(context.Background(), MultipartRequest{File: f, PartSize: partSize, Parts: ps.urls(3)})
	if !errors.Is(err, ErrContentChanged) {
		t.Fatalf("err = %v, want ErrContentChanged", err)
	}
}

func TestUploadPartsDetectsFileShrinking(t *testing.T) {
	ps := newPartServer(t)
	const partSize = 16 << 10
	path, sum := writeRandom(t, 3*partSize)
	f, err := OpenFile(path, sum)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(path, partSize); err != nil {
		t.Fatal(err)
	}
	_, err = testPlatform(ps.Client()).UploadParts(context.Background(), MultipartRequest{File: f, PartSize: partSize, Parts: ps.urls(3)})
	if !errors.Is(err, ErrContentChanged) {
		t.Fatalf("err = %v, want ErrContentChanged", err)
	}
}

func TestUploadPartsRejectsWrongPartURLs(t *testing.T) {
	path, sum := writeRandom(t, 100)
	f, err := OpenFile(path, sum)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// 100 bytes in parts of 50: exactly parts 1 and 2.
	for name, parts := range map[string][]PartURL{
		"too few":   {{1, "http://x/1"}},
		"duplicate": {{1, "http://x/1"}, {1, "http://x/1"}},
		"no url":    {{1, ""}, {2, "http://x/2"}},
		"zero":      {{0, "http://x/0"}, {1, "http://x/1"}},
		"too high":  {{1, "http://x/1"}, {3, "http://x/3"}},
	} {
		if _, err := testPlatform(http.DefaultClient).UploadParts(context.Background(), MultipartRequest{File: f, PartSize: 50, Parts: parts}); err == nil || !strings.Contains(err.Error(), "part") {
			t.Errorf("%s: err = %v, want a part-list error", name, err)
		}
	}
}

func TestPartCount(t *testing.T) {
	for _, c := range []struct {
		size, part int64
		want       int
	}{{0, 5, 1}, {1, 5, 1}, {5, 5, 1}, {6, 5, 2}, {10, 5, 2}, {11, 5, 3}} {
		if got := PartCount(c.size, c.part); got != c.want {
			t.Errorf("PartCount(%d, %d) = %d, want %d", c.size, c.part, got, c.want)
		}
	}
}
