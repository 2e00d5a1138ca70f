// Package tpns is a client for Tencent Cloud TPNS's account package upload
// API: HTTP Basic auth, a direct multipart/form-data upload streamed from
// disk, and the body-level retCode/errMsg answers.
package tpns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// DefaultRegion is the service access point used when none is given.
const DefaultRegion = "guangzhou"

// RegionEndpoints maps each service access point to its API host. Data is
// isolated per access point: an application exists only in its own.
var RegionEndpoints = map[string]string{
	"guangzhou": "https://api.tpns.tencent.com",
	"shanghai":  "https://api.tpns.sh.tencent.com",
	"hongkong":  "https://api.tpns.hk.tencent.com",
	"singapore": "https://api.tpns.sgp.tencent.com",
}

// UploadPath is the account package upload API, relative to the endpoint.
const UploadPath = "/v3/push/package/upload"

// Body-level codes (retCode) the API answers with.
const (
	CodeOK           = 0
	CodeParseError   = 1008001
	CodeMissingParam = 1008002
	CodeAuthFailed   = 1008003
	CodeInternal     = 1008004
	CodeInvalidParam = 1008007
	CodeUploadFailed = 1008011
	CodeEmptyFile    = 1008012
	CodeRateLimited  = 1008028
	CodeKeyMismatch  = 10030002
)

// Regions lists the known service access points, sorted.
func Regions() []string {
	out := make([]string, 0, len(RegionEndpoints))
	for r := range RegionEndpoints {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// EndpointFor returns the API host of a service access point ("" means
// DefaultRegion).
func EndpointFor(region string) (string, error) {
	if region == "" {
		region = DefaultRegion
	}
	ep, ok := RegionEndpoints[region]
	if !ok {
		return "", fmt.Errorf("unknown TPNS region %q; use one of %s", region, strings.Join(Regions(), ", "))
	}
	return ep, nil
}

// Client uploads packages to one TPNS application.
type Client struct {
	Endpoint  string // API base URL, e.g. https://api.tpns.tencent.com
	AccessID  string
	SecretKey string
	http      *transfer.Platform
}

// New returns a client of the TPNS API at endpoint.
func New(endpoint, accessID, secretKey string, o transfer.Options) *Client {
	return &Client{Endpoint: endpoint, AccessID: accessID, SecretKey: secretKey, http: transfer.NewPlatform("TPNS", o)}
}

// APIError is an answer with retCode != 0.
type APIError struct {
	Status  int // HTTP status
	RetCode int
	ErrMsg  string
}

func (e *APIError) Error() string {
	return transfer.Describe(fmt.Sprintf("TPNS retCode %d", e.RetCode), "", e.ErrMsg, Explain(e.RetCode))
}

// Explain says what a retCode means and what to do about it; "" for codes
// the documentation does not list.
func Explain(code int) string {
	switch code {
	case CodeParseError:
		return "parameter parse error: the request body could not be parsed"
	case CodeMissingParam:
		return "missing parameter: the request lacked the file or a required header"
	case CodeAuthFailed:
		return "authentication failed: check tpns.access_id and tpns.secret_key (TPNS_ACCESS_ID, TPNS_SECRET_KEY), and that tpns.region is the application's service access point"
	case CodeInternal:
		return "TPNS internal error: try again later"
	case CodeInvalidParam:
		return "invalid parameter: the package breaks a TPNS rule"
	case CodeUploadFailed:
		return "file upload failed: try again"
	case CodeEmptyFile:
		return "the uploaded file is empty"
	case CodeRateLimited:
		return "rate limit exceeded: wait a moment and try again"
	case CodeKeyMismatch:
		return "AccessID and secret key do not match: check tpns.secret_key (TPNS_SECRET_KEY) belongs to tpns.access_id (TPNS_ACCESS_ID)"
	}
	return ""
}

// retryable reports body-level failures worth sending the file again
// for: TPNS says it did not take the package.
func retryable(_ int, body []byte) bool {
	var a answer
	if json.Unmarshal(body, &a) != nil || a.RetCode == nil {
		return false
	}
	return *a.RetCode == CodeRateLimited || *a.RetCode == CodeInternal
}

// UploadRequest describes one package upload.
type UploadRequest struct {
	Path     string // local file
	FileName string // name sent to TPNS; its extension tells TPNS the format
	// FileMD5 is the md5 (lowercase hex) recorded at plan time; the upload
	// fails if the bytes sent hash differently.
	FileMD5 string
}

// UploadResult is the outcome of an upload.
type UploadResult struct {
	UploadID int64
	FileMD5  string
	FileSize int64
}

// answer is the API's JSON response.
type answer struct {
	RetCode  *int   `json:"retCode"`
	ErrMsg   string `json:"errMsg"`
	UploadID int64  `json:"uploadId"`
}

func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".zip":
		return "application/zip"
	case ".csv":
		return "text/csv"
	}
	return "text/plain"
}

