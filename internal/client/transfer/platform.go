package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// DefaultAPITimeout bounds one API call attempt, from sending the request
// to the last byte of the answer. API answers are small: a server that
// stays silent this long is stuck, not busy.
const DefaultAPITimeout = 60 * time.Second

// Platform is the one HTTP layer of a platform client: every API call and
// every storage transfer goes through it, so they share one retry policy,
// one redaction rule, one logger and one way of reporting failures.
type Platform struct {
	name            string // e.g. "Mintegral"
	endpointSetting string
	timeoutSetting  string
	hc              *http.Client
	log             Logger
	now             func() time.Time
	retry           Retry
	apiTimeout      time.Duration
	limiter         *Limiter
}

// Options configures a Platform. The zero value works.
type Options struct {
	// HTTP carries the requests (its Transport is kept; nil means a pooled
	// client). It must not set an overall Timeout: transfers are bounded
	// by the caller's context, API calls by APITimeout.
	HTTP *http.Client
	Log  Logger
	// Now is the clock for signatures, expiry checks and Retry-After dates.
	Now   func() time.Time
	Retry Retry
	// APITimeout bounds each API call attempt (default DefaultAPITimeout).
	// Transfers have no such limit: they take as long as the caller's
	// context allows.
	APITimeout time.Duration
	// EndpointSetting names where the user sets the API endpoint, e.g.
	// "mintegral.endpoint (MINTEGRAL_ENDPOINT)"; errors for an unreachable
	// API name it.
	EndpointSetting string
	// APITimeoutSetting says how the user raises APITimeout; errors for a
	// silent API name it.
	APITimeoutSetting string
	// Limiter, when set, is the budget every API attempt waits on and a
	// 429 pauses (see SharedLimiter); nil means no limit.
	Limiter *Limiter
}

// NewPlatform returns the HTTP layer of the platform called name.
func NewPlatform(name string, o Options) *Platform {
	hc := o.HTTP
	if hc == nil {
		hc = cleanhttp.DefaultPooledClient()
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	limited := *hc
	limited.Transport = attemptLimit{next: next, trace: tracer{name: name, log: OrNop(o.Log)}, budget: o.Limiter}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	limit := o.APITimeout
	if limit <= 0 {
		limit = DefaultAPITimeout
	}
	return &Platform{
		name:            name,
		endpointSetting: o.EndpointSetting,
		timeoutSetting:  o.APITimeoutSetting,
		hc:              &limited,
		log:             OrNop(o.Log),
		now:             now,
		retry:           o.Retry.withDefaults(),
		apiTimeout:      limit,
		limiter:         o.Limiter,
	}
}

// Name is the platform's name as errors show it.
func (p *Platform) Name() string { return p.name }

// Now reads the platform's clock.
func (p *Platform) Now() time.Time { return p.now() }

// Log is the platform's logger.
func (p *Platform) Log() Logger { return p.log }

// Retry is the retry policy: 429, 500, 502, 503, 504 and broken
// connections are tried again, up to Attempts in all, waiting an
// exponential backoff with jitter, or what Retry-After asks (capped).
type Retry struct {
	Attempts      int           // total attempts, default 5
	Base          time.Duration // first backoff, default 500ms
	Max           time.Duration // backoff cap, default 10s
	MaxRetryAfter time.Duration // cap on a server's Retry-After, default 60s
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 5
	}
	if r.Base <= 0 {
		r.Base = 500 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 10 * time.Second
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = time.Minute
	}
	return r
}

// backoff is the wait before retry n (1-based), with jitter.
func (r Retry) backoff(n int) time.Duration {
	d := r.Base << (n - 1)
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	return d/2 + rand.N(d/2+1)
}

