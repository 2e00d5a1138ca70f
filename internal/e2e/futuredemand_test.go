package e2e

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/futuredemand"
	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

// startSandboxFor runs a sandbox whose storage is the given S3 server.
func startSandboxFor(t *testing.T, ext *sandbox.ExternalS3) *sandbox.Server {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{Dir: t.TempDir(), ExternalS3: ext})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func futureDemandClient(srv *sandbox.Server) *futuredemand.Client {
	c := sandbox.DefaultCredentials()
	return futuredemand.New(futuredemand.Settings{
		Endpoint:  srv.URL() + sandbox.PrefixFutureDemand + "/api/v3",
		Username:  c.FutureDemandUsername,
		Password:  c.FutureDemandPassword,
		PartnerID: c.FutureDemandPartnerID,
	}, transfer.Options{})
}

// writeSource writes size pseudo-random bytes and returns path and md5.
func writeSource(t *testing.T, name string, size int64) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.NewChaCha8([32]byte{7, byte(size)}), size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p, hex.EncodeToString(h.Sum(nil))
}

// pendingUploads lists the multipart uploads the S3 server still holds.
func pendingUploads(t *testing.T, ext *sandbox.ExternalS3) int {
	t.Helper()
	u, err := ext.PresignBucket(url.Values{"uploads": {""}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ListMultipartUploads: %s", resp.Status)
	}
	var out struct {
		Uploads []struct {
			Key string `xml:"Key"`
		} `xml:"Upload"`
	}
	if err := xml.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func TestFutureDemandPresignedPutToRealS3(t *testing.T) {
	ext := startVersity(t)
	srv := startSandboxFor(t, ext)
	path, sum := writeSource(t, "small.csv", 700<<10)
	res, err := futureDemandClient(srv).Upload(context.Background(), futuredemand.UploadRequest{Path: path, FileName: "small.csv", FileMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != futuredemand.MethodPresigned {
		t.Fatalf("method %s, want presigned", res.Method)
	}
	assertStoredObject(t, ext, res.ObjectKey, path)
}

// The presigned URL the sandbox hands out signs Content-Type, so the real
// server refuses a PUT with another one, as S3 does.
func TestFutureDemandPresignedPutWrongContentTypeRefusedByRealS3(t *testing.T) {
	ext := startVersity(t)
	srv := startSandboxFor(t, ext)
	c := sandbox.DefaultCredentials()
	body := `{"file_name":"x.csv","content_type":"application/octet-stream"}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+sandbox.PrefixFutureDemand+"/api/v3/storage/presigned-url", stringsReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.FutureDemandAccessToken)
	req.Header.Set("X-Preferred-Partner-Id", c.FutureDemandPartnerID)
	req.Header.Set("X-Upload-Type", "audience_csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ URL, ObjectKey string }
	out.URL, out.ObjectKey = decodePresigned(t, resp)
	put, _ := http.NewRequest(http.MethodPut, out.URL, stringsReader("id\n1\n"))
	put.Header.Set("Content-Type", "text/csv")
	presp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	_ = presp.Body.Close()
	if presp.StatusCode != http.StatusForbidden {
		t.Fatalf("PUT with the wrong Content-Type: %s, want 403 from the real server", presp.Status)
	}
}

func TestFutureDemandMultipartToRealS3(t *testing.T) {
	ext := startVersity(t)
	srv := startSandboxFor(t, ext)
	size := int64(3*futuredemand.MinPartSize + 4321)
	path, sum := writeSource(t, "big.csv", size)
	res, err := futureDemandClient(srv).Upload(context.Background(), futuredemand.UploadRequest{
		Path: path, FileName: "big.csv", FileMD5: sum,
		MultipartThreshold: futuredemand.MinPartSize, PartSize: futuredemand.MinPartSize, Concurrency: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != futuredemand.MethodMultipart || res.Parts != 4 {
		t.Fatalf("result %+v, want 4 parts by multipart", res)
	}
	assertStoredObject(t, ext, res.ObjectKey, path)
	if n := pendingUploads(t, ext); n != 0 {
		t.Errorf("%d multipart uploads left on the server", n)
	}
}

func TestFutureDemandMultipartFailureAbortsOnRealS3(t *testing.T) {
	ext := startVersity(t)
	srv := startSandboxFor(t, ext)
	path, sum := writeSource(t, "big.csv", 2*futuredemand.MinPartSize+1)
	// A wrong md5 makes the client refuse to complete after the parts are
	// on the real server, so the abort has parts to free there.
	_, err := futureDemandClient(srv).Upload(context.Background(), futuredemand.UploadRequest{
		Path: path, FileName: "big.csv", FileMD5: sum[:31] + "x",
		MultipartThreshold: futuredemand.MinPartSize, PartSize: futuredemand.MinPartSize,
	})
	var ab *futuredemand.AbortedError
	if !errors.As(err, &ab) || ab.AbortErr != nil {
		t.Fatalf("err = %v, want an aborted upload", err)
	}
	if n := pendingUploads(t, ext); n != 0 {
		t.Errorf("%d multipart uploads left on the server after abort", n)
	}
}
