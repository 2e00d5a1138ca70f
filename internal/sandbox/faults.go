package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// AdminFaultsPath is the sandbox's own endpoint for faults: POST queues
// one (JSON or the text form ParseFault reads), GET lists the pending
// ones, DELETE clears them. It is never subject to faults itself.
const AdminFaultsPath = AdminPrefix + "faults"

// Fault makes the next requests that match it misbehave the way real
// platforms and storage do: an error status (with Retry-After), a
// connection reset in the middle of the request body, a lost answer after
// the request took effect, or a slow answer.
type Fault struct {
	Method          string        // "" matches any method
	PathPrefix      string        // matched against r.URL.Path as the sandbox sees it, platform mount prefix included (e.g. "/mintegral/api/open/v1/audience", "/s3/")
	PathSuffix      string        // if set: the path must also end with it (an object key's file name, "/a.txt")
	Query           string        // if set, "name=value": the request's query parameter name must have exactly that value
	Count           int           // how many matching requests it hits; 0 means 1
	Status          int           // if set: answer with this HTTP status instead of handling the request
	RetryAfter      string        // with Status: Retry-After header value ("2" or an HTTP date)
	ResetAfterBytes int64         // if > 0: read this many request-body bytes, then reset the TCP connection (no answer)
	DropResponse    bool          // handle the request normally (its effects happen), then reset the connection instead of sending the answer
	Delay           time.Duration // wait this long before acting (before answering/handling)
	// ResetAfterResponseBytes, if > 0: handle the request normally, send
	// the status, headers and this many bytes of the answer's body, then
	// reset the connection (a download broken mid-body). An answer no
	// longer than that is sent whole before the reset.
	ResetAfterResponseBytes int64
	// Respell, if set: handle the request normally, then send its JSON
	// answer with every object key respelled, as another server of the
	// platform's family (or a changed API) would answer: "camel"
	// (upload_id → uploadId), "snake" (uploadId → upload_id), "pascal"
	// (UploadId), or "unknown" (every key renamed so that no spelling a
	// client knows fits).
	Respell string
}

// Respell modes.
var respellModes = []string{"camel", "snake", "pascal", "unknown"}

// Validate reports a fault that would do nothing or contradicts itself.
func (f Fault) Validate() error {
	if !strings.HasPrefix(f.PathPrefix, "/") {
		return fmt.Errorf("path prefix %q must start with /", f.PathPrefix)
	}
	if name, _, ok := strings.Cut(f.Query, "="); f.Query != "" && (!ok || name == "") {
		return fmt.Errorf("query %q must be name=value", f.Query)
	}
	if f.Count < 0 {
		return fmt.Errorf("count %d must not be negative", f.Count)
	}
	actions := 0
	if f.Status != 0 {
		if f.Status < 100 || f.Status > 599 {
			return fmt.Errorf("status %d is not an HTTP status", f.Status)
		}
		actions++
	}
	if f.ResetAfterBytes < 0 {
		return fmt.Errorf("reset after %d bytes must not be negative", f.ResetAfterBytes)
	}
	if f.ResetAfterBytes > 0 {
		actions++
	}
	if f.DropResponse {
		actions++
	}
	if f.ResetAfterResponseBytes < 0 {
		return fmt.Errorf("reset after %d response bytes must not be negative", f.ResetAfterResponseBytes)
	}
	if f.ResetAfterResponseBytes > 0 {
		actions++
	}
	if f.Respell != "" {
		if !slices.Contains(respellModes, f.Respell) {
			return fmt.Errorf("respell %q: want one of %s", f.Respell, strings.Join(respellModes, ", "))
		}
		actions++
	}
	if actions > 1 {
		return errors.New("status, reset after request bytes, reset after response bytes, drop response and respell exclude each other")
	}
	if f.RetryAfter != "" && f.Status == 0 {
		return errors.New("retry-after needs a status")
	}
	if f.Delay < 0 {
		return fmt.Errorf("delay %s must not be negative", f.Delay)
	}
	if actions == 0 && f.Delay == 0 {
		return errors.New("a fault needs a status, a reset, a dropped answer, a respelled answer or a delay")
	}
	return nil
}

