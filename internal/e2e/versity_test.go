package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// The versitygw binary the harness runs: $VERSITYGW, else ./bin/versitygw
// at the repository root (where `make e2e-tools` installs it), else PATH.
const versityInstallHint = "run `make e2e-tools` (GOBIN=$(CURDIR)/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"

const (
	versityAccessKey = "E2EACCESSKEY"
	versitySecretKey = "e2e-secret-key-for-versitygw"
	versityRegion    = "us-east-1"
	versityBucket    = "audience-e2e"
)

// versityServer is one running versitygw process.
type versityServer struct {
	S3   *sandbox.ExternalS3
	Root string // posix backend directory; objects live under Root/Bucket/key
}

var (
	versityMu    sync.Mutex
	versityRoots = map[*sandbox.ExternalS3]string{}
)

// startVersity starts a private versitygw (posix backend in a temporary
// directory, a bucket created, a free port) for the test and stops it when
// the test ends. It skips the test when the binary is missing, unless CI is
// set, where a missing binary is a failure.
func startVersity(t *testing.T) *sandbox.ExternalS3 {
	t.Helper()
	return runVersity(t).S3
}

// versityPath is where the posix backend keeps key's bytes.
func versityPath(t *testing.T, ext *sandbox.ExternalS3, key string) string {
	t.Helper()
	versityMu.Lock()
	root, ok := versityRoots[ext]
	versityMu.Unlock()
	if !ok {
		t.Fatalf("versityPath: %s was not started by startVersity", ext.Endpoint)
	}
	return filepath.Join(root, ext.Bucket, filepath.FromSlash(key))
}

func versityBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p
	}
	if root, err := repoRoot(); err == nil {
		p := filepath.Join(root, "bin", "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("versitygw is not installed and CI is set, so the real-S3 suite cannot be skipped: %s", versityInstallHint)
	}
	t.Skipf("versitygw not found (not in $VERSITYGW, ./bin or PATH); skipping the real-S3 suite: %s", versityInstallHint)
	return ""
}

// repoRoot walks up from the test's directory to the module root.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

func runVersity(t *testing.T) *versityServer {
	t.Helper()
	bin := versityBinary(t)
	root := t.TempDir()
	// A bucket of the posix backend is a top-level directory.
	if err := os.Mkdir(filepath.Join(root, versityBucket), 0o755); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	// The free port is found by listening and closing; another process may
	// take it in between, so try a few times.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		srv, err := launchVersity(t, bin, root, port)
		if err == nil {
			versityMu.Lock()
			versityRoots[srv.S3] = root
			versityMu.Unlock()
			return srv
		}
		lastErr = err
	}
	t.Fatalf("versitygw did not start: %v", lastErr)
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

func launchVersity(t *testing.T, bin, root string, port int) (*versityServer, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logPath := filepath.Join(t.TempDir(), "versitygw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", addr, "--access", versityAccessKey, "--secret", versitySecretKey, "--region", versityRegion, "--quiet", "posix", root)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Keep the credentials out of the environment versitygw would also read.
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID=", "ROOT_SECRET_ACCESS_KEY=")
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error // read only after exited is closed
	go func() {
		waitErr = cmd.Wait()
		_ = logFile.Close()
		close(exited)
	}()
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	ext := &sandbox.ExternalS3{Endpoint: "http://" + addr, Region: versityRegion, AccessKey: versityAccessKey, SecretKey: versitySecretKey, Bucket: versityBucket}
	if err := waitVersityReady(ext, exited, &waitErr); err != nil {
		stop()
		return nil, fmt.Errorf("%w; versitygw log:\n%s", err, tail(logPath, 2000))
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("versitygw log:\n%s", tail(logPath, 4000))
		}
	})
	return &versityServer{S3: ext, Root: root}, nil
}

// waitVersityReady polls a signed bucket listing until it answers 200:
// the server is up, accepts the credentials and sees the bucket.
func waitVersityReady(ext *sandbox.ExternalS3, exited <-chan struct{}, waitErr *error) error {
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited before it was ready: %v", *waitErr)
		default:
		}
		u, err := ext.PresignBucket(url.Values{"list-type": {"2"}}, time.Minute)
		if err != nil {
			return err
		}
		resp, err := http.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("versitygw at %s not ready after 30s (last answer: %s)", ext.Endpoint, last)
}

func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log)"
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "(no log)"
	}
	off := max(st.Size()-n, 0)
	var b strings.Builder
	_, _ = io.Copy(&b, io.NewSectionReader(f, off, n))
	return b.String()
}

// assertStoredObject reads key back from the S3 server with a presigned GET
// and compares it, byte for byte and streaming, with the source file. It
// also checks the posix backend's file, which is what versitygw stored.
func assertStoredObject(t *testing.T, ext *sandbox.ExternalS3, key, source string) {
	t.Helper()
	u, err := ext.PresignGet(key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s from S3: %s", key, resp.Status)
	}
	src, err := os.Open(source)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = src.Close() }()
	if err := sameBytes(src, resp.Body); err != nil {
		t.Fatalf("object %s read back from S3 differs from %s: %v", key, source, err)
	}
	onDisk, err := os.Open(versityPath(t, ext, key))
	if err != nil {
		t.Fatalf("object %s not in versitygw's posix directory: %v", key, err)
	}
	defer func() { _ = onDisk.Close() }()
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if err := sameBytes(src, onDisk); err != nil {
		t.Fatalf("object %s on disk differs from %s: %v", key, source, err)
	}
}

// sameBytes compares two streams in fixed-size chunks.
func sameBytes(want, got io.Reader) error {
	const chunk = 64 << 10
	a, b := make([]byte, chunk), make([]byte, chunk)
	var off int64
	for {
		na, errA := io.ReadFull(want, a)
		nb, errB := io.ReadFull(got, b)
		if na != nb || !bytes.Equal(a[:na], b[:nb]) {
			for i := 0; i < min(na, nb); i++ {
				if a[i] != b[i] {
					return fmt.Errorf("first difference at byte %d", off+int64(i))
				}
			}
			return fmt.Errorf("lengths differ: source has %d bytes at offset %d, object has %d", na, off, nb)
		}
		off += int64(na)
		endA := errors.Is(errA, io.EOF) || errors.Is(errA, io.ErrUnexpectedEOF)
		endB := errors.Is(errB, io.EOF) || errors.Is(errB, io.ErrUnexpectedEOF)
		if errA != nil && !endA {
			return errA
		}
		if errB != nil && !endB {
			return errB
		}
		if endA || endB {
			if endA != endB {
				return fmt.Errorf("lengths differ after %d bytes", off)
			}
			return nil
		}
	}
}

// TestVersityHarness proves the harness itself: the server starts, takes a
// PUT presigned by the sandbox's SigV4 code, serves it back, and rejects a
// tampered signature (so the rest of the suite tests real verification).
func TestVersityHarness(t *testing.T) {
	ext := startVersity(t)
	src := filepath.Join(t.TempDir(), "hello.csv")
	if err := os.WriteFile(src, []byte("id\n1\n2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	put := func(u string) *http.Response {
		t.Helper()
		f, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		req, err := http.NewRequest(http.MethodPut, u, f)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = st.Size()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	u, err := ext.PresignPut("harness/hello.csv", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(u, "X-Amz-Signature=", "X-Amz-Signature=0", 1)
	if resp := put(tampered); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("PUT with a tampered signature: got %s, want 403", resp.Status)
	}
	if resp := put(u); resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT: got %s, want 200", resp.Status)
	}
	assertStoredObject(t, ext, "harness/hello.csv", src)
}