// Transient reports whether an HTTP status is worth retrying.
func Transient(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// notActedOn reports statuses meaning the server certainly did not act on
// the request, so even a create may be sent again.
func notActedOn(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// exchange is one logical request and its attempts.
type exchange struct {
	service    string // "API" or "storage"
	op         string // method and redacted URL
	repeatable bool   // false for a request that creates something
	limit      time.Duration
	// retryIf lets a platform ask for a retry on a body-level answer
	// (e.g. a rate-limit code under HTTP 200).
	retryIf func(status int, body []byte) bool
	// rateLimited recognises a rate limit said in the body: retried and
	// pausing the platform like a 429.
	rateLimited func(status int, body []byte) bool
	// handle consumes the body of an answer that is not retried; an error
	// it returns is judged like a broken connection.
	handle func(*http.Response) error
	// eachAttempt, when set, sets headers that must differ per attempt.
	eachAttempt func(http.Header)

	attempt   int
	wrote     atomic.Bool // the current attempt's request was fully written
	timedOut  atomic.Bool // the current attempt hit limit
	wait      time.Duration
	ambiguous bool
	// resentUnclear: a retried attempt may have been acted on.
	resentUnclear bool
}

type exchangeKey struct{}

// attemptLimit applies an exchange's per-attempt limit, from sending the
// request to closing the answer's body, and traces each attempt.
type attemptLimit struct {
	next   http.RoundTripper
	trace  tracer
	budget *Limiter
}

func (a attemptLimit) RoundTrip(r *http.Request) (*http.Response, error) {
	ex, _ := r.Context().Value(exchangeKey{}).(*exchange)
	if ex == nil {
		return a.next.RoundTrip(r)
	}
	if ex.service == serviceAPI { // storage is another service's budget
		if err := a.budget.Wait(r.Context(), r.Method, r.URL.Path); err != nil {
			return nil, err
		}
	}
	return a.trace.start(r, ex).end(a.limited(r, ex))
}

func (a attemptLimit) limited(r *http.Request, ex *exchange) (*http.Response, error) {
	if ex.limit <= 0 {
		return a.next.RoundTrip(r)
	}
	ctx, cancel := context.WithCancel(r.Context())
	timer := time.AfterFunc(ex.limit, func() {
		ex.timedOut.Store(true)
		cancel()
	})
	stop := func() {
		timer.Stop()
		cancel()
	}
	resp, err := a.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		stop()
		return nil, err
	}
	resp.Body = &stopOnClose{ReadCloser: resp.Body, stop: stop}
	return resp, nil
}

type stopOnClose struct {
	io.ReadCloser
	stop func()
}

func (s *stopOnClose) Close() error {
	err := s.ReadCloser.Close()
	s.stop()
	return err
}

// exchange runs one request with the retry policy. body, when not nil,
// opens a fresh pass over a body of length bytes for every attempt.
func (p *Platform) exchange(ctx context.Context, ex *exchange, method, rawURL string, header http.Header, body func() (io.Reader, error), length int64) (*http.Response, error) {
	ex.op = method + " " + RedactURL(rawURL)
	ctx = context.WithValue(ctx, exchangeKey{}, ex)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { ex.wrote.Store(i.Err == nil) },
	})
	var raw any
	if body != nil && length > 0 {
		raw = retryablehttp.ReaderFunc(body)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, rawURL, raw)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s: %w", p.name, ex.service, ex.op, stripURL(err))
	}
	req.ContentLength = length // fixed, never chunked
	for k, vs := range header {
		req.Header[k] = vs
	}
	if ex.handle != nil {
		req.SetResponseHandler(ex.handle)
	}
	rc := &retryablehttp.Client{
		HTTPClient: p.hc,
		RetryMax:   p.retry.Attempts - 1,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			return p.checkRetry(ctx, ex, resp, err), nil
		},
		Backoff: func(time.Duration, time.Duration, int, *http.Response) time.Duration { return ex.wait },
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, n int) {
			if ex.eachAttempt != nil {
				ex.eachAttempt(r.Header)
			}
			ex.attempt = n + 1
			ex.wrote.Store(false)
			ex.timedOut.Store(false)
		},
		ErrorHandler: func(resp *http.Response, err error, _ int) (*http.Response, error) { return resp, err },
	}
	resp, err := rc.Do(req)
	if err == nil && (Transient(resp.StatusCode) || ex.ambiguous) {
		return nil, p.statusError(ex, resp)
	}
	if err == nil {
		return resp, nil
	}
	if resp != nil {
		_ = resp.Body.Close()
	}
	return nil, p.failure(ctx, ex, err)
}