// String renders the fault in the form ParseFault reads.
func (f Fault) String() string {
	method := f.Method
	if method == "" {
		method = "*"
	}
	parts := []string{method, f.PathPrefix}
	if f.PathSuffix != "" {
		parts = append(parts, "suffix="+strconv.Quote(f.PathSuffix))
	}
	if f.Query != "" {
		parts = append(parts, "query="+strconv.Quote(f.Query))
	}
	if f.Status != 0 {
		parts = append(parts, "status="+strconv.Itoa(f.Status))
	}
	if f.RetryAfter != "" {
		parts = append(parts, "retry-after="+strconv.Quote(f.RetryAfter))
	}
	if f.ResetAfterBytes > 0 {
		parts = append(parts, "reset-after="+strconv.FormatInt(f.ResetAfterBytes, 10))
	}
	if f.ResetAfterResponseBytes > 0 {
		parts = append(parts, "reset-response-after="+strconv.FormatInt(f.ResetAfterResponseBytes, 10))
	}
	if f.DropResponse {
		parts = append(parts, "drop")
	}
	if f.Respell != "" {
		parts = append(parts, "respell="+f.Respell)
	}
	if f.Delay > 0 {
		parts = append(parts, "delay="+f.Delay.String())
	}
	if f.Count > 1 {
		parts = append(parts, "count="+strconv.Itoa(f.Count))
	}
	return strings.Join(parts, " ")
}

// ParseFault reads the text form of a fault, as given to
// `audience-sandbox -fault` and to the admin endpoint:
//
//	[METHOD] /path/prefix key=value...
//
// METHOD is an HTTP method or * (any; also when left out). Keys:
// suffix=/a.txt (the path's end too), query=file_name=a.txt (a query
// parameter's exact value), status=503,
// retry-after=2 (quote a value with spaces, e.g. an HTTP date), count=2,
// reset-after=1024 (bytes of request body), reset-response-after=1024
// (bytes of the answer's body), drop (no value), respell=camel|snake|
// pascal|unknown (the JSON answer's keys), delay=1.5s.
func ParseFault(spec string) (Fault, error) {
	fields, err := splitFaultSpec(spec)
	if err != nil {
		return Fault{}, err
	}
	var f Fault
	if len(fields) > 0 && !strings.HasPrefix(fields[0], "/") {
		if fields[0] != "*" {
			f.Method = strings.ToUpper(fields[0])
		}
		fields = fields[1:]
	}
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
		return Fault{}, fmt.Errorf("fault %q: want [METHOD] /path/prefix key=value..., e.g. \"PUT /s3/ status=503 count=2\"", spec)
	}
	f.PathPrefix = fields[0]
	for _, field := range fields[1:] {
		key, value, hasValue := strings.Cut(field, "=")
		var err error
		switch key {
		case "suffix":
			f.PathSuffix = value
			if value == "" {
				err = errors.New("empty value")
			}
		case "query":
			f.Query = value
			if value == "" {
				err = errors.New("empty value")
			}
		case "status":
			f.Status, err = strconv.Atoi(value)
		case "retry-after":
			f.RetryAfter = value
			if value == "" {
				err = errors.New("empty value")
			}
		case "count":
			f.Count, err = strconv.Atoi(value)
		case "reset-after":
			f.ResetAfterBytes, err = strconv.ParseInt(value, 10, 64)
		case "reset-response-after":
			f.ResetAfterResponseBytes, err = strconv.ParseInt(value, 10, 64)
		case "drop":
			f.DropResponse = true
			if hasValue {
				err = errors.New("drop takes no value")
			}
		case "respell":
			f.Respell = value
		case "delay":
			f.Delay, err = time.ParseDuration(value)
		default:
			err = errors.New("unknown key; known: suffix, query, status, retry-after, count, reset-after, reset-response-after, drop, respell, delay")
		}
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: %s: %w", spec, field, err)
		}
	}
	if err := f.Validate(); err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", spec, err)
	}
	return f, nil
}

