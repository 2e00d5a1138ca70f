package transfer

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// StorageError is a non-success answer from an object store (S3, OSS,
// MinIO). Code and Message come from the XML error body when there is one.
type StorageError struct {
	Op      string // e.g. "PUT https://host/path" with the query removed
	Status  int
	Code    string
	Message string
}

func (e *StorageError) Error() string {
	msg := fmt.Sprintf("%s: storage answered HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Expired reports whether the store rejected the request because its
// presigned URL or policy expired.
func (e *StorageError) Expired() bool {
	m := strings.ToLower(e.Message)
	return e.Status == http.StatusForbidden && (strings.Contains(m, "expired") || e.Code == "ExpiredToken")
}

// RedactURL drops the query string and user info, which carry presigned
// signatures, policies and tokens, so a URL can appear in logs and errors.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	return u.String()
}

// ReadSmall reads at most limit bytes of an API response (JSON answers,
// error documents); it is never used on file content.
func ReadSmall(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(io.LimitReader(r, limit))
	return buf.Bytes(), err
}

// Retry policy for transient failures: 429 and 5xx from the server, and
// transport errors.
type Retry struct {
	Attempts int           // total attempts, default 5
	Base     time.Duration // first backoff, default 500ms
	Max      time.Duration // cap, default 10s
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 5
	}
	if r.Base <= 0 {
		r.Base = 500 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 10 * time.Second
	}
	return r
}

// Backoff returns the wait before attempt n (1-based retry count), with jitter.
func (r Retry) Backoff(n int) time.Duration {
	r = r.withDefaults()
	d := r.Base << (n - 1)
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	return d/2 + rand.N(d/2+1)
}

// Do runs attempt until it succeeds, fails for good, or the attempts run
// out, backing off between tries. attempt reports whether its error is
// worth another try; op names the operation in logs and errors.
func (r Retry) Do(ctx context.Context, log Logger, op string, attempt func() (again bool, err error)) error {
	r = r.withDefaults()
	var lastErr error
	for n := 1; n <= r.Attempts; n++ {
		if n > 1 {
			wait := r.Backoff(n - 1)
			OrNop(log).Info(ctx, "retrying", map[string]any{"op": op, "attempt": n, "wait": wait.String(), "error": lastErr.Error()})
			if err := Sleep(ctx, wait); err != nil {
				return fmt.Errorf("%s: %w (last error: %v)", op, err, lastErr)
			}
		}
		again, err := attempt()
		if err == nil {
			return nil
		}
		if !again || ctx.Err() != nil {
			return err
		}
		lastErr = err
	}
	return fmt.Errorf("giving up after %d attempts: %w", r.Attempts, lastErr)
}

// Transient reports whether an HTTP status is worth retrying.
func Transient(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transportError strips the URL (and so any presigned query) from errors
// returned by http.Client.Do.
func transportError(op string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// storageError builds a StorageError from a failed response.
func storageError(op string, resp *http.Response) *StorageError {
	body, _ := ReadSmall(resp.Body, 64<<10)
	se := &StorageError{Op: op, Status: resp.StatusCode}
	var doc struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(body, &doc) == nil {
		se.Code, se.Message = doc.Code, doc.Message
	} else if len(body) > 0 && len(body) < 512 {
		se.Message = strings.TrimSpace(string(body))
	}
	return se
}

// Result is what a successful upload request returned.
type Result struct {
	Status int
	ETag   string // as sent by the server, quotes included
	Header http.Header
	// Body holds at most 64 KiB of the response, for APIs that answer
	// uploads with JSON.
	Body []byte
}

// source is what send streams on each attempt: a whole File, or one part
// of it.
type source interface {
	// open starts a fresh pass over the bytes, reporting reads to progress.
	open(progress *Progress) (io.Reader, error)
	// sent is how many bytes the current pass has read.
	sent() int64
}

func (f *File) open(progress *Progress) (io.Reader, error) { return f.Reader(progress) }
func (f *File) sent() int64                                { return f.read }

// send runs one upload request per attempt, rebuilding the body from the
// file each time, and retries transient failures. ok decides which
// statuses are success.
func send(ctx context.Context, hc *http.Client, log Logger, op string, retry Retry, file source, progress *Progress, build func(body io.Reader) (*http.Request, error), ok func(int) bool) (*Result, error) {
	retry = retry.withDefaults()
	var lastErr error
	for attempt := 1; attempt <= retry.Attempts; attempt++ {
		if attempt > 1 {
			wait := retry.Backoff(attempt - 1)
			OrNop(log).Info(ctx, "retrying upload", map[string]any{"op": op, "attempt": attempt, "wait": wait.String(), "error": lastErr.Error()})
			if err := Sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s: %w (last error: %v)", op, err, lastErr)
			}
		}
		r, err := file.open(progress)
		if err != nil {
			return nil, err
		}
		req, err := build(r)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req.WithContext(ctx))
		if err != nil {
			if progress != nil {
				progress.Rewind(file.sent()) // this attempt's bytes are sent again
			}
			if ctx.Err() != nil || errors.Is(err, ErrContentChanged) {
				return nil, transportError(op, err)
			}
			lastErr = transportError(op, err)
			continue
		}
		if ok(resp.StatusCode) {
			body, _ := ReadSmall(resp.Body, 64<<10)
			_ = resp.Body.Close()
			return &Result{Status: resp.StatusCode, ETag: resp.Header.Get("ETag"), Header: resp.Header, Body: body}, nil
		}
		se := storageError(op, resp)
		_ = resp.Body.Close()
		if progress != nil {
			progress.Rewind(file.sent()) // this attempt's bytes are sent again
		}
		if !Transient(resp.StatusCode) {
			return nil, se
		}
		lastErr = se
	}
	return nil, fmt.Errorf("giving up after %d attempts: %w", retry.Attempts, lastErr)
}

func is2xx(code int) bool { return code >= 200 && code < 300 }