// checkRetry is the retry policy; it also sets the wait and logs it.
func (p *Platform) checkRetry(ctx context.Context, ex *exchange, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var reason string
	limited := resp != nil && resp.StatusCode == http.StatusTooManyRequests
	switch {
	case err != nil:
		if errors.Is(err, ErrContentChanged) || ex.timedOut.Load() || !brokenConnection(err) {
			return false
		}
		if ex.wrote.Load() && !ex.repeatable {
			ex.ambiguous = true // the server may have acted; the caller decides
			return false
		}
		if ex.wrote.Load() {
			ex.resentUnclear = true
		}
		reason = stripURL(err).Error()
	case Transient(resp.StatusCode):
		if !ex.repeatable && !notActedOn(resp.StatusCode) {
			ex.ambiguous = true
			return false
		}
		if !notActedOn(resp.StatusCode) {
			ex.resentUnclear = true
		}
		reason = "HTTP " + strconv.Itoa(resp.StatusCode)
	case ex.retryIf != nil || ex.rateLimited != nil:
		b, _ := ReadSmall(resp.Body, AnswerLimit+1)
		// Put back what was read, so the answer's reader sees all of it.
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
		b = b[:min(len(b), AnswerLimit)]
		switch {
		case ex.rateLimited != nil && ex.rateLimited(resp.StatusCode, b):
			// The platform did not act on it: even a create goes again.
			limited, reason = true, "the platform's rate limit (in the answer)"
		case ex.retryIf != nil && ex.retryIf(resp.StatusCode, b):
			reason = "the platform asked to try again"
		default:
			return false
		}
		// The body is drained by the retry, or read as the last answer.
	default:
		return false
	}
	wait := p.retry.backoff(ex.attempt)
	if resp != nil {
		if after, ok := p.retryAfter(resp.Header.Get("Retry-After")); ok {
			wait = after
		}
		if limited && ex.service == serviceAPI {
			p.limiter.Pause(wait) // the whole platform slows down, not just this call
		}
	}
	if ex.attempt >= p.retry.Attempts {
		return true // retryablehttp stops here and hands back the last answer
	}
	ex.wait = wait
	p.log.Info(ctx, "retrying "+p.name+" "+ex.service+" request", map[string]any{
		"op": ex.op, "attempt": ex.attempt + 1, "of": p.retry.Attempts, "wait": ex.wait.String(), "reason": reason,
	})
	return true
}

type readCloser struct {
	io.Reader
	io.Closer
}

// retryAfter parses a Retry-After value (seconds or an HTTP date), capped.
func (p *Platform) retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(p.now()), 0)
	} else {
		return 0, false
	}
	return min(d, p.retry.MaxRetryAfter), true
}

// brokenConnection reports transport failures worth another try: resets,
// early EOFs, refused connections. A host name that does not resolve and
// other failures (TLS, bad URLs) would fail the same way again.
func brokenConnection(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTemporary || dns.IsTimeout
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op)
}

// unreachable reports failures to reach the host at all.
func unreachable(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

// failure turns a transport failure into a typed error.
func (p *Platform) failure(ctx context.Context, ex *exchange, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return &StoppedError{Platform: p.name, Service: ex.service, Op: ex.op, Err: context.Cause(ctx)}
	}
	var local *localError
	if errors.Is(err, ErrContentChanged) || errors.As(err, &local) {
		return fmt.Errorf("%s %s: %s: %w", p.name, ex.service, ex.op, stripURL(err))
	}
	ambiguous := ex.wrote.Load() && !ex.repeatable
	if ex.timedOut.Load() {
		return &TimeoutError{Platform: p.name, Service: ex.service, Op: ex.op, Limit: ex.limit, Setting: p.timeoutSetting, Ambiguous: ambiguous}
	}
	ce := &ConnectionError{Platform: p.name, Service: ex.service, Op: ex.op, Attempts: ex.attempt, Err: stripURL(err), Ambiguous: ambiguous}
	if ex.service == serviceAPI && unreachable(err) {
		ce.Setting = p.endpointSetting
	}
	return ce
}

// statusError reads a failed answer into an HTTPError and closes it.
func (p *Platform) statusError(ex *exchange, resp *http.Response) *HTTPError {
	body, _ := ReadSmall(resp.Body, 64<<10)
	_ = resp.Body.Close()
	e := &HTTPError{Platform: p.name, Service: ex.service, Op: ex.op, Status: resp.StatusCode, Attempts: ex.attempt,
		Ambiguous: ex.ambiguous && !notActedOn(resp.StatusCode)}
	e.Code, e.Message = errorDocument(body)
	return e
}

const (
	serviceAPI     = "API"
	serviceStorage = "storage"
)

// APIRequest is one API call: a small body held in memory.
type APIRequest struct {
	Method string
	URL    string // may carry a token in its query; never logged or returned in errors
	Header http.Header
	Body   []byte
	// Duplicate must say what a second copy of the request costs, next
	// to the call. DuplicateVisible (a second audience) is sent again only
	// when the server certainly did not act on it (429, 503, or the
	// connection failed before the request was written); otherwise its
	// failure comes back at once and Ambiguous reports it.
	// DuplicateHarmless (a read, an upload session, an export task) is
	// sent again after any transient failure.
	Duplicate Duplicate
	// EachAttempt, when set, is called before every attempt to set
	// headers that must be new each time (OpenIM's operationID).
	EachAttempt func(http.Header)
	// RateLimited: see FormPost.RateLimited.
	RateLimited func(status int, body []byte) bool
}