// splitFaultSpec splits on spaces, keeping double-quoted values together
// (retry-after="Wed, 21 Oct 2026 07:28:00 GMT").
func splitFaultSpec(spec string) ([]string, error) {
	var fields []string
	var cur strings.Builder
	inQuote, started := false, false
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		switch {
		case c == '"':
			inQuote = !inQuote
			started = true
		case (c == ' ' || c == '\t') && !inQuote:
			if started {
				fields = append(fields, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("fault %q: unterminated quote", spec)
	}
	if started {
		fields = append(fields, cur.String())
	}
	return fields, nil
}

// pendingFault is a queued fault with its remaining hits and the answer
// it sends when it has a Status. pathContains serves InjectFault, which
// matches a substring of the path.
type pendingFault struct {
	Fault
	remaining    int
	pathContains string
	body         string
	contentType  string
}

func (p *pendingFault) matches(r *http.Request) bool {
	if p.remaining <= 0 || (p.Method != "" && p.Method != r.Method) {
		return false
	}
	if p.pathContains != "" {
		return strings.Contains(r.URL.Path, p.pathContains)
	}
	if name, value, _ := strings.Cut(p.Query, "="); p.Query != "" && r.URL.Query().Get(name) != value {
		return false
	}
	return strings.HasPrefix(r.URL.Path, p.PathPrefix) && strings.HasSuffix(r.URL.Path, p.PathSuffix)
}

// AddFault queues a fault; faults are tried in the order they were added
// and each request takes at most one. It panics on a fault that fails
// Validate, as that is a mistake in the calling test.
func (s *Server) AddFault(f Fault) {
	if err := f.Validate(); err != nil {
		panic("sandbox: AddFault: " + err.Error())
	}
	s.queueFault(&pendingFault{
		Fault:       f,
		remaining:   max(f.Count, 1),
		body:        fmt.Sprintf("sandbox fault: %d %s\n", f.Status, http.StatusText(f.Status)),
		contentType: "text/plain; charset=utf-8",
	})
}

// InjectFault makes the next n requests whose method matches (empty = any)
// and whose path contains pathContains fail with status and body, for
// errors whose body matters (a platform's error code).
func (s *Server) InjectFault(method, pathContains string, n, status int, body string) {
	s.queueFault(&pendingFault{
		Fault:        Fault{Method: method, PathPrefix: "/", Count: n, Status: status},
		remaining:    n,
		pathContains: pathContains,
		body:         body,
	})
}

// ClearFaults drops every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// PendingFaults lists the queued faults, Count set to the hits left.
func (s *Server) PendingFaults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, p := range s.faults {
		f := p.Fault
		f.Count = p.remaining
		out = append(out, f)
	}
	return out
}

func (s *Server) queueFault(p *pendingFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, p)
}

// takeFault returns the first pending fault matching r, counting the hit
// and forgetting faults that are used up.
func (s *Server) takeFault(r *http.Request) *pendingFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.faults {
		if p.matches(r) {
			p.remaining--
			if p.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
			return p
		}
	}
	return nil
}

