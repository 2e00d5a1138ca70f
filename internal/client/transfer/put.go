package transfer

import (
	"context"
	"io"
	"net/http"
)

// PutRequest uploads a file's raw bytes to a presigned URL, like
// `curl -X PUT -T file url`.
type PutRequest struct {
	Method string // default PUT
	URL    string // presigned; never logged or returned in errors
	// Header is sent as is (e.g. Content-Type). It must never carry
	// platform credentials: presigned URLs authenticate by their query.
	Header http.Header
	File   *File
	Label  string // names the transfer in progress logs
	Retry  Retry
}

// Put streams the file with a fixed Content-Length (never chunked),
// retrying transient failures, and returns the response.
func Put(ctx context.Context, hc *http.Client, log Logger, p PutRequest) (*Result, error) {
	method := p.Method
	if method == "" {
		method = http.MethodPut
	}
	op := method + " " + RedactURL(p.URL)
	progress := NewProgress(ctx, log, p.Label, p.File.Size)
	res, err := send(ctx, hc, log, op, p.Retry, p.File, progress, func(body io.Reader) (*http.Request, error) {
		req, err := http.NewRequest(method, p.URL, io.NopCloser(body))
		if err != nil {
			return nil, transportError(op, err)
		}
		req.ContentLength = p.File.Size
		if p.File.Size == 0 {
			req.Body = http.NoBody // a zero length with a body would go chunked
		}
		for k, vs := range p.Header {
			req.Header[k] = vs
		}
		return req, nil
	}, is2xx)
	if err == nil {
		progress.Finish()
	}
	return res, err
}
