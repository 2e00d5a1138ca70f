package transfer

import (
	"context"
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
}

// Put streams the file with a fixed Content-Length (never chunked),
// retrying transient failures, and returns the response.
func (p *Platform) Put(ctx context.Context, r PutRequest) (*Result, error) {
	method := r.Method
	if method == "" {
		method = http.MethodPut
	}
	progress := NewProgress(ctx, p.log, r.Label, r.File.Size)
	res, err := p.send(ctx, upload{method: method, url: r.URL, header: r.Header, src: r.File, size: r.File.Size, ok: is2xx}, progress)
	if err == nil {
		progress.Finish()
	}
	return res, err
}