// applyFault acts out p on the request. It returns how the exchange ended
// for the request log: the status sent, or 0 when the connection was reset.
// w must be the server's own ResponseWriter (it is hijacked for resets).
func (s *Server) applyFault(p *pendingFault, w http.ResponseWriter, logged *loggingWriter, r *http.Request) (status int, kind string) {
	if p.Delay > 0 {
		t := time.NewTimer(p.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return 0, "delay, client gone"
		}
	}
	switch {
	case p.Status != 0:
		drain(r)
		if p.RetryAfter != "" {
			logged.Header().Set("Retry-After", p.RetryAfter)
		}
		if p.contentType != "" {
			logged.Header().Set("Content-Type", p.contentType)
		}
		logged.WriteHeader(p.Status)
		_, _ = io.WriteString(logged, p.body)
		return p.Status, "injected status"
	case p.ResetAfterBytes > 0:
		if r.Body != nil {
			_, _ = io.CopyN(io.Discard, r.Body, p.ResetAfterBytes)
		}
		resetConnection(w)
		return 0, "reset after " + strconv.FormatInt(p.ResetAfterBytes, 10) + " bytes"
	case p.ResetAfterResponseBytes > 0:
		cut := &cuttingWriter{loggingWriter: logged, remaining: p.ResetAfterResponseBytes}
		s.route(cut, r)
		_ = http.NewResponseController(w).Flush()
		drain(r)
		resetConnection(w)
		return 0, fmt.Sprintf("%d answer reset after %d body bytes", logged.statusOr200(), logged.written)
	case p.Respell != "":
		rec := &bufferingWriter{header: http.Header{}}
		s.route(rec, r)
		for k, v := range rec.header {
			logged.Header()[k] = v
		}
		body := respellJSON(rec.body.Bytes(), p.Respell)
		logged.Header().Set("Content-Length", strconv.Itoa(len(body)))
		logged.WriteHeader(rec.statusOr200())
		_, _ = logged.Write(body)
		return logged.statusOr200(), "answer respelled " + p.Respell
	case p.DropResponse:
		rec := &loggingWriter{ResponseWriter: discardingWriter{header: http.Header{}}}
		s.route(rec, r)
		drain(r)
		resetConnection(w)
		return 0, fmt.Sprintf("dropped %d answer", rec.statusOr200())
	default: // delay only
		s.route(logged, r)
		return logged.statusOr200(), "delay"
	}
}

// resetConnection aborts the connection with a TCP reset (SO_LINGER 0),
// so the client sees a broken connection and no answer.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the handler, which also breaks
		// the stream without an answer.
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// errAnswerCut tells a handler its answer is being cut by a fault.
var errAnswerCut = errors.New("sandbox fault: answer cut")

// cuttingWriter passes the first remaining bytes of an answer's body on
// and refuses the rest.
type cuttingWriter struct {
	*loggingWriter
	remaining int64
}

func (c *cuttingWriter) Write(b []byte) (int, error) {
	if int64(len(b)) <= c.remaining {
		n, err := c.loggingWriter.Write(b)
		c.remaining -= int64(n)
		return n, err
	}
	n, err := c.loggingWriter.Write(b[:c.remaining])
	c.remaining -= int64(n)
	if err == nil {
		err = errAnswerCut
	}
	return n, err
}

// discardingWriter runs a handler whose answer will never be sent.
type discardingWriter struct{ header http.Header }

func (d discardingWriter) Header() http.Header         { return d.header }
func (d discardingWriter) WriteHeader(int)             {}
func (d discardingWriter) Write(b []byte) (int, error) { return len(b), nil }

// bufferingWriter keeps a handler's answer so a fault can change it.
type bufferingWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferingWriter) Header() http.Header { return b.header }
func (b *bufferingWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}
func (b *bufferingWriter) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}
func (b *bufferingWriter) statusOr200() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

// respellJSON renames every object key of a JSON document by mode; a body
// that is not JSON is sent as it is.
func respellJSON(body []byte, mode string) []byte {
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return body
	}
	out, err := json.Marshal(respellValue(v, mode))
	if err != nil {
		return body
	}
	return out
}

func respellValue(v any, mode string) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, val := range t {
			m[respellKey(k, mode)] = respellValue(val, mode)
		}
		return m
	case []any:
		for i := range t {
			t[i] = respellValue(t[i], mode)
		}
		return t
	}
	return v
}

