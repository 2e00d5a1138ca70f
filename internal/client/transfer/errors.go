package transfer

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// HTTPError is an answer with a failing HTTP status that is not the
// platform's body-level error: a 429 or 5xx that outlasted the retries, a
// storage error document, or an API answer that is not the API's JSON.
type HTTPError struct {
	Platform string // e.g. "Mintegral"
	Service  string // "API" or "storage"
	Op       string // method and redacted URL
	Status   int
	Attempts int
	Code     string // from an XML or JSON error document, when there is one
	Message  string
	// Ambiguous: a request that is not safe to repeat got 500, 502 or 504;
	// the server may have acted on it.
	Ambiguous bool
	// Setting names the endpoint setting to check when the API has no
	// such path (a 404 that is not the API's own answer).
	Setting string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s answered HTTP %d%s to %s", e.Platform, e.Service, e.Status, retried(e.Attempts), e.Op)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Setting != "" {
		msg += "; the endpoint has no such API path: check " + e.Setting
	}
	if e.Ambiguous {
		msg += "; the request may have taken effect, so it was not sent again"
	}
	return msg
}

// Expired reports whether storage rejected the request because its
// presigned URL or policy expired.
func (e *HTTPError) Expired() bool {
	m := strings.ToLower(e.Message)
	return e.Status == http.StatusForbidden && (strings.Contains(m, "expired") || e.Code == "ExpiredToken")
}

// ConnectionError is a request that got no answer: the host could not be
// reached, or the connection broke.
type ConnectionError struct {
	Platform string
	Service  string
	Op       string
	Attempts int
	Err      error // the transport's error, without the URL
	// Setting names what to check when the API host cannot be reached.
	Setting string
	// Ambiguous: a request that is not safe to repeat was fully sent and
	// the connection broke before the answer; it may have taken effect.
	Ambiguous bool
}

func (e *ConnectionError) Error() string {
	msg := fmt.Sprintf("%s %s: %s: %v%s", e.Platform, e.Service, e.Op, e.Err, tried(e.Attempts))
	if e.Setting != "" {
		msg += "; check " + e.Setting
	}
	if e.Ambiguous {
		msg += "; the request was sent in full and may have taken effect, so it was not sent again"
	}
	return msg
}

func (e *ConnectionError) Unwrap() error { return e.Err }

// TimeoutError is an API call that got no answer within the per-request
// API limit. (Transfers have no such limit; the caller's context bounds
// them, and StoppedError reports it.)
type TimeoutError struct {
	Platform  string
	Service   string
	Op        string
	Limit     time.Duration
	Setting   string // how to raise Limit
	Ambiguous bool
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("%s %s did not answer %s within %s, the per-request limit for API calls", e.Platform, e.Service, e.Op, e.Limit)
	if e.Setting != "" {
		msg += "; raise it with " + e.Setting
	}
	if e.Ambiguous {
		msg += "; the request was sent in full and may have taken effect, so it was not sent again"
	}
	return msg
}

// StoppedError is a request cut short by its context: cancelled, or the
// caller's deadline (for transfers, the operation's timeout) passed.
type StoppedError struct {
	Platform string
	Service  string
	Op       string
	Err      error // the context's cause
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("%s %s: %s stopped: %v", e.Platform, e.Service, e.Op, e.Err)
}

func (e *StoppedError) Unwrap() error { return e.Err }

func retried(attempts int) string {
	switch {
	case attempts <= 1:
		return ""
	case attempts == 2:
		return " (retried once)"
	}
	return fmt.Sprintf(" (retried %d times)", attempts-1)
}

func tried(attempts int) string {
	if attempts <= 1 {
		return ""
	}
	return fmt.Sprintf(" (tried %d times)", attempts)
}

// errorDocument extracts a code and message from an error body: an S3/OSS
// XML document, common JSON shapes, or short text.
func errorDocument(body []byte) (code, message string) {
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(body, &x) == nil && (x.Code != "" || x.Message != "") {
		return x.Code, x.Message
	}
	var j struct {
		Message string `json:"message"`
		Error   string `json:"error"`
		Detail  string `json:"detail"` // FastAPI
	}
	if json.Unmarshal(body, &j) == nil {
		for _, m := range []string{j.Message, j.Error, j.Detail} {
			if m != "" {
				return "", m
			}
		}
		return "", ""
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 0 && len(s) < 512 && !strings.ContainsAny(s, "<{") {
		return "", s
	}
	return "", ""
}

// Describe renders a platform's error in the one shape all clients use:
// head, then " label" and ": detail" when set, then "(hint)" when known.
func Describe(head, label, detail, hint string) string {
	msg := head
	if label != "" {
		msg += " " + label
	}
	if detail != "" {
		msg += ": " + detail
	}
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return msg
}
