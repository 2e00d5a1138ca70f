package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// pattern is an endless deterministic byte stream, so big bodies need no
// memory on either side.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.n*7 + p.n>>8)
		p.n++
	}
	return len(b), nil
}

func patternSHA(size int64) string {
	h := sha256.New()
	_, _ = io.CopyN(h, &pattern{}, size)
	return hex.EncodeToString(h.Sum(nil))
}

func TestDownloadStreamsWithFlatMemory(t *testing.T) {
	const size = 64 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = io.CopyN(w, &pattern{}, size)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "big.csv")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, err := testPlatform(srv.Client()).Download(context.Background(), DownloadRequest{URL: srv.URL + "/big.csv", Path: path})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if d.Size != size || d.SHA256 != patternSHA(size) || d.Path != path {
		t.Fatalf("downloaded %+v", d)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != size || st.Mode().Perm() != 0o600 {
		t.Fatalf("file on disk: %v %v", st, err)
	}
	// Client and server together allocate far less than the body: it was
	// never held in memory.
	t.Logf("allocated %s", HumanBytes(int64(after.TotalAlloc-before.TotalAlloc)))
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/8 {
		t.Fatalf("allocated %s for a %s download", HumanBytes(int64(alloc)), HumanBytes(size))
	}
}

func TestDownloadRetriesTransientFailures(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("a,b\n1,2\n"))
	}))
	defer srv.Close()
	d, err := testPlatform(srv.Client()).Download(context.Background(), DownloadRequest{URL: srv.URL + "/x.csv", Path: filepath.Join(t.TempDir(), "x.csv")})
	if err != nil || calls.Load() != 2 || d.Size != 8 {
		t.Fatalf("download = %+v, %v after %d calls", d, err, calls.Load())
	}
}

func TestDownloadFailureKeepsTheQueryOutAndNoFileBehind(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Token required", http.StatusUnauthorized)
	}))
	defer srv.Close()
	dir := t.TempDir()
	_, err := testPlatform(srv.Client()).Download(context.Background(), DownloadRequest{URL: srv.URL + "/x.csv?token=secret-value", Path: filepath.Join(dir, "x.csv")})
	se, ok := err.(*HTTPError)
	if !ok || se.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "Token required") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "secret-value") {
		t.Fatalf("error leaks the query: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed download left %d files", len(entries))
	}
}
