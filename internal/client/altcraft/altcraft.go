// Package altcraft is a client for the profile export of the Altcraft
// platform API v1.1: start an export task (profiles/get_all), poll it
// (tasks/status) and download its result files. It knows HTTP and the
// platform, nothing of Terraform.
//
// The API token travels in the JSON body of API calls and in an
// Authorization: Bearer header for downloads; an older panel that refuses
// the header gets it as ?token= on its own host. It never appears in a
// log line or an error.
package altcraft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Client talks to one Altcraft panel.
type Client struct {
	panel *url.URL // e.g. https://example.com, no trailing slash
	token string
	http  *transfer.Platform
	log   transfer.Logger
	// urlToken: the panel refused the Authorization header on a download
	// and took ?token=, so later downloads send the token that way.
	urlToken atomic.Bool

	// PollInitial is the wait before the second status poll; it doubles up
	// to PollMax.
	PollInitial, PollMax time.Duration
}

// New returns a client for the panel at endpoint (the API is
// {endpoint}/api/v1.1).
func New(endpoint, token string, o transfer.Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("endpoint %q is not a panel URL like https://example.com", transfer.RedactURL(endpoint))
	}
	if token == "" {
		return nil, errors.New("the API token is empty")
	}
	p := transfer.NewPlatform("Altcraft", o)
	return &Client{panel: u, token: token, http: p, log: p.Log(), PollInitial: 200 * time.Millisecond, PollMax: 10 * time.Second}, nil
}

// APIError is a failure the API reported: a body-level `error` code other
// than 0 (even under HTTP 200), or an HTTP error without one.
type APIError struct {
	Method     string // e.g. "profiles/get_all"
	HTTPStatus int
	Code       int    // the body's `error`; 0 when the body had none
	Text       string // the body's `error_text`, or a short body
}

