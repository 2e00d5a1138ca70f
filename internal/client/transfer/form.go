package transfer

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

// FormPost uploads a file as the last field of a multipart/form-data POST:
// OSS PostObject, S3 POST policy, OpenIM formData, TPNS package upload.
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
	Retry           Retry
	// SuccessCodes lists the statuses meaning success; empty means any 2xx.
	SuccessCodes []int
}

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
func PostForm(ctx context.Context, hc *http.Client, log Logger, p FormPost) (*Result, error) {
	if p.FileField == "" {
		return nil, fmt.Errorf("form upload: no file field name")
	}
	prefix, suffix, contentType, err := formFrame(p)
	if err != nil {
		return nil, err
	}
	op := http.MethodPost + " " + RedactURL(p.URL)
	ok := is2xx
	if len(p.SuccessCodes) > 0 {
		ok = func(code int) bool { return slices.Contains(p.SuccessCodes, code) }
	}
	progress := NewProgress(ctx, log, p.Label, p.File.Size)
	res, err := send(ctx, hc, log, op, p.Retry, p.File, progress, func(file io.Reader) (*http.Request, error) {
		body := io.MultiReader(bytes.NewReader(prefix), file, bytes.NewReader(suffix))
		req, err := http.NewRequest(http.MethodPost, p.URL, io.NopCloser(body))
		if err != nil {
			return nil, transportError(op, err)
		}
		req.ContentLength = int64(len(prefix)) + p.File.Size + int64(len(suffix))
		for k, vs := range p.Header {
			req.Header[k] = vs
		}
		// The body's boundary wins over any Content-Type a platform lists
		// (OpenIM's header list says plain multipart/form-data).
		req.Header.Set("Content-Type", contentType)
		return req, nil
	}, ok)
	if err == nil {
		progress.Finish()
	}
	return res, err
}