// APIResponse is an API answer that was not retried: any status but
// 429 and 5xx. Its body is read (up to AnswerLimit) within the API limit.
type APIResponse struct {
	Op       string // method and redacted URL
	Status   int
	Header   http.Header
	Body     []byte
	Attempts int
	// AfterUnclear: an earlier attempt was sent in full and its answer
	// lost, or it was answered 500, 502 or 504, so the server may have
	// acted on it before this answer, which then describes what that
	// attempt left (e.g. a 404 for what it consumed).
	AfterUnclear bool
}

// Call sends an API request with the retry policy and the per-request API
// limit. Answers with other statuses than 429 and 5xx come back for the
// platform to read its envelope; see StatusError.
func (p *Platform) Call(ctx context.Context, r APIRequest) (*APIResponse, error) {
	if r.Duplicate == duplicateUndeclared {
		return nil, fmt.Errorf("%s API call %s %s: the caller did not declare what a duplicate costs (APIRequest.Duplicate)", p.name, r.Method, RedactURL(r.URL))
	}
	ex := &exchange{service: serviceAPI, repeatable: r.Duplicate != DuplicateVisible, limit: p.apiTimeout, eachAttempt: r.EachAttempt, rateLimited: r.RateLimited}
	var out APIResponse
	read := false
	ex.handle = func(resp *http.Response) error {
		if Transient(resp.StatusCode) {
			return nil // checkRetry already saw it; the error reads it
		}
		b, err := ReadSmall(resp.Body, AnswerLimit)
		_ = resp.Body.Close()
		out.Body, read = b, true
		return err
	}
	var body func() (io.Reader, error)
	if r.Body != nil {
		body = func() (io.Reader, error) { return bytes.NewReader(r.Body), nil }
	}
	resp, err := p.exchange(ctx, ex, r.Method, r.URL, r.Header, body, int64(len(r.Body)))
	if err != nil {
		return nil, err
	}
	if !read { // the last answer asked for a retry that the policy did not grant
		_ = ex.handle(resp)
	}
	out.Op, out.Status, out.Header, out.Attempts, out.AfterUnclear = ex.op, resp.StatusCode, resp.Header, ex.attempt, ex.resentUnclear
	if e := p.noSuchPath(ex, resp.StatusCode, out.Body); e != nil {
		return nil, e
	}
	return &out, nil
}

// noSuchPath reports an API answer of 404 whose body is not JSON: a web
// server's page for a path the API does not have, which every platform
// answers in JSON. The endpoint setting is then the thing to check.
func (p *Platform) noSuchPath(ex *exchange, status int, body []byte) *HTTPError {
	if status != http.StatusNotFound || ex.service != serviceAPI || p.endpointSetting == "" || json.Valid(body) {
		return nil
	}
	e := &HTTPError{Platform: p.name, Service: ex.service, Op: ex.op, Status: status, Attempts: ex.attempt, Setting: p.endpointSetting}
	e.Code, e.Message = errorDocument(body)
	return e
}

// StatusError describes an answer whose body is not the platform's
// envelope: the HTTP status is all there is to say.
func (p *Platform) StatusError(r *APIResponse) *HTTPError {
	e := &HTTPError{Platform: p.name, Service: serviceAPI, Op: r.Op, Status: r.Status, Attempts: r.Attempts}
	e.Code, e.Message = errorDocument(r.Body)
	if e.Message == "" && p.endpointSetting != "" {
		e.Message = "the answer is not the API's JSON; is " + p.endpointSetting + " right?"
	}
	return e
}

// Ambiguous reports whether a request that is not safe to repeat may
// have been acted on by the server: it was fully written and no answer
// came (a reset, or the per-request limit fired), or the server answered
// 500, 502 or 504. The core does not repeat such a request; the caller
// decides (e.g. look the object up before creating it again).
func Ambiguous(err error) bool {
	var he *HTTPError
	var ce *ConnectionError
	var te *TimeoutError
	switch {
	case errors.As(err, &he):
		return he.Ambiguous
	case errors.As(err, &ce):
		return ce.Ambiguous
	case errors.As(err, &te):
		return te.Ambiguous
	}
	return false
}

// stripURL keeps a transport error's cause and drops the URL it may carry.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// NewHTTPClient is the client every platform shares in the provider: a
// pooled transport that names the provider in User-Agent. It sets no
// overall timeout: API calls get the per-request API limit, transfers the
// caller's deadline.
func NewHTTPClient(userAgent string) *http.Client {
	t := cleanhttp.DefaultPooledTransport()
	t.MaxIdleConnsPerHost = 16
	t.TLSHandshakeTimeout = 15 * time.Second
	t.ExpectContinueTimeout = time.Second
	return &http.Client{Transport: &userAgentTransport{next: t, ua: userAgent}}
}

type userAgentTransport struct {
	next http.RoundTripper
	ua   string
}

func (u *userAgentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", u.ua)
	}
	return u.next.RoundTrip(r)
}