// respellKey splits k into words (at "_", "-" and lower-to-upper case
// changes) and joins them the way mode spells.
func respellKey(k, mode string) string {
	if mode == "unknown" {
		return "zz" + k + "Renamed"
	}
	var words []string
	var cur []rune
	prevLower := false
	for _, c := range k {
		switch {
		case c == '_' || c == '-':
			if len(cur) > 0 {
				words = append(words, string(cur))
			}
			cur, prevLower = nil, false
			continue
		case unicode.IsUpper(c) && prevLower:
			words = append(words, string(cur))
			cur = nil
		}
		cur = append(cur, unicode.ToLower(c))
		prevLower = unicode.IsLower(c) || unicode.IsDigit(c)
	}
	if len(cur) > 0 {
		words = append(words, string(cur))
	}
	for i, w := range words {
		if (mode == "camel" && i > 0) || mode == "pascal" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	if mode == "snake" {
		return strings.Join(words, "_")
	}
	return strings.Join(words, "")
}

// faultJSON is Fault on the admin endpoint's wire: delay as a Go duration
// string ("1.5s").
type faultJSON struct {
	Method          string `json:"method,omitempty"`
	PathPrefix      string `json:"path_prefix"`
	PathSuffix      string `json:"path_suffix,omitempty"`
	Query           string `json:"query,omitempty"`
	Count           int    `json:"count,omitempty"`
	Status          int    `json:"status,omitempty"`
	RetryAfter      string `json:"retry_after,omitempty"`
	ResetAfterBytes int64  `json:"reset_after_bytes,omitempty"`
	DropResponse    bool   `json:"drop_response,omitempty"`
	Delay           string `json:"delay,omitempty"`
	Respell         string `json:"respell,omitempty"`

	ResetAfterResponseBytes int64 `json:"reset_after_response_bytes,omitempty"`
}

func toFaultJSON(f Fault) faultJSON {
	j := faultJSON{
		Method: f.Method, PathPrefix: f.PathPrefix, PathSuffix: f.PathSuffix, Query: f.Query, Count: f.Count, Status: f.Status, RetryAfter: f.RetryAfter,
		ResetAfterBytes: f.ResetAfterBytes, DropResponse: f.DropResponse, ResetAfterResponseBytes: f.ResetAfterResponseBytes, Respell: f.Respell,
	}
	if f.Delay > 0 {
		j.Delay = f.Delay.String()
	}
	return j
}

func (j faultJSON) fault() (Fault, error) {
	f := Fault{
		Method: strings.ToUpper(j.Method), PathPrefix: j.PathPrefix, PathSuffix: j.PathSuffix, Query: j.Query, Count: j.Count, Status: j.Status, RetryAfter: j.RetryAfter,
		ResetAfterBytes: j.ResetAfterBytes, DropResponse: j.DropResponse, ResetAfterResponseBytes: j.ResetAfterResponseBytes, Respell: j.Respell,
	}
	if j.Delay != "" {
		d, err := time.ParseDuration(j.Delay)
		if err != nil {
			return Fault{}, fmt.Errorf("delay: %w", err)
		}
		f.Delay = d
	}
	return f, f.Validate()
}

// maxAdminBody bounds what the admin endpoint reads: one fault.
const maxAdminBody = 64 << 10

// handleAdminFaults serves AdminFaultsPath.
func (s *Server) handleAdminFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		list := []faultJSON{}
		for _, f := range s.PendingFaults() {
			list = append(list, toFaultJSON(f))
		}
		writeAdminJSON(w, http.StatusOK, list)
	case http.MethodPost:
		f, err := readAdminFault(r)
		if err != nil {
			writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		s.AddFault(f)
		writeAdminJSON(w, http.StatusCreated, toFaultJSON(f))
	case http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeAdminJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET, POST or DELETE"})
	}
}

// readAdminFault reads a JSON fault, or the text form when the body does
// not start with "{".
func readAdminFault(r *http.Request) (Fault, error) {
	var b strings.Builder
	if _, err := io.Copy(&b, io.LimitReader(r.Body, maxAdminBody)); err != nil {
		return Fault{}, err
	}
	text := strings.TrimSpace(b.String())
	if !strings.HasPrefix(text, "{") {
		return ParseFault(text)
	}
	var j faultJSON
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Fault{}, fmt.Errorf("fault JSON: %w", err)
	}
	return j.fault()
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
