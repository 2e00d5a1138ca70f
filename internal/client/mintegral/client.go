// Package mintegral is a client for the Mintegral Open API's audience file
// upload: token auth, presigned upload information, and the upload itself
// to S3 (area 1) or Aliyun OSS (area 2).
package mintegral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// DefaultEndpoint is the production Open API host.
const DefaultEndpoint = "https://ss-api.mintegral.com"

// Area types: where the audience data is stored.
const (
	AreaOutsideMainlandChina = 1 // AWS S3, presigned PUT
	AreaMainlandChina        = 2 // Aliyun OSS, form POST
)

// MaxFileSize is Mintegral's limit for one audience file (5 GB).
const MaxFileSize int64 = 5 << 30

// Client talks to the Mintegral Open API.
type Client struct {
	Endpoint  string
	AccessKey string
	APIKey    string
	// ReadAhead, if set, answers audience reads from a listing of the
	// account taken once per run (see ReadAhead).
	ReadAhead *ReadAhead
	// http carries every request; its clock signs the timestamp header
	// and checks TTLs.
	http *transfer.Platform
}

// New returns a client of the Open API at endpoint.
func New(endpoint, accessKey, apiKey string, o transfer.Options) *Client {
	return &Client{Endpoint: endpoint, AccessKey: accessKey, APIKey: apiKey, http: transfer.NewPlatform("Mintegral", o)}
}

// APIError is a body-level Open API failure (code != 200).
type APIError struct {
	Code    int
	Message string
	// sent is what the refused request carried that Mintegral's rules are
	// unsettled about (area_type, device_type numbers), for the hint.
	sent *sentRequest
}

// sentRequest is the part of a refused request the hint explains.
type sentRequest struct {
	area  int
	files []wireFile
}

// withSent records what a refused request sent on err when it is an
// *APIError; area 0 means the request carried none.
func withSent(err error, area int, files []wireFile) error {
	var e *APIError
	if errors.As(err, &e) {
		e.sent = &sentRequest{area: area, files: files}
	}
	return err
}

func (e *APIError) Error() string {
	return transfer.Describe(fmt.Sprintf("Mintegral API error %d", e.Code), "", e.Message, e.hint())
}

func (e *APIError) hint() string {
	m := e.complaint()
	switch {
	case e.DataPathRejected():
		return "Mintegral does not know that data_path for this account and area, or its upload never completed: upload the file again for a new data_path"
	case e.DeviceTypeRejected() && e.sent != nil && len(e.sent.files) > 0:
		return e.deviceTypeHint()
	case e.AreaRejected() && e.sent != nil && e.sent.area == AreaMainlandChina:
		// helpcenter.mintegral.com/en/docs/upload-audience-package-file
		// (as read in 2026) documents area 1 only; the Open API page
		// still lists 2 (Aliyun OSS).
		return "area_type 2 (mainland China, Aliyun OSS) was sent; Mintegral's current help center lists only area_type 1 (outside mainland China). " +
			"Use area_type 1 (the default), or ask Mintegral whether your account can store audiences in mainland China"
	case strings.Contains(m, "timestamp"):
		return "the request timestamp was rejected: check this machine's clock"
	case strings.Contains(m, "token"), strings.Contains(m, "access-key"), strings.Contains(m, "access key"):
		return "check mintegral.access_key and mintegral.api_key (MINTEGRAL_ACCESS_KEY, MINTEGRAL_API_KEY)"
	}
	return ""
}

var quotedOrURL = regexp.MustCompile(`"[^"]*"|[a-z0-9]+://\S+`)

// complaint is the message without quoted values and URLs, lower case:
// those are the request's own data (a data_path holds the access key and
// may hold any word), not words of the platform's complaint.
func (e *APIError) complaint() string {
	return strings.ToLower(quotedOrURL.ReplaceAllString(e.Message, ""))
}

// DataPathRejected reports whether Mintegral refused an audience's file
// by its data_path (unknown to it, from the other area, or never
// uploaded), as opposed to the request's credentials or other fields.
func (e *APIError) DataPathRejected() bool {
	m := e.complaint()
	return strings.Contains(m, "data_path") && (strings.Contains(m, "upload") || strings.Contains(m, "not returned") || strings.Contains(m, "area_type"))
}

// DeviceTypeRejected reports whether Mintegral refused a device_type
// number of the request.
func (e *APIError) DeviceTypeRejected() bool {
	m := e.complaint()
	return !e.DataPathRejected() && (strings.Contains(m, "device_type") || strings.Contains(m, "device type"))
}