// BasicAuth is the Authorization header value: Basic base64(AccessID:SecretKey).
func BasicAuth(accessID, secretKey string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(accessID+":"+secretKey))
}

// UploadPackage streams the file as the multipart field "file" with a
// fixed Content-Length and returns TPNS's upload id.
func (c *Client) UploadPackage(ctx context.Context, r UploadRequest) (*UploadResult, error) {
	file, err := transfer.OpenFile(r.Path, r.FileMD5)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	u := strings.TrimRight(c.Endpoint, "/") + UploadPath
	// The header carries the secret: it is never logged (transfer logs
	// only the redacted URL) and never part of an error.
	header := http.Header{}
	header.Set("Authorization", BasicAuth(c.AccessID, c.SecretKey))
	header.Set("Accept", "application/json")
	log := c.http.Log()
	log.Info(ctx, "uploading package to TPNS", map[string]any{"endpoint": transfer.RedactURL(c.Endpoint), "file_name": r.FileName, "size": file.Size})
	res, err := c.http.PostForm(ctx, transfer.FormPost{
		URL:             u,
		Header:          header,
		FileField:       "file",
		FileName:        r.FileName,
		FileContentType: contentType(r.FileName),
		File:            file,
		Label:           "TPNS upload of " + r.FileName,
		SuccessCodes:    transfer.AnsweredStatuses,
		ToAPI:           true,
		// A second copy of a package is harmless: TPNS has no list of
		// packages, and an uploadId nothing pushes to costs nothing. So an
		// upload whose answer was lost (a dropped connection, a 502) is
		// sent again rather than failing the apply.
		Duplicate: transfer.DuplicateHarmless,
		RetryIf:   retryable,
	})
	if err != nil {
		return nil, err
	}
	var a answer
	if jerr := json.Unmarshal(res.Body, &a); jerr != nil || a.RetCode == nil {
		return nil, fmt.Errorf("TPNS API: POST %s: HTTP %d with a body that is not the TPNS API's JSON (is tpns.endpoint right?)", transfer.RedactURL(u), res.Status)
	}
	if *a.RetCode != CodeOK {
		return nil, &APIError{Status: res.Status, RetCode: *a.RetCode, ErrMsg: a.ErrMsg}
	}
	// The reader withheld the last byte had the content changed, so TPNS
	// only ever sees the planned bytes; this is a last size check.
	if err := file.Verify(); err != nil {
		return nil, err
	}
	if a.UploadID <= 0 {
		return nil, fmt.Errorf("TPNS API: POST %s: TPNS reported success without an upload id", transfer.RedactURL(u))
	}
	log.Info(ctx, "TPNS accepted the package", map[string]any{"upload_id": a.UploadID, "file_name": r.FileName})
	return &UploadResult{UploadID: a.UploadID, FileMD5: file.SentMD5(), FileSize: file.Size}, nil
}
