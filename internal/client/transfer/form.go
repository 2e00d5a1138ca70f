package transfer

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// FormField is one text field of a multipart/form-data body.
type FormField struct {
	Name  string
	Value string
}

// FormPost uploads a file as the last field of a multipart/form-data POST.
// It is the one multipart flow of every platform: a form posted to storage
// (OSS PostObject, S3 POST policy, OpenIM formData) and a direct multipart
// upload to a platform's API (ToAPI: TPNS package upload, Future Demand
// ingest and media). The body streams from disk with a Content-Length
// computed in advance, never chunked, and is rebuilt from the file for
// every attempt.
type FormPost struct {
	URL    string // may be presigned; never logged or returned in errors
	Header http.Header
	// Fields are sent in this order, before the file.
	Fields          []FormField
	FileField       string // name of the file field
	FileName        string // filename in the part's Content-Disposition
	FileContentType string // default application/octet-stream
	File            *File
	Label           string
	// SuccessCodes lists the statuses meaning success; empty means any 2xx.
	SuccessCodes []int
	// ToAPI marks a direct multipart upload: the form goes to the
	// platform's API, which acts on the file itself. Errors say "API", and
	// Duplicate must say what a second copy of the upload costs.
	ToAPI bool
	// Duplicate decides, for ToAPI, whether the upload is sent again after
	// a failure that leaves open whether the API acted on it. (A storage
	// form always may be: it writes one key, and writing it again stores
	// the same object.)
	Duplicate Duplicate
	// RetryIf lets the platform ask for another try on an answer it reads
	// (a rate-limit code under HTTP 200).
	RetryIf func(status int, body []byte) bool
	// RateLimited recognises the platform's rate limit said in the body
	// (under HTTP 200): it is retried like a 429 and pauses every caller.
	RateLimited func(status int, body []byte) bool
}

// Duplicate is what a second copy of a request costs when the server may
// have acted on the first: the request was sent in full and the answer was
// lost, or the server answered 500, 502 or 504. Every API call and every
// upload to a platform's API declares it next to the call, so the
// decision is made per call by the one who knows the platform.
type Duplicate int

const (
	duplicateUndeclared Duplicate = iota
	// DuplicateHarmless: a second copy is an orphan nothing refers to (an
	// upload id, a session, a task nobody reads); the request is sent
	// again, so a dropped connection does not fail the apply.
	DuplicateHarmless
	// DuplicateVisible: a second copy is something users would see or
	// rely on; the request is not sent again, Ambiguous reports the
	// failure, and the caller reconciles (reads back) or explains.
	DuplicateVisible
)

// AnsweredStatuses, as FormPost.SuccessCodes, hands back every answer the
// retry policy does not take (2xx, and 4xx but 429), so the platform reads
// its own envelope, which may say failure under 200 and explain a 4xx.
var AnsweredStatuses = func() []int {
	var codes []int
	for s := 200; s < 500; s++ {
		if (s < 300 || s >= 400) && s != http.StatusTooManyRequests {
			codes = append(codes, s)
		}
	}
	return codes
}()

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

// formFrame renders everything around the file bytes: the text fields and
// the file part's header (prefix), and the closing boundary (suffix).
// Knowing both up front gives an exact Content-Length for a streamed body.
func formFrame(p FormPost) (prefix, suffix []byte, contentType string, err error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range p.Fields {
		if err := mw.WriteField(f.Name, f.Value); err != nil {
			return nil, nil, "", err
		}
	}
	ct := p.FileContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteEscaper.Replace(p.FileField), quoteEscaper.Replace(p.FileName)))
	h.Set("Content-Type", ct)
	if _, err := mw.CreatePart(h); err != nil {
		return nil, nil, "", err
	}
	n := buf.Len()
	if err := mw.Close(); err != nil {
		return nil, nil, "", err
	}
	all := buf.Bytes()
	return all[:n:n], all[n:], mw.FormDataContentType(), nil
}

// PostForm streams the form with a fixed Content-Length and the file last.
func (p *Platform) PostForm(ctx context.Context, f FormPost) (*Result, error) {
	if f.FileField == "" {
		return nil, fmt.Errorf("form upload: no file field name")
	}
	if f.ToAPI && f.Duplicate == duplicateUndeclared {
		return nil, fmt.Errorf("form upload to the %s API: the caller did not declare what a duplicate costs (FormPost.Duplicate)", p.name)
	}
	prefix, suffix, contentType, err := formFrame(f)
	if err != nil {
		return nil, err
	}
	ok := is2xx
	if len(f.SuccessCodes) > 0 {
		ok = func(code int) bool { return slices.Contains(f.SuccessCodes, code) }
	}
	header := f.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	// The body's boundary wins over any Content-Type a platform lists
	// (OpenIM's header list says plain multipart/form-data).
	header.Set("Content-Type", contentType)
	u := upload{method: http.MethodPost, url: f.URL, header: header, src: f.File, size: f.File.Size, prefix: prefix, suffix: suffix, ok: ok, retryIf: f.RetryIf, rateLimited: f.RateLimited}
	if f.ToAPI {
		u.service, u.creates = serviceAPI, f.Duplicate == DuplicateVisible
	}
	progress := NewProgress(ctx, p.log, f.Label, f.File.Size)
	res, err := p.send(ctx, u, progress)
	if err == nil {
		progress.Finish()
	}
	return res, err
}