// AreaRejected reports whether Mintegral refused the request's area_type
// itself (not a data_path of the other area).
func (e *APIError) AreaRejected() bool {
	m := e.complaint()
	return !e.DataPathRejected() && (strings.Contains(m, "area_type") || strings.Contains(m, "area type"))
}

// IDFVRefused reports whether a refused device_type may be the unsettled
// IDFV numbering: the request sent IDFV or IDFV_MD5.
func (e *APIError) IDFVRefused() bool {
	return e.DeviceTypeRejected() && e.sent != nil && slices.ContainsFunc(e.sent.files, func(f wireFile) bool { return isIDFV(f.DeviceType) })
}

// deviceTypeHint says which number was sent for which name, and why.
func (e *APIError) deviceTypeHint() string {
	var pairs []string
	for _, f := range e.sent.files {
		p := fmt.Sprintf("%d for %s", f.DeviceType, DeviceTypeName(f.DeviceType))
		if !slices.Contains(pairs, p) {
			pairs = append(pairs, p)
		}
	}
	msg := "device_type was sent as " + strings.Join(pairs, ", ") + ", the numbers of Mintegral's official device type table"
	if e.IDFVRefused() {
		msg += fmt.Sprintf("; every official page (Create and List Audience API) numbers IDFV %d and IDFV_MD5 %d, a newer, unofficial reading says %d and %d. "+
			"If your account refuses %d/%d, it follows that newer reading",
			idfvCodes.official, idfvCodes.official+1, idfvCodes.newer, idfvCodes.newer+1, idfvCodes.official, idfvCodes.official+1)
	}
	return msg
}

// UploadInfo is the presigned upload information for one file.
type UploadInfo struct {
	AreaType int
	FileName string
	FileMD5  string
	TTL      int // seconds from Received
	S3       *S3Info
	OSS      *OSSInfo
	Received time.Time
}

// S3Info is how to upload to S3 (area 1).
type S3Info struct {
	Method   string
	URL      string
	DataPath string
}

// OSSInfo is how to upload to Aliyun OSS (area 2).
type OSSInfo struct {
	Method    string
	AccessID  string
	Host      string
	Expire    int64 // unix seconds
	Signature string
	Policy    string
	Dir       string
	DataPath  string
}

// DataPath is the handle to pass to Create Audience.
func (u *UploadInfo) DataPath() string {
	if u.S3 != nil {
		return u.S3.DataPath
	}
	if u.OSS != nil {
		return u.OSS.DataPath
	}
	return ""
}

// usable reports whether the info can still be used at now, keeping a
// margin so an upload does not start on information about to expire.
func (u *UploadInfo) usable(now time.Time) bool {
	if u.TTL <= 0 {
		return true
	}
	margin := time.Duration(u.TTL) * time.Second / 10
	if margin > 30*time.Second {
		margin = 30 * time.Second
	}
	if !now.Before(u.Received.Add(time.Duration(u.TTL)*time.Second - margin)) {
		return false
	}
	if u.OSS != nil && u.OSS.Expire > 0 && !now.Before(time.Unix(u.OSS.Expire, 0).Add(-margin)) {
		return false
	}
	return true
}

