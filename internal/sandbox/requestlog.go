package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// RequestRecord is one line of the request log. Path is the URL path only:
// query strings carry presigned signatures and tokens, so they are never
// recorded.
type RequestRecord struct {
	Start    time.Time // when the request reached the sandbox
	Method   string
	Path     string
	Status   int // 0 when the connection was reset and no answer was sent
	BytesIn  int64
	BytesOut int64
	Duration time.Duration
	Fault    string // what an injected fault did, "" when none hit
}

// String renders the record as `audience-sandbox -v` prints it.
func (r RequestRecord) String() string {
	status := "reset"
	if r.Status != 0 {
		status = fmt.Sprint(r.Status)
	}
	line := fmt.Sprintf("%s %s %s in=%d out=%d %s", r.Method, r.Path, status, r.BytesIn, r.BytesOut, r.Duration.Round(time.Microsecond))
	if r.Fault != "" {
		line += fmt.Sprintf(" fault=%q", r.Fault)
	}
	return line
}

// loggingWriter notes the status and size of an answer for the log.
type loggingWriter struct {
	http.ResponseWriter
	status  int
	written int64
}

func (l *loggingWriter) WriteHeader(code int) {
	if l.status == 0 {
		l.status = code
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *loggingWriter) Write(b []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	n, err := l.ResponseWriter.Write(b)
	l.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (l *loggingWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }

func (l *loggingWriter) statusOr200() int {
	if l.status == 0 {
		return http.StatusOK
	}
	return l.status
}

// countingBody counts the request-body bytes a handler read.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}