func (e *APIError) Error() string {
	if e.Code == 0 {
		return transfer.Describe(fmt.Sprintf("Altcraft %s failed: HTTP %d", e.Method, e.HTTPStatus), "", e.Text, e.Hint())
	}
	text := e.Text
	if e.HTTPStatus != http.StatusOK {
		text += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	return transfer.Describe(fmt.Sprintf("Altcraft %s failed: error %d", e.Method, e.Code), "", text, e.Hint())
}

// Hint says what the user can do about the error, when that is known.
func (e *APIError) Hint() string {
	switch {
	case e.Code == 401:
		return "check altcraft.token or the ALTCRAFT_TOKEN environment variable"
	case e.Code == 402:
		return "the account's tariff does not allow this request: check the plan in the Altcraft panel"
	case e.Code == 400 && e.Method == "profiles/get_all":
		return "check source_type, source_id, file_format and the custom_request fields against the panel"
	case e.Code == 0 && (e.HTTPStatus == http.StatusNotFound || e.HTTPStatus == http.StatusMethodNotAllowed):
		return "is altcraft.endpoint the panel URL, without /api/v1.1?"
	}
	return ""
}

// TaskFailedError is an export task that ended in failure.
type TaskFailedError struct {
	TaskID   string
	Status   string
	Progress int
	Errors   []string
}

func (e *TaskFailedError) Error() string {
	msg := fmt.Sprintf("Altcraft export task %s ended with status %q at %d%%", e.TaskID, e.Status, e.Progress)
	if len(e.Errors) > 0 {
		msg += ": " + strings.Join(e.Errors, "; ")
	} else {
		msg += " and reported no errors"
	}
	return msg
}

// TimeoutError is an export task still running when the context ended.
type TimeoutError struct {
	TaskID   string
	Status   string // last status seen; empty if no poll answered
	Progress int
	Elapsed  time.Duration
	Err      error // the context's error
}

func (e *TimeoutError) Error() string {
	last := "no status was received yet"
	if e.Status != "" {
		last = fmt.Sprintf("last status %q, progress %d%%", e.Status, e.Progress)
	}
	return fmt.Sprintf("Altcraft export task %s did not finish within %s (%s): %v", e.TaskID, e.Elapsed.Round(time.Second), last, e.Err)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// ExportRequest selects the profiles to export.
type ExportRequest struct {
	SourceType string // "database" or "segment"
	SourceID   int64
	FileFormat string // default "csv"
	// CustomRequest filters profiles by field: values are strings,
	// booleans or numbers (json.Number keeps a number exactly as written).
	CustomRequest map[string]any
}

// Task is the state of an export task.
type Task struct {
	ID       string
	Status   string
	Progress int
	// Set once the task has a result.
	Total    int64
	SourceID int64
	Type     string
	URLs     []string // as the API returned them, usually relative to the panel
	Errors   []string
}

// call posts a JSON request with the token in the body and reads a
// successful answer into out: liberally when out is one of wire.go's
// answers, else by decoding `data`; dup is what a second copy costs.
func (c *Client) call(ctx context.Context, method string, dup transfer.Duplicate, params map[string]any, out any) error {
	body := map[string]any{"token": c.token}
	for k, v := range params {
		body[k] = v
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("Altcraft %s: encode request: %w", method, err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	resp, err := c.http.Call(ctx, transfer.APIRequest{
		Method: http.MethodPost, URL: c.panel.String() + "/api/v1.1/" + method, Header: h, Body: raw, Duplicate: dup,
	})
	if err != nil {
		return err
	}
	a := transfer.ParseAnswer(resp.Body)
	env := readEnvelope(a)
	if a != nil && env.Code != 0 {
		return &APIError{Method: method, HTTPStatus: resp.Status, Code: int(env.Code), Text: env.Text}
	}
	if resp.Status != http.StatusOK {
		return &APIError{Method: method, HTTPStatus: resp.Status, Text: shortBody(resp.Body)}
	}
	if a == nil {
		return fmt.Errorf("Altcraft %s: HTTP %d with a body that is not the API's JSON (is altcraft.endpoint the panel URL?)", method, resp.Status)
	}
	missing := ""
	if w, ok := out.(transfer.AnswerReader); ok {
		missing = w.ReadAnswer(a)
	} else if raw, ok := a.Raw(spellData); !ok || json.Unmarshal(raw, out) != nil {
		missing = "data"
	}
	// Without an error code, readable data still says the call succeeded.
	if !env.HasCode && missing != "" {
		missing = "error or " + missing
	}
	if missing != "" {
		return transfer.NewShapeError("Altcraft", method, resp.Status, transfer.RequestID(resp.Header), missing, resp.Body)
	}
	return nil
}

// methodStartExport starts an export task.
const methodStartExport = "profiles/get_all"

func shortBody(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// StartExport creates an export task and returns its id.
func (c *Client) StartExport(ctx context.Context, r ExportRequest) (string, error) {
	params := map[string]any{"source_type": r.SourceType, "source_id": r.SourceID, "file_format": r.FileFormat}
	if r.FileFormat == "" {
		params["file_format"] = "csv"
	}
	if len(r.CustomRequest) > 0 {
		params["custom_request"] = r.CustomRequest
	}
	var data startAnswer
	// A second get_all after a lost answer starts an export task nobody
	// polls, which finishes on its own and costs nothing the user sees.
	if err := c.call(ctx, methodStartExport, transfer.DuplicateHarmless, params, &data); err != nil {
		return "", err
	}
	c.log.Info(ctx, "Altcraft export task started", map[string]any{"task_id": data.TaskID, "source_type": r.SourceType, "source_id": r.SourceID})
	return data.TaskID, nil
}

// Status polls a task once.
func (c *Client) Status(ctx context.Context, taskID string) (*Task, error) {
	var data statusAnswer
	// The status call only reads.
	if err := c.call(ctx, "tasks/status", transfer.DuplicateHarmless, map[string]any{"task_id": taskID}, &data); err != nil {
		return nil, err
	}
	t := &data.Task
	t.ID = taskID
	return t, nil
}

// Wait polls a task, backing off, until it completes or fails or ctx ends,
// logging its progress at INFO.
func (c *Client) Wait(ctx context.Context, taskID string) (*Task, error) {
	start := time.Now()
	wait := c.PollInitial
	last := &Task{ID: taskID}
	timeout := func(err error) error {
		return &TimeoutError{TaskID: taskID, Status: last.Status, Progress: last.Progress, Elapsed: time.Since(start), Err: err}
	}
	for {
		t, err := c.Status(ctx, taskID)
		if err != nil {
			if ctx.Err() != nil {
				return nil, timeout(ctx.Err())
			}
			return nil, err
		}
		last = t
		c.log.Info(ctx, "Altcraft export task in progress", map[string]any{"task_id": taskID, "status": t.Status, "progress": t.Progress, "elapsed": time.Since(start).Round(time.Millisecond).String()})
		switch {
		case oneOf(t.Status, doneStatuses):
			return t, nil
		case oneOf(t.Status, failedStatuses):
			return t, &TaskFailedError{TaskID: taskID, Status: t.Status, Progress: t.Progress, Errors: t.Errors}
		}
		if err := transfer.Sleep(ctx, wait); err != nil {
			return nil, timeout(err)
		}
		wait = min(2*wait, c.PollMax)
	}
}

func oneOf(s string, list []string) bool {
	for _, v := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// ResultURL locates a result URL: a path is relative to the panel; an
// absolute URL is used as is. It returns the URL to fetch, the URL to
// report (no query, no credentials) and whether the token may be sent
// there (only to the panel's own host).
func (c *Client) ResultURL(raw string) (fetch, report string, sendToken bool, err error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return "", "", false, fmt.Errorf("Altcraft returned a result URL that cannot be parsed: %q", transfer.RedactURL(raw))
	}
	if u.IsAbs() {
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", "", false, fmt.Errorf("Altcraft returned a result URL with scheme %q; only http and https can be downloaded", u.Scheme)
		}
		fetch = u.String()
		sendToken = u.Scheme == c.panel.Scheme && u.Host == c.panel.Host
	} else {
		// Join by string: the panel may sit under a path prefix, which
		// reference resolution of "/api/..." would drop.
		fetch = c.panel.String() + "/" + strings.TrimLeft(u.String(), "/")
		sendToken = true
	}
	return fetch, transfer.RedactURL(fetch), sendToken, nil
}

// File is one downloaded result file.
type File struct {
	URL    string // redacted: no query, no credentials
	Path   string
	Size   int64
	SHA256 string
	// Modified is when the panel wrote the result (its Last-Modified),
	// zero when it does not say.
	Modified time.Time
}

// DownloadFile streams one result URL to path (through a temporary file
// in the same directory, renamed when complete).
func (c *Client) DownloadFile(ctx context.Context, rawURL, path string) (*File, error) {
	fetch, report, sendToken, err := c.ResultURL(rawURL)
	if err != nil {
		return nil, err
	}
	req := transfer.DownloadRequest{URL: fetch, Header: http.Header{}, Path: path, Label: "Altcraft export download " + report}
	if sendToken && c.urlToken.Load() {
		if req.URL, err = withURLToken(fetch, c.token); err != nil {
			return nil, err
		}
	} else if sendToken {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	d, err := c.http.Download(ctx, req)
	if err != nil && sendToken && !c.urlToken.Load() && refused(err) {
		// Older panels take the token on downloads only as ?token= (the
		// seed's GET {panel}{url}?token=); newer ones take the header and
		// discourage the URL token (guides.altcraft.com developer-guide
		// "API interaction"). Only the panel's own host gets it: sendToken.
		c.log.Info(ctx, "Altcraft panel refused the Authorization header on a download; sending the token in the URL instead, as older panels require", map[string]any{"url": report})
		if req.URL, err = withURLToken(fetch, c.token); err != nil {
			return nil, err
		}
		req.Header = http.Header{}
		if d, err = c.http.Download(ctx, req); err == nil {
			c.urlToken.Store(true)
		} else if refused(err) {
			return nil, fmt.Errorf("%w (the panel refused the token both in the Authorization header and in the URL: check altcraft.token or the ALTCRAFT_TOKEN environment variable)", err)
		}
	}
	if err != nil {
		return nil, err
	}
	return &File{URL: report, Path: d.Path, Size: d.Size, SHA256: d.SHA256, Modified: d.Modified}, nil
}

// ResultGone reports a download the panel answered 404 or 410: the
// task's result is no longer served (panels delete old export files), so
// only a new export can give the files again.
func ResultGone(err error) bool {
	var he *transfer.HTTPError
	return errors.As(err, &he) && (he.Status == http.StatusNotFound || he.Status == http.StatusGone)
}

// refused reports a download the panel answered 401 or 403.
func refused(err error) bool {
	var he *transfer.HTTPError
	return errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden)
}

// withURLToken adds ?token= to a download URL of the panel. The URL is
// never logged or reported as is: the transfer layer redacts its query.
func withURLToken(fetch, token string) (string, error) {
	u, err := url.Parse(fetch)
	if err != nil {
		return "", fmt.Errorf("Altcraft result URL %s cannot be parsed", transfer.RedactURL(fetch))
	}
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// fileName is the local name for a result URL: its last path segment.
func fileName(fetch string) (string, error) {
	u, err := url.Parse(fetch)
	if err != nil {
		return "", err
	}
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("Altcraft returned a result URL without a usable file name: %s", transfer.RedactURL(fetch))
	}
	return name, nil
}

// DownloadAll streams every result URL of a task into dir (created if
// missing), each file named after its URL's last path segment; a name
// already taken by an earlier URL of the same task gets a _2, _3... suffix.
func (c *Client) DownloadAll(ctx context.Context, t *Task, dir string) ([]File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	taken := map[string]bool{}
	files := make([]File, 0, len(t.URLs))
	for _, raw := range t.URLs {
		fetch, _, _, err := c.ResultURL(raw)
		if err != nil {
			return nil, err
		}
		name, err := fileName(fetch)
		if err != nil {
			return nil, err
		}
		ext := filepath.Ext(name)
		stem := strings.TrimSuffix(name, ext)
		for n := 2; taken[name]; n++ {
			name = fmt.Sprintf("%s_%d%s", stem, n, ext)
		}
		taken[name] = true
		f, err := c.DownloadFile(ctx, raw, filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		files = append(files, *f)
	}
	return files, nil
}

// Result is a finished export.
type Result struct {
	Task  *Task
	URLs  []string // absolute, redacted: no query, no credentials
	Files []File   // only when an output directory was given
}

// Export runs the whole flow: start the task, wait for it, and, when
// outputDir is not empty, download every result file there.
func (c *Client) Export(ctx context.Context, r ExportRequest, outputDir string) (*Result, error) {
	id, err := c.StartExport(ctx, r)
	if err != nil {
		return nil, err
	}
	t, err := c.Wait(ctx, id)
	if err != nil {
		return nil, err
	}
	res := &Result{Task: t, URLs: make([]string, 0, len(t.URLs))}
	for _, raw := range t.URLs {
		_, report, _, err := c.ResultURL(raw)
		if err != nil {
			return nil, err
		}
		res.URLs = append(res.URLs, report)
	}
	if outputDir != "" {
		if res.Files, err = c.DownloadAll(ctx, t, outputDir); err != nil {
			return nil, err
		}
	}
	c.log.Info(ctx, "Altcraft export finished", map[string]any{"task_id": id, "total": t.Total, "urls": len(res.URLs), "files": len(res.Files)})
	return res, nil
}