// call sends one Open API request: the token headers, a JSON body when
// body is not nil, and the envelope's data read into out (which may be
// nil); dup is what a second copy costs. A body-level failure is an
// *APIError; a success whose answer the client cannot read is a
// *transfer.ShapeError.
func (c *Client) call(ctx context.Context, method, path string, dup transfer.Duplicate, query url.Values, body any, out transfer.AnswerReader) error {
	u := strings.TrimRight(c.Endpoint, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	ts := strconv.FormatInt(c.http.Now().Unix(), 10)
	h := http.Header{}
	h.Set(headerAccessKey, c.AccessKey)
	h.Set(headerTimestamp, ts)
	h.Set(headerToken, Token(c.APIKey, ts))
	h.Set("Accept", "application/json")
	req := transfer.APIRequest{Method: method, URL: u, Header: h, Duplicate: dup, RateLimited: rateLimited}
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		req.Body = raw
		h.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Call(ctx, req)
	if err != nil {
		return err
	}
	op := method + " " + path // the query may hold names the user chose
	env, isObject, ok := readEnvelope(resp.Body)
	success := resp.Status >= 200 && resp.Status < 300
	switch {
	case !ok && isObject && success:
		return transfer.NewShapeError(platformName, op, resp.Status, transfer.RequestID(resp.Header), "code", resp.Body)
	case !ok:
		return c.http.StatusError(resp)
	case env.Code != codeOK:
		return &APIError{Code: env.Code, Message: env.Msg}
	case out == nil:
		return nil
	}
	if m := out.ReadAnswer(env.Data); m != "" {
		return transfer.NewShapeError(platformName, op, resp.Status, transfer.RequestID(resp.Header), m, resp.Body)
	}
	return nil
}

// PresignedUploadData asks for upload information for a file.
func (c *Client) PresignedUploadData(ctx context.Context, areaType int, fileName, fileMD5 string) (*UploadInfo, error) {
	q := url.Values{}
	q.Set(paramAreaType, strconv.Itoa(areaType))
	q.Set(paramFileName, fileName)
	q.Set(paramFileMD5, fileMD5)
	ans := presignAnswer{area: areaType}
	asked := c.http.Now() // the ttl runs from when the information was issued
	// A second copy only issues upload information nobody uses.
	if err := c.call(ctx, http.MethodGet, pathPresign, transfer.DuplicateHarmless, q, nil, &ans); err != nil {
		return nil, withSent(err, areaType, nil)
	}
	ans.info.Received = asked
	return &ans.info, nil
}

// UploadRequest describes one audience file upload.
type UploadRequest struct {
	Path     string // local file
	FileName string // name sent to Mintegral
	AreaType int
	// FileMD5 is the md5 (lowercase hex) recorded at plan time. The upload
	// fails if the bytes sent hash differently.
	FileMD5 string
}

// UploadResult is the outcome of an upload.
type UploadResult struct {
	DataPath string
	FileMD5  string
	FileSize int64
}

// Upload asks for presigned information and streams the file to storage.
// Information that expired before the upload started is requested again.
func (c *Client) Upload(ctx context.Context, r UploadRequest) (*UploadResult, error) {
	file, err := transfer.OpenFile(r.Path, r.FileMD5)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	log := c.http.Log()

	// Presigned information is short-lived: it is checked right before the
	// upload starts, and asked for again if it expired or if storage says
	// it expired in flight.
	var info *UploadInfo
	err = errors.New("presigned upload information kept expiring before the upload could start; check this machine's clock")
	for attempt := 1; attempt <= 3; attempt++ {
		if info == nil {
			info, err = c.PresignedUploadData(ctx, r.AreaType, r.FileName, r.FileMD5)
			if err != nil {
				return nil, err
			}
			log.Debug(ctx, "received presigned upload information", map[string]any{"data_path": info.DataPath(), "ttl": info.TTL})
		}
		if !info.usable(c.http.Now()) {
			log.Info(ctx, "presigned upload information expired before the upload started; requesting it again", nil)
			info, err = nil, errors.New("presigned upload information expired before the upload started")
			continue
		}
		err = c.send(ctx, info, file, r.FileName)
		var se *transfer.HTTPError
		if errors.As(err, &se) && se.Expired() {
			log.Info(ctx, "storage says the presigned upload information expired; requesting it again", nil)
			info = nil
			continue
		}
		break
	}
	if err != nil {
		// A storage-side digest mismatch is most often a file edited since
		// plan; say that first when it is the case.
		if verr := file.Verify(); verr != nil && errors.Is(verr, transfer.ErrContentChanged) {
			return nil, verr
		}
		return nil, err
	}
	if err := file.Verify(); err != nil {
		return nil, err
	}
	return &UploadResult{DataPath: info.DataPath(), FileMD5: file.SentMD5(), FileSize: file.Size}, nil
}

func (c *Client) send(ctx context.Context, info *UploadInfo, file *transfer.File, fileName string) error {
	label := "Mintegral upload of " + fileName
	if info.S3 != nil {
		// Exactly like `curl -X PUT -T file url`: body and Content-Length
		// only; credentials never go to the storage URL.
		_, err := c.http.Put(ctx, transfer.PutRequest{
			Method: info.S3.Method,
			URL:    info.S3.URL,
			File:   file,
			Label:  label,
		})
		return err
	}
	o := info.OSS
	method := strings.ToUpper(o.Method)
	if method != "" && method != http.MethodPost {
		return fmt.Errorf("mintegral: unsupported OSS upload method %q", o.Method)
	}
	_, err := c.http.PostForm(ctx, transfer.FormPost{
		URL: o.Host,
		Fields: []transfer.FormField{
			{Name: "key", Value: o.Dir},
			{Name: "OSSAccessKeyId", Value: o.AccessID},
			{Name: "policy", Value: o.Policy},
			{Name: "signature", Value: o.Signature},
			{Name: "success_action_status", Value: "200"},
		},
		// OSS ignores every field after the file, so it goes last.
		FileField: "file",
		FileName:  fileName,
		File:      file,
		Label:     label,
	})
	return err
}
