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
	// SuccessCodes lists the statuses meaning success; empty means any 2xx.
	SuccessCodes []int
	// ToAPI marks a form posted to the platform's API rather than to its
	// storage: errors say so, and the upload counts as creating something
	// (retried only when the server certainly did not act on it).
	ToAPI bool
	// RetryIf lets the platform ask for another try on an answer it reads
	// (a rate-limit code under HTTP 200).
	RetryIf func(status int, body []byte) bool
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
func (p *Platform) PostForm(ctx context.Context, f FormPost) (*Result, error) {
	if f.FileField == "" {
		return nil, fmt.Errorf("form upload: no file field name")
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
	u := upload{method: http.MethodPost, url: f.URL, header: header, src: f.File, size: f.File.Size, prefix: prefix, suffix: suffix, ok: ok, retryIf: f.RetryIf}
	if f.ToAPI {
		u.service, u.creates = serviceAPI, true
	}
	progress := NewProgress(ctx, p.log, f.Label, f.File.Size)
	res, err := p.send(ctx, u, progress)
	if err == nil {
		progress.Finish()
	}
	return res, err
}
