// Package openim is a client for the OpenIM server's object API form-data
// upload: object/initiate_form_data, a multipart/form-data POST straight to
// the storage (an S3 POST policy with the default MinIO backend), then
// object/complete_form_data.
package openim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// MaxFileSize is the largest object one form upload can carry (the S3
// POST Object limit of OpenIM's storage).
const MaxFileSize int64 = 5 << 30

// CheckObjectName applies OpenIM's object-name rules locally: a valid S3
// object name, not starting with "/", without empty, "." or ".." segments.
func CheckObjectName(name string) error {
	switch {
	case name == "":
		return errors.New("the object name is empty")
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("object name %q starts with /; OpenIM names are relative, e.g. audiences/list.csv", name)
	case len(name) > 1024:
		return fmt.Errorf("object name is %d bytes long; OpenIM (S3) allows at most 1024", len(name))
	case !utf8.ValidString(name):
		return fmt.Errorf("object name %q is not valid UTF-8", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("object name %q has an empty, \".\" or \"..\" path segment; use names like dir/file.csv", name)
		}
	}
	return nil
}

// Client talks to one OpenIM server's API.
type Client struct {
	Endpoint string // API address, e.g. http://host:10002
	Token    string // admin token; sent only to the API, never to the storage
	// NewOperationID returns the operationID header of one request. It must
	// differ for every request; the default is a timestamp and a random
	// suffix.
	NewOperationID func() string
	http           *transfer.Platform
}

// New returns a client of the OpenIM API at endpoint.
func New(endpoint, token string, o transfer.Options) *Client {
	return &Client{Endpoint: endpoint, Token: token, http: transfer.NewPlatform("OpenIM", o)}
}

// APIError is a body-level API failure: errCode != 0 (under HTTP 200).
type APIError struct {
	Op   string // e.g. "object/initiate_form_data"
	Code int
	Msg  string
	Dlt  string
}

func (e *APIError) Error() string {
	return transfer.Describe(fmt.Sprintf("OpenIM %s failed: errCode %d", e.Op, e.Code), e.Msg, e.Dlt, e.hint())
}

func (e *APIError) hint() string {
	switch {
	case e.Code >= 1501 && e.Code <= 1507:
		return "the token was refused: set openim.token (OPENIM_TOKEN) to a current admin token of this OpenIM server"
	case e.Code == 1002:
		return "the token's user may not upload this object; non-admin users must name objects <userID>/..."
	case e.Code == 1001:
		return "the server rejected the request's arguments; check the object's name, content type and group"
	case e.Code == 90007:
		return "the stored object does not match the file; the file may have changed during the upload: upload it again"
	case e.Code == 500:
		return e.storageHint()
	}
	return ""
}

// storageHint explains errCode 500, which OpenIM answers for any error
// without a code of its own (openimsdk/tools apiresp/resp.go ParseError:
// ServerInternalError with the error as errDlt). On these two calls it is
// the object storage speaking, and sending the same call again cannot
// help, so the client does not retry it (no body-level retry is declared
// for OpenIM calls; see call).
func (e *APIError) storageHint() string {
	switch e.Op {
	case opInitiate:
		// The AWS backend has no form upload: openimsdk/tools s3/aws/aws.go
		// FormData returns "aws does not currently support form data file
		// uploads"; MinIO, COS and OSS build a form (s3/minio, s3/cos,
		// s3/oss FormData).
		return "this OpenIM server's object storage cannot take form uploads (its AWS S3 backend has none), so trying again will not help: " +
			"ask the OpenIM server's administrator to switch its object storage (object.enable in openim-rpc-third.yml) to MinIO (the default), COS or OSS"
	case opComplete:
		// complete_form_data stats the object and passes the storage's
		// error on (open-im-server internal/rpc/third/s3.go
		// CompleteFormData): most often the object is not there.
		return "the storage does not hold the uploaded object (it was not stored, or the storage could not be read), so it was not confirmed: upload the file again"
	}
	return "the server failed internally; try again later"
}

// FormUpload is what initiate_form_data answers: how to upload the file.
type FormUpload struct {
	ID     string
	URL    string      // the storage's form target; carries no secret but is redacted anyway
	File   string      // name of the file field
	Header http.Header // headers to send with the form POST
	// FormData are the fields to send unchanged, in the server's order.
	FormData     []transfer.FormField
	Expires      time.Time
	SuccessCodes []int
}

