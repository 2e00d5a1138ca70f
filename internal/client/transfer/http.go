package transfer

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
)

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

// AnswerLimit is how much of an answer an API call or an upload keeps.
// An API's refusal may list every refused row of a large file.
const AnswerLimit = 1 << 20

// readAnswer reads at most AnswerLimit bytes of an answer and reports
// whether there was more.
func readAnswer(r io.Reader) (body []byte, cut bool, err error) {
	b, err := ReadSmall(r, AnswerLimit+1)
	if len(b) > AnswerLimit {
		return b[:AnswerLimit], true, err
	}
	return b, false, err
}

// Result is what a successful upload request returned.
type Result struct {
	Status int
	ETag   string // as sent by the server, quotes included
	Header http.Header
	// Body holds at most AnswerLimit bytes of the response, for APIs
	// that answer uploads with JSON; Cut says the answer was longer.
	Body []byte
	Cut  bool
}

// source is what an upload streams on each attempt: a whole File, or one
// part of it.
type source interface {
	// open starts a fresh pass over the bytes, reporting reads to progress.
	open(progress *Progress) (io.Reader, error)
	// sent is how many bytes the current pass has read.
	sent() int64
}

func (f *File) open(progress *Progress) (io.Reader, error) { return f.Reader(progress) }
func (f *File) sent() int64                                { return f.read }

// upload is one streamed request: file bytes, optionally framed (a form's
// fields before, its closing boundary after), with a known length.
type upload struct {
	service string // "storage" unless the platform's API takes the file itself
	method  string
	url     string
	header  http.Header
	src     source
	size    int64 // of src
	prefix  []byte
	suffix  []byte
	creates bool
	ok      func(int) bool
	retryIf func(status int, body []byte) bool
	// rateLimited: see FormPost.RateLimited.
	rateLimited func(status int, body []byte) bool
}

// send streams an upload with the retry policy, rebuilding the body from
// the file for every attempt; progress is taken back for a failed pass.
func (p *Platform) send(ctx context.Context, u upload, progress *Progress) (*Result, error) {
	if u.service == "" {
		u.service = serviceStorage
	}
	ex := &exchange{service: u.service, repeatable: !u.creates, retryIf: u.retryIf, rateLimited: u.rateLimited}
	var res Result
	read := false
	readBody := func(resp *http.Response) error {
		b, cut, err := readAnswer(resp.Body)
		_ = resp.Body.Close()
		res.Body, res.Cut, read = b, cut, true
		return err
	}
	ex.handle = readBody
	body := func() (io.Reader, error) {
		progress.Rewind(u.src.sent()) // an earlier pass is sent again
		r, err := u.src.open(progress)
		if err != nil {
			return nil, err
		}
		if u.prefix == nil && u.suffix == nil {
			return r, nil
		}
		return io.MultiReader(bytes.NewReader(u.prefix), r, bytes.NewReader(u.suffix)), nil
	}
	resp, err := p.exchange(ctx, ex, u.method, u.url, u.header, body, int64(len(u.prefix))+u.size+int64(len(u.suffix)))
	if err != nil {
		return nil, err
	}
	if !read { // the last answer asked for a retry that the policy did not grant
		_ = readBody(resp)
	}
	if e := p.noSuchPath(ex, resp.StatusCode, res.Body); e != nil {
		return nil, e
	}
	if !u.ok(resp.StatusCode) {
		e := &HTTPError{Platform: p.name, Service: u.service, Op: ex.op, Status: resp.StatusCode, Attempts: ex.attempt}
		e.Code, e.Message = errorDocument(res.Body)
		return nil, e
	}
	res.Status, res.ETag, res.Header = resp.StatusCode, resp.Header.Get("ETag"), resp.Header
	return &res, nil
}

func is2xx(code int) bool { return code >= 200 && code < 300 }
