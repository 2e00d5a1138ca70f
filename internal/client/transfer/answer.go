package transfer

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Reading answers whose shape a vendor does not publish: be liberal in
// what is accepted. Every platform keeps, in its wire.go, the spellings of
// each field a server of its family plausibly sends; these helpers find
// the first that is there, with case, "_" and "-" ignored, and an answer
// that still does not fit becomes a *ShapeError.

// Answer is a JSON object whose keys are folded by FoldKey. A body that is
// not a JSON object is a nil Answer.
type Answer map[string]json.RawMessage

// ParseAnswer reads body as a JSON object.
func ParseAnswer(body []byte) Answer {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return nil
	}
	a := make(Answer, len(raw))
	for k, v := range raw {
		a[FoldKey(k)] = v
	}
	return a
}

var keyFolder = strings.NewReplacer("_", "", "-", "")

// FoldKey folds the spellings of one field name together: upload_id,
// uploadId, UploadId and upload-id are all "uploadid".
func FoldKey(k string) string {
	return strings.ToLower(keyFolder.Replace(k))
}

// Raw is the first of names that is present and not null.
func (a Answer) Raw(names []string) (json.RawMessage, bool) {
	for _, n := range names {
		if v, ok := a[FoldKey(n)]; ok && string(v) != "null" {
			return v, true
		}
	}
	return nil, false
}

// Has reports whether any of names is present and not null.
func (a Answer) Has(names []string) bool {
	_, ok := a.Raw(names)
	return ok
}

// Str is the first of names that holds a string or a number, as text.
func (a Answer) Str(names []string) string {
	v, _ := a.Raw(names)
	return RawText(v)
}

// Int is the first of names that holds an integer, or a string of one.
func (a Answer) Int(names []string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(a.Str(names)), 10, 64)
	return n, err == nil
}

// List is the first of names that holds an array of objects.
func (a Answer) List(names []string) ([]Answer, bool) {
	v, ok := a.Raw(names)
	if !ok {
		return nil, false
	}
	var items []json.RawMessage
	if json.Unmarshal(v, &items) != nil {
		return nil, false
	}
	out := make([]Answer, len(items))
	for i, it := range items {
		if out[i] = ParseAnswer(it); out[i] == nil {
			return nil, false
		}
	}
	return out, true
}

// Object is the first of names that holds an object.
func (a Answer) Object(names []string) (Answer, bool) {
	v, ok := a.Raw(names)
	if !ok {
		return nil, false
	}
	inner := ParseAnswer(v)
	return inner, inner != nil
}

// In returns a when it holds any of names, or else the first of the
// wrapper objects (an envelope such as "data" or "result") that does.
func (a Answer) In(wrappers, names []string) Answer {
	if a.Has(names) {
		return a
	}
	for _, w := range wrappers {
		if inner, ok := a.Object([]string{w}); ok && inner.Has(names) {
			return inner
		}
	}
	return a
}

// AnswerReader is an answer shape a client reads: ReadAnswer fills it
// from a (nil when the body, or the part of it the platform's envelope
// carries, is not a JSON object) and names what is missing, or returns "".
type AnswerReader interface {
	ReadAnswer(a Answer) (missing string)
}

// RawText renders a JSON string or number as text ("" for anything else).
func RawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// Missing joins, sorted, the names flagged true: what an answer lacks.
func Missing(flags map[string]bool) string {
	var out []string
	for k, v := range flags {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " or ")
}

// ReportURL is where a user reports an answer the provider cannot read.
const ReportURL = "https://github.com/audiencekit/terraform-provider-audience/issues"

// ShapeError is an answer a client cannot read in any spelling it knows.
// It names the call, the status, the request id and the answer's keys and
// value types, never its values, so it can be reported as it is.
type ShapeError struct {
	Platform  string // "Future Demand", "Mintegral", …
	Op        string // e.g. "POST /storage/presigned-url"
	Status    int
	RequestID string
	Missing   string // what was looked for, e.g. "upload_id or parts"
	Shape     string // Shape of the body
}

func (e *ShapeError) Error() string {
	id := e.RequestID
	if id == "" {
		id = "none sent"
	}
	return fmt.Sprintf("%s %s: HTTP %d (request id %s) with an answer the provider cannot read: it has no %s in any spelling the provider knows. "+
		"The answer's shape (its keys and value types, no values) is %s. Please report this shape, the call and the request id at "+
		"%s, so the provider learns to read it", e.Platform, e.Op, e.Status, id, e.Missing, e.Shape, ReportURL)
}

// NewShapeError describes body, the answer of op, as a *ShapeError.
func NewShapeError(platform, op string, status int, requestID, missing string, body []byte) *ShapeError {
	return &ShapeError{Platform: platform, Op: op, Status: status, RequestID: requestID, Missing: missing, Shape: Shape(body)}
}
