package sandbox

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Requests the sandbox itself sends to an ExternalS3 server (the Future
// Demand emulator creates, completes and aborts multipart uploads there).
// They are signed with presigned query strings, like every other URL the
// sandbox hands out, so one SigV4 implementation serves both directions.

// PresignGet returns a presigned GetObject URL for key. Tests use it to
// read back what a client uploaded through the sandbox.
func (e *ExternalS3) PresignGet(key string, ttl time.Duration) (string, error) {
	return e.presign(http.MethodGet, key, nil, ttl, time.Now())
}

// PresignPut returns a presigned PutObject URL for key (no signed headers
// besides host).
func (e *ExternalS3) PresignPut(key string, ttl time.Duration) (string, error) {
	return e.presign(http.MethodPut, key, nil, ttl, time.Now())
}

// PresignBucket returns a presigned ListObjectsV2 URL for the bucket; a 200
// answer proves the server is up, the credentials work and the bucket
// exists.
func (e *ExternalS3) PresignBucket(ttl time.Duration) (string, error) {
	return presignV4(presignRequest{
		Method: http.MethodGet, Endpoint: e.Endpoint, Path: "/" + e.Bucket,
		Region: e.Region, AccessKey: e.AccessKey, Secret: e.SecretKey,
		Expires: ttl, Now: time.Now(), Query: url.Values{"list-type": {"2"}},
	})
}

func (e *ExternalS3) presign(method, key string, query url.Values, ttl time.Duration, now time.Time) (string, error) {
	return presignV4(presignRequest{
		Method: method, Endpoint: e.Endpoint, Path: "/" + e.Bucket + "/" + key,
		Region: e.Region, AccessKey: e.AccessKey, Secret: e.SecretKey,
		Expires: ttl, Now: now, Query: query,
	})
}

// externalS3Call sends one signed request to the external server and
// decodes its XML answer into out (when not nil). A non-2xx answer becomes
// an *s3Error carrying the server's own code and message.
func (s *Server) externalS3Call(ctx context.Context, method, key string, query url.Values, body []byte, out any) error {
	ext := s.cfg.ExternalS3
	u, err := ext.presign(method, key, query, 5*time.Minute, s.now())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/xml")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &s3Error{http.StatusBadGateway, "ExternalS3Unreachable", "the S3 server behind the sandbox did not answer"}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var doc struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		_ = xml.Unmarshal(raw, &doc)
		if doc.Code == "" {
			doc.Code = fmt.Sprintf("HTTP%d", resp.StatusCode)
		}
		return &s3Error{resp.StatusCode, doc.Code, doc.Message}
	}
	if out != nil {
		if err := xml.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("external S3 %s %s: unreadable answer: %w", method, key, err)
		}
	}
	return nil
}
