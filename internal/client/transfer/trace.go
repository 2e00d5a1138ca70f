package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The wire trace: at DEBUG, every attempt of every request logs one line
// with its method, URL (query values masked), status, request id,
// duration and the answer's shape (keys and value types, never values),
// so a user can attach it to a bug report without leaking a credential,
// a presigned URL or personal data.

// requestIDHeaders are where the platforms and their storage put the id
// their support asks for, first found wins.
var requestIDHeaders = []string{
	"X-Request-Id", "X-Amz-Request-Id", "X-Amzn-Requestid", "X-Oss-Request-Id", "X-Cos-Request-Id",
	"Request-Id", "X-Correlation-Id", "X-Trace-Id", "Trace-Id",
}

// requestIDHeader is the first of requestIDHeaders that h carries, and
// its value.
func requestIDHeader(h http.Header) (name, value string) {
	for _, n := range requestIDHeaders {
		if v := h.Get(n); v != "" {
			return n, v
		}
	}
	return "", ""
}

// RequestID is the id an answer's headers give it for the platform's
// support, "" when none is sent (see requestIDHeaders).
func RequestID(h http.Header) string {
	_, v := requestIDHeader(h)
	return v
}

// traceQueryValues are the query parameters whose values are kept in a
// traced URL: settings of the request, never a credential, a signature or
// a name the user chose. Every other value is masked.
var traceQueryValues = []string{"area_type", "file_md5", "page", "limit", "platform", "ta_ids", "event_type", "eid", "partNumber", "package_type"}

// traceShapeLimit is how much of an API answer is kept to describe it.
const traceShapeLimit = AnswerLimit

// TraceURL is raw without user info and fragment, and with the value of
// every query parameter but traceQueryValues masked.
func TraceURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	if u.RawQuery == "" {
		return u.String()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		u.RawQuery = "***"
		return u.String()
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := "***"
		if slices.Contains(traceQueryValues, k) {
			v = url.QueryEscape(strings.Join(q[k], ","))
		}
		parts = append(parts, url.QueryEscape(k)+"="+v)
	}
	u.RawQuery = strings.Join(parts, "&")
	return u.String()
}

// tracer logs the wire trace of one platform.
type tracer struct {
	name string
	log  Logger
}

// traced is one attempt being traced.
type traced struct {
	tr      tracer
	ctx     context.Context
	ex      *exchange
	method  string
	url     string
	attempt int
	start   time.Time
}

func (t tracer) start(r *http.Request, ex *exchange) *traced {
	return &traced{tr: t, ctx: r.Context(), ex: ex, method: r.Method, url: TraceURL(r.URL.String()), attempt: ex.attempt, start: time.Now()}
}

// end logs a failed attempt at once, and an answered one when its body is
// closed, with the shape of what was read.
func (t *traced) end(resp *http.Response, err error) (*http.Response, error) {
	if err != nil {
		t.log(map[string]any{"error": stripURL(err).Error()})
		return resp, err
	}
	fields := map[string]any{"http_status": resp.StatusCode, "request_id": "none sent"}
	if h, v := requestIDHeader(resp.Header); v != "" {
		fields["request_id"] = h + ": " + v
	}
	keep := t.ex.service == serviceAPI
	resp.Body = &tracedBody{ReadCloser: resp.Body, t: t, fields: fields, keep: keep, contentType: resp.Header.Get("Content-Type")}
	return resp, nil
}

func (t *traced) log(fields map[string]any) {
	fields["http_method"] = t.method
	fields["http_url"] = t.url
	fields["attempt"] = t.attempt
	fields["duration"] = time.Since(t.start).Round(time.Millisecond).String()
	t.tr.log.Debug(t.ctx, t.tr.name+" "+t.ex.service+" call", fields)
}

// tracedBody keeps the first traceShapeLimit bytes read from an API
// answer (never from storage, whose answers may be a whole file).
type tracedBody struct {
	io.ReadCloser
	t           *traced
	fields      map[string]any
	keep        bool
	contentType string
	buf         bytes.Buffer
	read        int64
	once        sync.Once
}

func (b *tracedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if b.keep && b.buf.Len() < traceShapeLimit {
		b.buf.Write(p[:min(n, traceShapeLimit-b.buf.Len())])
	}
	return n, err
}

func (b *tracedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() {
		b.fields["answer_bytes"] = b.read
		if b.keep {
			b.fields["answer"] = DescribeAnswer(b.buf.Bytes())
		} else if b.contentType != "" {
			b.fields["answer"] = b.contentType
		}
		b.t.log(b.fields)
	})
	return err
}

// DescribeAnswer describes an answer without its values: the keys and
// value types of a JSON document (Shape), the root element of an XML one,
// or the length of anything else.
func DescribeAnswer(body []byte) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "empty"
	}
	if json.Valid(trimmed) {
		s := Shape(trimmed)
		if len(s) > 2048 {
			s = s[:2048] + "…"
		}
		return s
	}
	d := xml.NewDecoder(bytes.NewReader(trimmed))
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			return "xml <" + se.Name.Local + ">"
		}
	}
	return fmt.Sprintf("not JSON (%d bytes)", len(trimmed))
}