func (c *Client) operationID() string {
	if c.NewOperationID != nil {
		return c.NewOperationID()
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return strconv.FormatInt(c.http.Now().UnixMilli(), 10) + "-" + hex.EncodeToString(b)
}

// call POSTs a JSON body to an API path and reads the answer into out
// (see wire.go); dup is what a second copy costs.
func (c *Client) call(ctx context.Context, op string, dup transfer.Duplicate, body any, out transfer.AnswerReader) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("token", c.Token)
	// operationID is unique per request, a resent one included; the last
	// one sent names the answered request in the server's log.
	var opID string
	newID := func(h http.Header) {
		opID = c.operationID()
		h.Set("operationID", opID)
		c.http.Log().Debug(ctx, "OpenIM API call", map[string]any{"op": op, "operationID": opID})
	}
	resp, err := c.http.Call(ctx, transfer.APIRequest{Method: http.MethodPost, URL: strings.TrimRight(c.Endpoint, "/") + "/" + op, Header: h, Body: raw, EachAttempt: newID, Duplicate: dup})
	if err != nil {
		return err
	}
	a := transfer.ParseAnswer(resp.Body)
	if a == nil {
		return c.http.StatusError(resp)
	}
	env := readEnvelope(a)
	if env.Code != 0 {
		return &APIError{Op: op, Code: int(env.Code), Msg: env.Msg, Dlt: env.Dlt}
	}
	if resp.Status != http.StatusOK {
		return c.http.StatusError(resp)
	}
	missing := ""
	if out != nil {
		missing = out.ReadAnswer(a)
	}
	// Without errCode, readable data still says the call succeeded.
	if !env.HasCode && (out == nil || missing != "") {
		missing = strings.TrimSuffix("errCode or "+missing, " or ")
	}
	if missing != "" {
		id := "operationID " + opID
		if rid := transfer.RequestID(resp.Header); rid != "" {
			id += ", " + rid
		}
		return transfer.NewShapeError("OpenIM", op, resp.Status, id, missing, resp.Body)
	}
	return nil
}

// InitiateFormData asks for an upload form for one object.
func (c *Client) InitiateFormData(ctx context.Context, in InitiateRequest) (*FormUpload, error) {
	var d initiateAnswer
	// A second initiate_form_data after a lost answer is an upload session
	// nobody posts to, which expires.
	if err := c.call(ctx, opInitiate, transfer.DuplicateHarmless, in, &d); err != nil {
		return nil, err
	}
	return &d.FormUpload, nil
}

// PostForm uploads the file to the storage with the form: every header
// entry, every formData pair unchanged, then the file last in the field the
// server named. Success is one of successCodes (any 2xx when none given).
func (c *Client) PostForm(ctx context.Context, fu *FormUpload, f *transfer.File, fileName, contentType string) error {
	if !fu.Expires.IsZero() && !c.http.Now().Before(fu.Expires) {
		return fmt.Errorf("OpenIM upload form for %s expired at %s before the upload started; try again", fileName, fu.Expires.UTC().Format(time.RFC3339))
	}
	_, err := c.http.PostForm(ctx, transfer.FormPost{
		URL:             fu.URL,
		Header:          fu.Header,
		Fields:          fu.FormData,
		FileField:       fu.File,
		FileName:        fileName,
		FileContentType: contentType,
		File:            f,
		Label:           "OpenIM upload " + fileName,
		SuccessCodes:    fu.SuccessCodes,
	})
	if err != nil {
		var se *transfer.HTTPError
		if errors.As(err, &se) && se.Expired() {
			return fmt.Errorf("OpenIM form upload of %s: %w (the form expired; try again)", fileName, err)
		}
		return fmt.Errorf("OpenIM form upload of %s: %w", fileName, err)
	}
	return nil
}

// CompleteFormData confirms an upload and returns the object's URL.
func (c *Client) CompleteFormData(ctx context.Context, id string) (string, error) {
	var d completeAnswer
	// A second complete_form_data confirms the same object under the same
	// name.
	if err := c.call(ctx, opComplete, transfer.DuplicateHarmless, completeRequest{ID: id}, &d); err != nil {
		return "", err
	}
	return d.URL, nil
}

// UploadInput describes one object upload.
type UploadInput struct {
	Path        string // local file
	MD5         string // planned md5 (lowercase hex); the upload fails if the bytes differ
	Name        string // object name
	ContentType string // default: guessed from Name's extension
	Group       string
}

// UploadResult is a confirmed upload.
type UploadResult struct {
	ID   string // the upload's id from initiate_form_data
	URL  string // the object's address from complete_form_data
	MD5  string
	Size int64
}

// Upload runs the whole flow: initiate, form POST, complete.
func (c *Client) Upload(ctx context.Context, in UploadInput) (*UploadResult, error) {
	f, err := transfer.OpenFile(in.Path, in.MD5)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", in.Path, err)
	}
	defer f.Close()
	ct := in.ContentType
	if ct == "" {
		ct = GuessContentType(in.Name)
	}
	fu, err := c.InitiateFormData(ctx, InitiateRequest{Name: in.Name, Size: f.Size, ContentType: ct, Group: in.Group})
	if err != nil {
		return nil, err
	}
	if err := c.PostForm(ctx, fu, f, path.Base(in.Name), ct); err != nil {
		return nil, err
	}
	// Confirm only what was planned: a file changed since plan is not
	// registered with the server.
	if err := f.Verify(); err != nil {
		return nil, err
	}
	u, err := c.CompleteFormData(ctx, fu.ID)
	if err != nil {
		return nil, err
	}
	return &UploadResult{ID: fu.ID, URL: u, MD5: f.SentMD5(), Size: f.Size}, nil
}

// knownTypes fixes the guesses for common audience and media files, so
// they do not depend on the machine's mime.types.
var knownTypes = map[string]string{
	".csv":  "text/csv",
	".txt":  "text/plain",
	".json": "application/json",
	".gz":   "application/gzip",
	".zip":  "application/zip",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".webp": "image/webp",
	".mp4":  "video/mp4",
	".pdf":  "application/pdf",
}

// GuessContentType guesses a MIME type from a name's extension, falling
// back to application/octet-stream.
func GuessContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := knownTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" && ext != "" {
		return t
	}
	return "application/octet-stream"
}
